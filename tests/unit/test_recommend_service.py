"""The recommendation service on fakes: a customer's ranked, filtered, named products and a
product's related and complementary ones (domain/recommend/service.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.domain.errors import BadRequest, NotFound
from chalicelib.domain.recommend.placements import Placement, RecommendationSettingsIn
from tests.unit.recommend_world import SHOP, WS, product, stocked, world


def ids(found) -> list[str]:
    return [p.product_id for p in found]


def reader():
    """A reader who bought vol-1 forty days ago and coffee (every 10 days) ten days ago."""
    w = stocked(world())
    w.customer("c1", (40, ["vol-1"]), (10, ["coffee"]))
    return w


def unfiltered() -> list[str]:
    """The reader's products with every filter passing: the order a filter must keep."""
    return ids(reader().service.for_customer(WS, "c1", limit=10))


def test_a_customer_gets_the_ranked_products_named_with_their_reasons():
    # Given a reader of vol-1 whose coffee is due again
    w = reader()
    # When asked for their recommendations
    found = w.service.for_customer(WS, "c1", limit=10)
    # Then coffee (due) and vol-2 (bought next) lead, then the accessory; the similar volume and
    # the popular follow in the order the ranking's weights give them (tests/unit/test_recommend_*)
    assert ids(found)[:3] == ["coffee", "vol-2", "bookmark"]
    assert sorted(ids(found)[3:]) == ["beans", "mug", "vol-3"]
    assert [p.score for p in found] == sorted((p.score for p in found), reverse=True)
    by_id = {p.product_id: p for p in found}
    # And each reason is worded with the catalogue's title of the product it speaks of
    assert by_id["vol-2"].reason_text == "usually bought 20 days after Volume One"
    assert by_id["bookmark"].reason_text == "bought together with Volume One"
    assert by_id["vol-3"].reason_text == "customers who bought Volume One also bought it"
    assert by_id["coffee"].reason_text == "due again (usually every 10 days)"
    assert by_id["beans"].reason_text == "popular in grocery"
    # And the catalogue's title, page, picture and price come with each
    shown = by_id["vol-2"]
    assert (shown.title, shown.url, shown.image, shown.source_id) == (
        "Volume Two",
        "https://shop.example/products/vol-2",
        "https://cdn.example/vol-2.jpg",
        SHOP,
    )
    assert (shown.price, shown.currency) == (Decimal("10.00"), "EUR")


def test_a_bought_product_comes_back_only_when_due():
    # Given a customer who bought tea (usually every 60 days) ten days ago, and vol-1 (no repeat)
    w = stocked(world())
    w.customer("c2", (40, ["vol-1"]), (10, ["tea"]))
    # When asked
    found = ids(w.service.for_customer(WS, "c2"))
    # Then neither comes back: tea is not due yet, vol-1 is no repeat purchase
    assert "tea" not in found and "vol-1" not in found
    assert found[0] == "vol-2"
    # When the tea was bought 58 days ago
    w.customer("c3", (40, ["vol-1"]), (58, ["tea"]))
    # Then it is offered again as due
    due = {p.product_id: p.reason.kind for p in w.service.for_customer(WS, "c3")}
    assert due["tea"] == "repeat_due"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"status": "draft"}, "a Shopify draft"),
        ({"status": "archived"}, "archived at Shopify"),
        ({"status": "private"}, "a WooCommerce private product"),
        ({"inventory": (0, -1)}, "every variant out of stock"),
    ],
)
def test_an_unpublished_or_sold_out_product_is_never_offered(change, why):
    # Given vol-2 in the catalogue in that state
    w = reader()
    w.catalogue.put(SHOP, product("vol-2", "Volume Two", **change))
    # When the reader asks
    found = ids(w.service.for_customer(WS, "c1"))
    # Then vol-2 is left out and the rest keep their order
    assert found == [p for p in unfiltered() if p != "vol-2"], why


def test_a_deleted_product_is_left_out_and_one_in_stock_somewhere_stays():
    # Given the bookmark deleted, vol-3 with one variant in stock and one of unknown inventory, mug untracked
    w = reader()
    w.catalogue.put(SHOP, product("bookmark", "Bookmark"), deleted_at="2026-05-01T00:00:00.000000Z")
    w.catalogue.put(SHOP, product("vol-3", "Volume Three", inventory=(0, 3)))
    w.catalogue.put(SHOP, product("mug", "Mug", inventory=(None, 0)))
    w.catalogue.put(SHOP, product("beans", "Beans", status="publish"))  # WooCommerce's published
    # When asked
    found = ids(w.service.for_customer(WS, "c1"))
    # Then only the deleted one is gone
    assert found == [p for p in unfiltered() if p != "bookmark"]


def test_a_product_the_catalogue_does_not_know_is_kept_unnamed():
    # Given a catalogue without vol-1 (the anchor) nor the mug
    w = reader()
    del w.catalogue.items[(SHOP, "vol-1")]
    del w.catalogue.items[(SHOP, "mug")]
    # When asked
    found = {p.product_id: p for p in w.service.for_customer(WS, "c1")}
    # Then the mug is there by id only, and vol-2's reason names vol-1 by its id
    mug = found["mug"]
    assert (mug.title, mug.url, mug.image, mug.price, mug.currency, mug.source_id) == (None,) * 6
    assert found["vol-2"].reason_text == "usually bought 20 days after vol-1"


def test_excluded_products_are_never_offered():
    w = reader()
    found = ids(w.service.for_customer(WS, "c1", exclude=["vol-2", "mug"]))
    assert found == [p for p in unfiltered() if p not in {"vol-2", "mug"}]


def test_a_placement_keeps_its_categories_the_catalogues_first_else_the_models():
    # Given placements: books only; everything but grocery
    w = reader()
    body = RecommendationSettingsIn(
        placements={
            "books": Placement(include_categories=[" books "], limit=5),
            "no_food": Placement(exclude_categories=["GROCERY"], limit=5),
        }
    )
    w.service.settings.replace(WS, body, 0, "cli")
    # When the reader asks for each
    books = ids(w.service.for_customer(WS, "c1", placement="books"))
    no_food = ids(w.service.for_customer(WS, "c1", placement="no_food"))
    # Then the books placement keeps the products the catalogue calls Books (case and spaces aside)
    assert books == [p for p in unfiltered() if p in {"vol-2", "vol-3"}]
    # And the other drops coffee and beans (no catalogue category: the model's `grocery`)
    assert no_food == [p for p in unfiltered() if p not in {"coffee", "beans"}]


def test_limits_the_placements_by_default_and_the_callers_when_given():
    # Given the default placements (email 4, sms 1, web 8)
    w = reader()
    # When asked through the route's method without a limit, and with one
    email = w.service.customer(WS, "c1", "email", None)
    sms = w.service.customer(WS, "c1", "sms", None)
    wide = w.service.customer(WS, "c1", "sms", 3)
    plain = w.service.customer(WS, "c1", None, None)
    # Then 4, 1, 3 and every candidate (10 at most)
    assert [len(x.items) for x in (email, sms, wide, plain)] == [4, 1, 3, 6]
    assert (email.placement, plain.placement, email.customer_id) == ("email", None, "c1")
    assert email.trained_at == "2026-06-01T09:00:00.000000Z"
    # And the item shows the price as text and the reason as the contract names it
    item = email.items[1].model_dump()
    assert item["price"] == "10.00" and item["currency"] == "EUR"
    assert item["reason"] == {
        "kind": "bought_next",
        "product_id": "vol-1",
        "days": 20,
        "category": None,
        "text": "usually bought 20 days after Volume One",
    }


def test_an_unknown_placement_is_refused_naming_the_known_ones():
    w = reader()
    with pytest.raises(BadRequest) as refused:
        w.service.for_customer(WS, "c1", placement="push")
    assert "unknown placement 'push': one of email, sms, web" in str(refused.value)


def test_an_unknown_customer_is_not_found_and_a_merged_id_answers_as_its_survivor():
    w = reader()
    with pytest.raises(NotFound):
        w.service.customer(WS, "nobody", None, None)
    w.orders.pointers["old-id"] = "c1"
    assert w.service.customer(WS, "old-id", None, 2).customer_id == "c1"


def test_before_any_training_nothing_is_offered_and_a_new_customer_gets_the_popular():
    # Given a workspace never trained, then one whose model knows nothing of a customer's products
    untrained = stocked(world(trained=False))
    untrained.customer("c1", (40, ["vol-1"]))
    trained = stocked(world())
    trained.customer("c9", (5, ["unknown-thing"]))
    # Then the first answers nothing (and no catalogue read), the second the popular list
    shown = untrained.service.customer(WS, "c1", None, None)
    assert (shown.items, shown.trained_at, untrained.catalogue.reads) == ([], None, [])
    popular = trained.service.for_customer(WS, "c9")
    assert [(p.product_id, p.reason.kind) for p in popular] == [
        ("mug", "popular"),
        ("vol-2", "popular"),
        ("beans", "popular"),
    ]


def test_prices_are_rounded_by_the_currencys_minor_units():
    # Given a yen product and one priced in the workspace currency (EUR) with three decimals
    w = reader()
    w.catalogue.put(SHOP, product("vol-2", "Volume Two", "1234.5", currency="JPY"))
    w.catalogue.put(SHOP, product("bookmark", "Bookmark", "12.345"))
    # When asked
    found = {p.product_id: p for p in w.service.for_customer(WS, "c1")}
    # Then yen has no decimals (half up), euros two
    assert (found["vol-2"].price, found["vol-2"].currency) == (Decimal("1235"), "JPY")
    assert (found["bookmark"].price, found["bookmark"].currency) == (Decimal("12.35"), "EUR")
    assert str(found["vol-2"].price) == "1235"


def test_a_product_of_another_source_is_named_and_reads_stay_within_one_batch():
    # Given two sources, vol-2 only in the second
    w = stocked(world(sources=("shop", "woo")))
    w.customer("c1", (40, ["vol-1"]), (10, ["coffee"]))
    vol2 = w.catalogue.items.pop((SHOP, "vol-2"))
    w.catalogue.put("woo", vol2.product)  # type: ignore[arg-type]
    # When asked with the largest limit
    found = {p.product_id: p for p in w.service.for_customer(WS, "c1", limit=50)}
    # Then vol-2 comes from the second source, and the one catalogue read held at most 100 keys
    assert (found["vol-2"].source_id, found["vol-2"].title) == ("woo", "Volume Two")
    assert len(w.catalogue.reads) == 1 and w.catalogue.reads[0] <= 100


def test_related_and_complementary_are_kept_apart_with_their_reasons():
    # Given vol-1's links
    w = reader()
    # When its related products are asked
    shown = w.service.related(WS, f"{SHOP}.vol-1", 10)
    # Then similar ones are related, bought together then bought next are complementary
    assert (shown.product_id, shown.source_id) == ("vol-1", SHOP)
    assert [(i.product_id, i.reason.kind) for i in shown.related] == [("vol-3", "similar")]
    assert [(i.product_id, i.reason.kind, i.reason.days) for i in shown.complementary] == [
        ("bookmark", "bought_together", None),
        ("vol-2", "bought_next", 20),
    ]
    assert shown.complementary[1].reason.text == "usually bought 20 days after Volume One"
    assert shown.related[0].title == "Volume Three"


def test_related_products_pass_the_same_filters_and_the_limit():
    w = reader()
    w.catalogue.put(SHOP, product("bookmark", "Bookmark", status="draft"))
    shown = w.service.related(WS, f"{SHOP}.vol-1", 1)
    assert [i.product_id for i in shown.complementary] == ["vol-2"]
    assert [i.product_id for i in shown.related] == ["vol-3"]


def test_related_of_an_unknown_product_is_not_found_and_of_a_known_one_without_links_empty():
    w = reader()
    with pytest.raises(NotFound):
        w.service.related(WS, f"{SHOP}.nothing", 10)
    with pytest.raises(NotFound):
        w.service.related(WS, "no-dot", 10)
    shown = w.service.related(WS, f"{SHOP}.mug", 10)  # in the catalogue, no links in the model
    assert (shown.related, shown.complementary) == ([], [])


def test_a_product_bought_under_its_id_is_not_offered_again_under_its_sku():
    # Given a model whose popular list names a book by its SKU (orders imported without
    # product ids), and a customer whose order names it by id with the SKU beside it
    from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry
    from chalicelib.domain.recommend.model import Popular

    w = stocked(world())
    w.models.popular_lists[WS] = (Popular("BK-VOL1", 9.0, "books"), *w.models.popular_lists[WS])
    entry = OrderEntry(version=1, placed_at=1, products=["vol-1", "BK-VOL1"], item_count=1)
    w.orders.profiles["c7"] = CustomerProfile(workspace_id=WS, customer_id="c7", orders={"s.1": entry})
    # When asked
    found = ids(w.service.for_customer(WS, "c7", limit=10))
    # Then the SKU is not offered, while the others popular are
    assert "BK-VOL1" not in found and "vol-1" not in found
    assert "mug" in found
