"""Recommended products in every message template: the `recommendations` block (HTML cards
built from escaped parts, one line per product in text and SMS), the indexed variables, asked
of the recommender only for a template that uses them, and the flows' `recommendations` step
(hand-written pairs first, skipped below `min`, never the trigger's own products)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.messaging import render, sms
from chalicelib.domain.messaging.flow_definition import TriggerEvent, parse_flow
from chalicelib.domain.messaging.flows import FlowService
from chalicelib.domain.messaging.model import Channel, Outgoing, Policy, Purpose, RunContext, Template
from chalicelib.domain.messaging.product_block import INDEXED, block, override, recommendation_values, shown
from chalicelib.domain.messaging.service import MessagingService
from chalicelib.domain.recommend.model import Reason
from chalicelib.domain.segment_service import SegmentService
from tests.unit.fake_recommender import FakeRecommender, product
from tests.unit.fakes import FakeWorkspaces
from tests.unit.test_bulk_send import FakeBulkChannels, audience
from tests.unit.test_flows import FakeCoupons, FakeFlowStore, FakeProfiles, ana
from tests.unit.test_messaging import AFTERNOON, FakeLedger, FakeLimits, profile

ROOT = Path(__file__).resolve().parents[2]
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TAGS = {"table", "tr", "td", "a", "img", "strong", "br", "small"}  # all the block's markup


class Channels(FakeBulkChannels):
    """Records the text body too."""

    def send_email(self, sender, to, subject, html, text, headers, tags) -> str:
        self.sent.append({"to": to, "subject": subject, "html": html, "text": text})
        return f"ses-{len(self.sent)}"


class Templates:
    def __init__(self, **templates: Template) -> None:
        self.templates = templates

    def latest(self, ws: str, template_id: str) -> Template:
        return self.templates[template_id]

    def get(self, ws: str, template_id: str) -> Template | None:
        return self.templates.get(template_id)


CARDS = Template(
    "tpl_recs",
    1,
    subject="For you: {{ recommendations }}",
    html="<p>Hi {{ first_name }}</p>{{ recommendations }}",
    text="Picked for you:\n{{ recommendations }}",
    sms="Picked for you:\n{{ recommendations }}",
)
PLAIN = Template("tpl_plain", 1, subject="Hello {{ first_name }}", html="<p>News</p>", sms="News")


def messaging(recommender: FakeRecommender | None, *templates: Template) -> tuple[MessagingService, Channels]:
    channels = Channels()
    known = {t.template_id: t for t in (CARDS, PLAIN, *templates)}
    service = MessagingService(
        FakeLedger(), FakeLimits(), channels, Templates(**known), recommender=recommender
    )
    return service, channels


def out(template: str, channel: Channel = Channel.EMAIL, key: str = "flow:x:1", **extra: Any) -> Outgoing:
    return Outgoing("ws_1", "c_1", key, channel, Purpose.MARKETING, template, **extra)


# -- the block ------------------------------------------------------------------------------
def test_the_html_block_escapes_every_part_and_links_only_web_pages():
    # Given a product whose title, reason and links were written to attack the email
    evil = product(
        "p-1",
        '<script>alert("x")</script> & Co',
        url="javascript:alert(1)",
        image='https://cdn.example/a.jpg" onerror="alert(1)',
    )
    fine = product("p-2", "Fishing rod", price="49.00")
    # When the block is rendered into an HTML body
    shown = render.render("<div>{{ recommendations }}</div>", recommendation_values([evil, fine]), True)
    # Then the title is text, the javascript: link is gone, the picture's quote is escaped
    assert "<script>" not in shown and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in shown
    assert "javascript:" not in shown
    assert 'src="https://cdn.example/a.jpg&quot; onerror=&quot;alert(1)"' in shown
    # and the other card links its page, shows its price with the currency and its reason
    assert '<a href="https://shop.example/products/p-2" style="color:inherit">Fishing rod</a>' in shown
    assert "49.00 EUR" in shown and "<small" in shown and "bought together with Fishing hook" in shown
    assert set(re.findall(r"</?([a-z]+)", shown)) == TAGS | {"div"}


@given(
    title=st.text(min_size=1, max_size=40),
    reason=st.text(max_size=40),
    url=st.text(max_size=40),
)
def test_no_text_in_a_product_ever_adds_markup(title, reason, url):
    # Given any title, reason text and URL
    item = product("p-1", title, url=url, image=url)
    item = type(item)(**{**item.__dict__, "reason_text": reason})
    # When the block is built
    markup = block([item]).html
    # Then its tags are only the block's own, and every attribute value is quoted whole
    assert set(re.findall(r"<\s*/?\s*([A-Za-z]+)", markup)) <= TAGS
    assert markup.count("<") == len(re.findall(r"</?(?:table|tr|td|a|img|strong|br|small)\b", markup))


def test_text_and_sms_show_one_line_per_product_and_a_subject_the_titles():
    # Given two products, one without a price
    values = recommendation_values([product("p-1", "Fishing rod"), product("p-2", "Reel", price=None)])
    # Then a text body has "Title — price — URL" lines, a subject the titles
    lines = render.render("{{ recommendations }}", values, field="text").split("\n")
    assert lines == [
        "Fishing rod — 12.50 EUR — https://shop.example/products/p-1",
        "Reel — https://shop.example/products/p-2",
    ]
    assert render.render("For you: {{ recommendations }}", values, field="subject") == (
        "For you: Fishing rod, Reel"
    )
    assert render.render("{{ recommendations }}", values, field="sms").split("\n") == [
        "Fishing rod - 12.50 EUR - https://shop.example/products/p-1",
        "Reel - https://shop.example/products/p-2",
    ]
    assert values["recommended_products"] == "Fishing rod, Reel"


def test_indexed_variables_fill_a_layout_of_ones_own_and_the_rest_are_empty():
    # Given two products, one unknown to the catalogue (no title) in between
    values = recommendation_values(
        [product("p-1", "Rod <XL>"), product("p-x", None), product("p-2", "Reel", price="5")]
    )
    # Then the first two shown fill 1 and 2, every other indexed variable is empty
    assert values["recommendation_1_title"] == "Rod <XL>"
    assert values["recommendation_1_url"] == "https://shop.example/products/p-1"
    assert values["recommendation_1_image"] == "https://cdn.example/p-1.jpg"
    assert values["recommendation_1_price"] == "12.50 EUR"
    assert values["recommendation_1_reason"] == "bought together with Fishing hook"
    assert values["recommendation_2_title"] == "Reel" and values["recommendation_2_price"] == "5 EUR"
    assert all(
        values[k] == "" for k in INDEXED if not k.startswith(("recommendation_1_", "recommendation_2_"))
    )
    # and in HTML they are escaped as any value is; an empty one takes its default
    text = "{{ recommendation_1_title }} / {{ recommendation_3_title | default: 'more soon' }}"
    assert render.render(text, values, escape_html=True) == "Rod &lt;XL&gt; / more soon"


def test_every_recommendation_variable_is_listed_and_documented():
    names = {"recommendations", "recommended_products", *INDEXED}
    assert names <= set(render.VARIABLES)
    docs = (ROOT / "docs/messaging.md").read_text()
    assert "`recommendations`" in docs and "`recommendation_<n>_title`" in docs


def test_only_the_block_builder_makes_safe_html():
    # SafeHtml is printed unescaped: only product_block.py may build one
    makers = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "functions/chalicelib").rglob("*.py")
        if re.search(r"\bSafeHtml\(", p.read_text())
    )
    assert makers == ["functions/chalicelib/domain/messaging/product_block.py"]


# -- asked lazily, for flows and campaigns ---------------------------------------------------
def test_a_template_without_the_variables_never_asks_the_recommender():
    recommender = FakeRecommender(product("p-1", "Rod"))
    service, channels = messaging(recommender)
    # When a template that names no recommendation variable is sent
    decision = service.send(out("tpl_plain"), profile(), Policy(), AFTERNOON)
    # Then it is sent and the recommender was not asked
    assert decision.status == "sent" and recommender.calls == []
    assert channels.sent[0]["subject"] == "Hello Ana"


def test_a_template_with_the_block_asks_once_for_the_channels_placement():
    recommender = FakeRecommender(product("p-1", "Rod"), product("p-2", "Reel"))
    service, channels = messaging(recommender)
    # When an email and an SMS using `recommendations` are sent, the email excluding p-2
    twice = Policy(daily_caps={"high": 2, "medium": 2, "low": 1})
    service.send(out("tpl_recs", exclude=("p-2",)), profile(), twice, AFTERNOON)
    service.send(out("tpl_recs", Channel.SMS, key="flow:x:2"), profile(), twice, AFTERNOON)
    # Then each asked once, for its channel's placement, with the exclusion passed
    assert [(c["placement"], c["exclude"], c["limit"]) for c in recommender.calls] == [
        ("email", ("p-2",), 6),
        ("sms", (), 3),
    ]
    email, sms_message = channels.sent
    assert email["subject"] == "For you: Rod" and "patron-recommendations" in email["html"]
    assert email["text"] == "Picked for you:\nRod — 12.50 EUR — https://shop.example/products/p-1"
    assert sms_message["text"].split("\n")[1:] == [
        "Rod - 12.50 EUR - https://shop.example/products/p-1",
        "Reel - 12.50 EUR - https://shop.example/products/p-2",
    ]
    assert sms.measure(sms_message["text"]).encoding == "GSM-7"  # hyphens: no em dash in SMS


def test_without_a_recommender_the_variables_render_empty_or_their_default():
    quiet = Template("tpl_q", 1, subject="Hi", html="<p>{{ recommendations | default: 'See the shop' }}</p>")
    service, channels = messaging(None, quiet)
    assert service.send(out("tpl_q"), profile(), Policy(), AFTERNOON).status == "sent"
    assert channels.sent[0]["html"].startswith("<p>See the shop</p>")


def test_a_campaign_batch_carries_each_recipients_own_block():
    # Given a campaign template with the block and a recommender
    recommender = FakeRecommender(product("p-1", "Rod"))
    service, channels = messaging(recommender)
    people = audience(3)
    batch = [
        Outgoing("ws_1", cid, "camp:spring", Channel.EMAIL, Purpose.MARKETING, "tpl_recs", tags={"v": "a"})
        for cid in people
    ]
    # When the batch goes out in one bulk call
    decisions = service.send_bulk(batch, people, Policy(), AFTERNOON)
    # Then each recipient was asked for (email placement, nothing excluded) and has the cards
    assert [d.status for d in decisions] == ["sent"] * 3
    assert [(c["customer_id"], c["placement"]) for c in recommender.calls] == [
        ("c_0", "email"),
        ("c_1", "email"),
        ("c_2", "email"),
    ]
    sent = channels.calls[0]
    assert all("https://shop.example/products/p-1" in e.html and e.subject == "For you: Rod" for e in sent)


# -- the flow step -------------------------------------------------------------------------
FLOW_TEMPLATE = Template(
    "tpl_flow",
    1,
    subject="{{ recommendation_1_title }}",
    html="{{ recommendations }}",
    text="{{ recommendations }}",
)


def flow_world(
    recommender: FakeRecommender | None, bought: list[str]
) -> tuple[FlowService, Channels, FakeFlowStore]:
    store, channels = FakeFlowStore(), Channels()
    workspaces = FakeWorkspaces("ws_1")
    templates = Templates(tpl_flow=FLOW_TEMPLATE)
    service_ = MessagingService(FakeLedger(), FakeLimits(), channels, templates, recommender=recommender)
    profiles = FakeProfiles(ana(o={"s#1": {"v": 1, "p": bought, "t": 1}}))
    flows = FlowService(
        store,
        service_,
        profiles,
        SegmentService(None, profiles, workspaces, None),
        workspaces,
        templates,
        FakeCoupons(),
        clock=lambda: NOON,
    )
    return flows, channels, store


def cross_sell(**recommendations: Any) -> dict[str, Any]:
    send = {
        "template": "tpl_flow",
        "recommendations": recommendations,
        "recommend": [
            {"after": "vol-1", "offer": "vol-2", "name": "Volume 2"},
            {"after": "vol-9", "offer": "vol-10", "name": "Volume 10"},
        ],
    }
    return {
        "id": "xsell",
        "name": "Cross-sell",
        "trigger": {"event": "order.placed"},
        "steps": [{"send": send}],
    }


def order(flows: FlowService, product_ids: tuple[str, ...] = ("vol-1", "hook")) -> None:
    context = RunContext("order", products=["Volume 1"], order_number="1001", product_ids=product_ids)
    flows.trigger(TriggerEvent("order.placed", "ws_1", "c_000a", "o1", NOON, context))


def test_a_matching_hand_written_pair_comes_first_then_the_recommenders_products():
    recommender = FakeRecommender(product("rod", "Fishing rod"), product("vol-2", "Vol 2 (dup)"))
    flows, channels, store = flow_world(recommender, ["vol-1"])
    flows.apply("ws_1", cross_sell(limit=3, placement="email"))
    # When the customer who bought vol-1 and a hook gets the step
    order(flows)
    flows.tick(NOON + timedelta(minutes=1))
    # Then the pair's product leads with reason `override`, then the recommender's, once each
    (sent,) = channels.sent
    assert sent["subject"] == "Volume 2"
    assert sent["text"].split("\n") == [
        "Volume 2",
        "Fishing rod — 12.50 EUR — https://shop.example/products/rod",
    ]
    assert "chosen for buyers of vol-1" in sent["html"]
    # and the recommender was asked without the trigger's products nor the override
    assert recommender.calls == [
        {
            "workspace_id": "ws_1",
            "customer_id": "c_000a",
            "placement": "email",
            "limit": 3,
            "exclude": ("vol-1", "hook", "vol-2"),
        }
    ]
    assert store.item("ws_1", "c_000a", "xsell#o1")["log"][0]["status"] == "sent"


def test_the_step_is_skipped_below_its_minimum():
    # Given a recommender with one product and a step asking for at least two
    recommender = FakeRecommender(product("rod", "Fishing rod"))
    flows, channels, store = flow_world(recommender, ["hook"])
    flows.apply("ws_1", cross_sell(limit=4, min=2))
    order(flows, ("hook",))
    flows.tick(NOON + timedelta(minutes=1))
    # Then nothing is sent and the run says why
    assert channels.sent == []
    log = store.item("ws_1", "c_000a", "xsell#o1")["log"][0]
    assert (log["status"], log["reason"]) == ("skipped", "nothing to recommend")
    assert recommender.calls[0]["placement"] == "email"  # the channel's, the step named none


def test_without_a_recommender_only_the_pairs_count_and_the_step_says_why_it_skipped():
    flows, channels, store = flow_world(None, ["hook"])
    flows.apply("ws_1", cross_sell())
    order(flows, ("hook",))
    flows.tick(NOON + timedelta(minutes=1))
    assert channels.sent == []
    assert store.item("ws_1", "c_000a", "xsell#o1")["log"][0]["reason"] == "no recommender"
    # while a matching pair alone still sends
    flows2, channels2, _ = flow_world(None, ["vol-1"])
    flows2.apply("ws_1", cross_sell())
    order(flows2)
    flows2.tick(NOON + timedelta(minutes=1))
    assert [m["subject"] for m in channels2.sent] == ["Volume 2"]


@pytest.mark.parametrize(("limit", "minimum"), [(0, 1), (7, 1), (2, 3)])
def test_a_step_asking_for_impossible_numbers_is_refused(limit, minimum):
    from chalicelib.domain.errors import BadRequest

    with pytest.raises(BadRequest) as refused:
        parse_flow(cross_sell(limit=limit, min=minimum))
    assert refused.value.details[0]["field"].startswith("steps.0.send.recommendations")


def test_the_shipped_cross_sell_flow_works_with_no_hand_written_pairs():
    # Given flows/cross_sell.json without its override pair
    shipped = json.loads((ROOT / "flows/cross_sell.json").read_text())
    assert shipped["steps"][1]["send"]["recommendations"]["min"] == 1
    shipped["steps"][1]["send"].pop("recommend")
    recommender = FakeRecommender(product("rod", "Fishing rod", reason=Reason("bought_next", "hook", 14)))
    flows, channels, _ = flow_world(recommender, ["hook"])
    templates = flows.templates.templates  # type: ignore[attr-defined]
    text = shipped["templates"]["flow_cross_sell"]
    templates["flow_cross_sell"] = Template("flow_cross_sell", 1, text["subject"], text["html"], text["text"])
    shipped.pop("templates")
    flows.apply("ws_1", shipped)
    order(flows, ("hook",))
    flows.tick(NOON + timedelta(minutes=1))
    assert channels.sent == []
    # When the 14 days have passed (10:00 in Paris)
    flows.tick(NOON + timedelta(days=15))
    # Then the message carries the recommender's product and its reason
    (sent,) = channels.sent
    assert sent["subject"] == "Picked for you, Ana: Fishing rod"
    assert "usually bought 14 days after Fishing hook" in sent["html"]
    assert "Fishing rod — 12.50 EUR — https://shop.example/products/rod" in sent["text"]


def test_a_template_preview_shows_the_customers_recommendations():
    from chalicelib.domain.messaging.templates import TemplateService

    class Store:
        def get(self, ws: str, template_id: str) -> Template | None:
            return CARDS if template_id == "tpl_recs" else None

    class Profiles:
        def load(self, ws: str, cid: str):
            return profile() if cid == "c_1" else None

    recommender = FakeRecommender(product("p-1", "Rod"))
    previews = TemplateService(Store(), Profiles(), FakeWorkspaces("ws_1"), recommender=recommender)
    # When an operator previews the template for a customer
    shown = previews.preview("ws_1", "tpl_recs", "c_1", {})
    # Then it shows that customer's products, asked once
    assert shown.subject == "For you: Rod" and "patron-recommendations" in shown.html
    assert shown.sms.endswith("Rod - 12.50 EUR - https://shop.example/products/p-1")
    assert [c["customer_id"] for c in recommender.calls] == ["c_1"]


# -- the trigger's products ------------------------------------------------------------------
def test_an_orders_and_a_checkouts_images_carry_every_lines_product_id_and_sku():
    from chalicelib.adapters.order_items import checkout_image, order_image
    from chalicelib.domain.models import Platform
    from tests.unit.fakes import order_item
    from tests.unit.test_order_items import checkout_item

    # Given the stored Shopify order and checkout of the fixtures
    ordered = order_image(order_item(Platform.SHOPIFY, "orders/create", "shopify/orders_create.json"))
    body = json.loads((ROOT / "events/shopify/orders_create.json").read_text())
    # Then the order's image has each line's product id and SKU, once
    expected = [str(v) for li in body["line_items"] for v in (li["product_id"], li.get("sku")) if v]
    assert list(ordered.product_ids) == expected
    checkout = checkout_image(checkout_item())
    assert checkout.first_product is not None and checkout.first_product in checkout.product_ids


def test_a_runs_product_ids_are_stored_and_read_back_and_old_runs_have_none():
    from chalicelib.adapters.flows import context_item, context_of

    # Given an order run's context with its lines' products
    context = RunContext("order", products=["Rod"], order_number="1001", product_ids=("p-1", "SKU-1"))
    # When stored and read back
    stored = context_item(context)
    assert stored is not None and stored["pids"] == ["p-1", "SKU-1"]
    back = context_of(stored)
    assert back is not None and back.product_ids == ("p-1", "SKU-1") and "pids" not in back.extra
    # and a run stored before `pids` existed reads as excluding nothing, and is written back as it was
    old = {"num": "1002", "products": ["Mug"]}
    assert context_of(old).product_ids == () and context_item(context_of(old)) == old  # type: ignore[union-attr]


def test_a_customer_without_consent_costs_no_recommendation():
    # Given a customer who has not consented to email marketing
    recommender = FakeRecommender(product("rod", "Fishing rod"))
    flows, channels, store = flow_world(recommender, ["hook"])
    flows.profiles.items["c_000a"]["ce"] = {"s": "unsubscribed"}
    flows.apply("ws_1", cross_sell())
    order(flows, ("hook",))
    flows.tick(NOON + timedelta(minutes=1))
    # Then the send is dropped for consent and the recommender was never asked
    log = store.item("ws_1", "c_000a", "xsell#o1")["log"][0]
    assert (log["status"], log["reason"]) == ("dropped", "no email marketing consent")
    assert channels.sent == [] and recommender.calls == []


def test_a_title_with_line_breaks_stays_on_its_line_in_text_and_subject():
    values = recommendation_values([product("p-1", "Rod\nBcc: x@example.com"), product("p-2", "Reel")])
    assert (
        render.render("{{ recommendations }}", values, field="text")
        .split("\n")[0]
        .startswith("Rod Bcc: x@example.com — ")
    )
    assert render.render("{{ recommendations }}", values, field="subject") == "Rod Bcc: x@example.com, Reel"


@given(
    pairs=st.lists(st.sampled_from("abcdef"), max_size=4),
    found=st.lists(st.sampled_from("abcdefgh"), max_size=8),
    untitled=st.sets(st.sampled_from("abcdefgh")),
    limit=st.integers(min_value=1, max_value=6),
)
def test_overrides_lead_then_the_recommenders_order_once_each_within_the_limit(pairs, found, untitled, limit):
    # Given matching hand-written pairs and the recommender's list (some unknown to the catalogue)
    overrides = [override(x, "anchor", f"Pair {x}", {}) for x in pairs]
    ranked = [product(x, None if x in untitled else f"Product {x}") for x in found]
    # When the step's products are chosen
    ids = [p.product_id for p in shown([*overrides, *ranked], limit)]
    # Then each product once, at most `limit`, every one with a title
    assert len(ids) == len(set(ids)) <= limit
    # the pairs first, in their order, then the recommender's in its order
    first = list(dict.fromkeys(pairs))[:limit]
    rest = [x for x in dict.fromkeys(found) if x not in untitled and x not in first]
    assert ids == (first + rest)[:limit]


def test_a_flow_send_without_the_step_gets_them_lazily_without_the_triggers_products():
    # Given a flow whose template shows the block but whose send names no step
    recommender = FakeRecommender(product("hook", "Hook"), product("rod", "Fishing rod"))
    flows, channels, _ = flow_world(recommender, ["hook"])
    flows.apply("ws_1", {**cross_sell(), "steps": [{"send": {"template": "tpl_flow"}}]})
    order(flows, ("hook", "HK-1"))
    flows.tick(NOON + timedelta(minutes=1))
    # Then the messaging service asked for the channel's placement, without the order's products
    assert [(c["placement"], c["exclude"], c["limit"]) for c in recommender.calls] == [
        ("email", ("hook", "HK-1"), 6)
    ]
    assert channels.sent[0]["subject"] == "Fishing rod"
