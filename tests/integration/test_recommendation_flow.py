"""The shipped cross-sell flow end to end in the embedded AWS, with no hand-written pair
matching: a Shopify order starts the run (keeping its lines' product ids), and 14 days
later the message carries the recommender's products (a fake recommender injected: the
real one is the recommendation service's) and never the order's own. And a campaign whose
template shows the block, with every queue message delivered twice, asks once per recipient."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chalicelib.domain.recommend.model import Reason
from tests.conftest import event_bytes
from tests.integration.test_flows import CHECKOUT_AT, FLOWS, jane, runs
from tests.integration.test_notifications import SENDER, sent_emails
from tests.unit.fake_recommender import FakeRecommender, product

ORDERED = json.loads(event_bytes("shopify/orders_create.json"))
LINES = tuple(str(li["product_id"]) for li in ORDERED["line_items"])
SKUS = tuple(str(li["sku"]) for li in ORDERED["line_items"] if li.get("sku"))


@pytest.fixture
def shipped(stage, ws):
    """A workspace with the shipped flows applied and a verified sender (as test_flows.py)."""
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, [], SENDER, None)
    stage.container.flows.clock = lambda: CHECKOUT_AT  # the fixtures' time, not today's
    for path in sorted(FLOWS.glob("*.json")):
        stage.container.flows.apply(ws.workspace_id, json.loads(path.read_text()))
    return ws


def test_the_cross_sell_flow_sends_the_recommenders_products_without_the_orders_own(stage, shipped):
    ws = shipped
    # Given a recommender that would also suggest a product of the order itself
    frother = product("8099", "Milk <Frother>", price="24.90", reason=Reason("bought_next", LINES[1], 21))
    recommender = FakeRecommender(product(LINES[1], "Ceramic Pour-Over Set"), frother)
    stage.container.messaging.recommender = recommender
    # And Jane's order, with email marketing consent
    body = dict(ORDERED)
    body["customer"] = {
        **ORDERED["customer"],
        "email_marketing_consent": {"state": "subscribed", "opt_in_level": "single_opt_in"},
    }
    stage.send(ws, "shopify", "orders/create", json.dumps(body).encode(), delivery_id="o-1")
    stage.drain()
    assert runs(stage, ws, jane(stage, ws))["cross-sell"]["status"] == "active"
    # When the ticks run on the order's day, then 14 days later at 10:00 in Detroit
    stage.container.flows.tick(datetime(2026, 11, 20, 17, 20, tzinfo=UTC))
    assert recommender.calls == []  # the welcome's template names no recommendation
    stage.container.flows.tick(datetime(2026, 12, 5, 15, 5, tzinfo=UTC))
    # Then one cross-sell message went out with the recommender's product, escaped, and its reason
    (email,) = [e for e in sent_emails(stage) if str(e["Subject"]).startswith("Picked for you")]
    assert str(email["Subject"]) == "Picked for you, Jane: Milk <Frother>"
    html = email.get_body(("html",)).get_content()
    assert "Milk &lt;Frother&gt;" in html and "24.90 EUR" in html
    assert f"usually bought 21 days after {LINES[1]}" in html
    assert "Ceramic Pour-Over Set" not in html.split("You may also like")[1]
    text = email.get_body(("plain",)).get_content()
    assert "Milk <Frother> — 24.90 EUR — https://shop.example/products/8099" in text
    # and the recommender was asked once, for the email placement, without the order's products
    (call,) = recommender.calls
    assert (call["placement"], call["limit"]) == ("email", 4)
    assert set(call["exclude"]) == {*LINES, *SKUS} and SKUS
    log = runs(stage, ws, jane(stage, ws))["cross-sell"]["log"]
    assert [e["status"] for e in log] == ["sent"]


def test_a_campaign_asks_once_per_recipient_though_every_queue_message_comes_twice(stage, ws):
    from chalicelib.domain.messaging.campaign_model import CampaignIn
    from chalicelib.domain.messaging.templates import TemplateIn
    from patron.bench.campaign import START, bulk_destinations, prepare, put_customers
    from patron.synthetic.audience import customer
    from tests.conftest import load_event

    # Given a campaign template with the block, three subscribed customers and a recommender
    prepare(stage, ws.workspace_id)
    picks = TemplateIn(
        name="Picks",
        subject="Picked for you",
        html="<p>Hi</p>{{ recommendations }}",
        text="{{ recommendations }}",
    )
    stage.container.template_service.save(ws.workspace_id, "picks", picks)
    people = [customer(n) for n in range(3)]
    put_customers(stage, ws.workspace_id, people)
    recommender = FakeRecommender(product("rod", "Fishing rod"))
    stage.container.messaging.recommender = recommender
    campaigns = stage.container.campaigns
    campaigns.clock, campaigns.rate = (lambda: START), (lambda: 100.0)
    stage.campaign_poller = stage.new_campaign_poller(duplicate_deliveries=True)
    # When the campaign runs, each queue message delivered twice
    body = {
        **load_event("campaigns/create_one_variant.json"),
        "variants": [{"id": "a", "template_id": "picks"}],
    }
    campaign = campaigns.create(ws.workspace_id, CampaignIn(**body))
    campaigns.start(ws.workspace_id, campaign["campaign_id"])
    campaigns.dispatch()
    stage.drain_campaigns()
    # Then each recipient got the product's card, and the recommender was asked once each
    sent = bulk_destinations(stage)
    assert sorted(d["to"] for d in sent) == sorted(p["e"] for p in people)
    assert all("https://shop.example/products/rod" in d["data"]["html"] for d in sent)
    assert sorted(c["customer_id"] for c in recommender.calls) == sorted(p["cid"] for p in people)
    assert {c["placement"] for c in recommender.calls} == {"email"}
