"""A profile's product ids named from the catalogue: one batch of (source, id) lookups,
the first source that knows an id wins, an unknown id stays an id."""

from __future__ import annotations

from chalicelib.domain.catalogue import (
    MAX_LOOKUPS,
    CatalogueEntry,
    ProductView,
    line_products,
    lookups,
    product_views,
)
from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry
from chalicelib.domain.messaging.personalize import latest_product, product_values


def test_each_id_is_looked_up_in_each_source_within_one_batch():
    # Given two ids and two sources, When the lookups are made, Then every pair, ids first
    assert lookups(["42", "SKU-1"], ["src_a", "src_b"]) == [
        ("src_a", "42"),
        ("src_b", "42"),
        ("src_a", "SKU-1"),
        ("src_b", "SKU-1"),
    ]
    # And a profile with very many products asks for one batch at most
    many = lookups([str(i) for i in range(200)], ["src_a"])
    assert len(many) == MAX_LOOKUPS


def test_known_ids_get_their_names_and_unknown_ones_stay_ids():
    # Given the catalogue knows 42 in the second source (deleted) and 7 in the first
    found = [
        CatalogueEntry(source_id="src_b", product_id="42", title="Mug", url="https://x/mug", deleted=True),
        CatalogueEntry(source_id="src_a", product_id="7", title="Tee", image="https://x/tee.png"),
    ]
    # When the profile's products are named
    views = product_views(["42", "7", "SKU-1"], ["src_a", "src_b"], found)
    # Then each known id carries its name, page, picture and deletion; the SKU stays an id
    assert views == [
        ProductView(id="42", title="Mug", url="https://x/mug", deleted=True),
        ProductView(id="7", title="Tee", image="https://x/tee.png"),
        ProductView(id="SKU-1"),
    ]


def test_order_lines_take_the_catalogue_title_of_their_own_source_else_the_orders():
    # Given the catalogue knows 42 in the order's source and 7 only in another source
    found = [
        CatalogueEntry(source_id="src_a", product_id="42", title="Mug (large)", url="https://x/mug"),
        CatalogueEntry(source_id="src_b", product_id="7", title="Tee from b"),
    ]
    # When an order of src_a with lines 42, 7 and a line without a product is titled
    views = line_products("src_a", [("42", "Mug"), ("7", "Tee"), (None, "Gift wrap")], found)
    # Then 42 has the catalogue's name; 7 and the product-less line keep the order's title
    assert views == [
        ProductView(id="42", title="Mug (large)", url="https://x/mug"),
        ProductView(id="7", title="Tee"),
        ProductView(id="", title="Gift wrap"),
    ]


def test_a_message_without_a_trigger_product_names_the_latest_counted_orders_first_product():
    # Given a profile with an older order, a newer one, and a newest one that was cancelled
    orders = {
        "src_a.1": OrderEntry(version=1, placed_at=100, products=["7", "8"]),
        "src_b.2": OrderEntry(version=1, placed_at=200, products=["42", "7"]),
        "src_a.3": OrderEntry(version=1, placed_at=300, counted=False, products=["99"]),
    }
    profile = CustomerProfile("ws_1", "c_1", orders=orders)
    # When the message's product is chosen, Then it is the newer counted order's first, in its source
    assert latest_product(profile) == ("src_b", "42")
    assert latest_product(CustomerProfile("ws_1", "c_2")) is None
    # And its fields: a deleted product keeps its name, an unknown one gives nothing
    gone = CatalogueEntry(
        source_id="src_b", product_id="42", title="Mug", image="https://x/m.png", deleted=True
    )
    assert product_values(gone) == {"product.title": "Mug", "product.image": "https://x/m.png"}
    assert product_values(None) == {}
