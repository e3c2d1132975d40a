"""`points.redeemed` fires only once a redemption is final (docs/loyalty.md#flow-triggers):
on the stage (moto), the CRM stream is drained while the store is being asked for the code,
so the stream sees the redemption's entry before the store answers. A store that fails
then starts no flow (its points were given back); a store that makes the code starts the
flow once, after the code exists, with that code."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import chalicelib.domain.models
from chalicelib.domain.loyalty.model import EntryKey
from chalicelib.domain.workspace_settings import LoyaltyRules
from tests.integration.test_join_invites import guest_order
from tests.integration.test_loyalty_flow_messages import FLOW, REDEEMED_AT
from tests.integration.test_notifications import SENDER, sent_emails
from tests.integration.test_points_adjust_api import adjust
from tests.integration.test_points_redeem_api import redeem, shop  # noqa: F401 (the fixture)
from tests.storefront_servers import user_errors


class StreamFirst:
    """The store's Admin API client, with the CRM stream drained just before each call:
    the stream sees the redemption's entry while the store has not answered yet."""

    def __init__(self, stage: Any, ws: Any, real: Any) -> None:
        self.stage, self.ws, self.real = stage, ws, real
        self.runs_before: list[list[Any]] = []  # per call: the customer's flow runs then

    def create(self, source: Any, coupon: Any, store_customer_id: str | None, email: str | None) -> Any:
        self.stage.drain()
        self.runs_before.append(
            self.stage.container.flow_store.runs(self.ws.workspace_id, coupon.customer_id)
        )
        return self.real.create(source, coupon, store_customer_id, email)


def jane_with_points(stage: Any, ws: Any, monkeypatch: Any) -> tuple[str, StreamFirst]:
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, [], SENDER, None)
    stage.container.flows.clock = lambda: REDEEMED_AT
    monkeypatch.setattr(chalicelib.domain.models, "now_utc", lambda: REDEEMED_AT)
    stage.send(ws, "shopify", "orders/create", guest_order("enabled"))
    stage.drain()
    (found,) = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    cid = str(found["customer_id"])
    stage.container.workspaces.set_loyalty(ws.workspace_id, LoyaltyRules(enabled=True))
    stage.container.flows.apply(ws.workspace_id, FLOW)
    assert adjust(stage, ws, cid, {"points": 500, "reason": "welcome"}, "k-0").status_code == 200
    redemptions = stage.container.points_redemptions
    store = StreamFirst(stage, ws, redemptions.discounts)
    monkeypatch.setattr(redemptions, "discounts", store)
    return cid, store


def test_a_redemption_the_store_fails_starts_no_flow_even_when_the_stream_sees_it_first(
    stage,
    ws,
    shop,  # noqa: F811
    monkeypatch,
):
    # Given Jane with 500 points, a points.redeemed flow, and a store that refuses the next
    # code, asked only after the CRM stream has seen the redemption's entry
    cid, _ = jane_with_points(stage, ws, monkeypatch)
    shop.then(user_errors("discountCodeBasicCreate", (["basicCodeDiscount"], "Shop is frozen", "INVALID")))
    # When she redeems 300 points (502: given back), the stream is drained and the flows tick
    failed = redeem(stage, ws, cid, {"points": 300}, "r-1")
    stage.drain()
    stage.container.flows.tick(REDEEMED_AT + timedelta(minutes=5))
    # Then the points came back, and no flow started: no run, no email naming a code
    assert failed.status_code == 502, failed.body
    assert json.loads(stage.get(ws, f"/customers/{cid}/points").body)["available"] == 500
    assert stage.container.flow_store.runs(ws.workspace_id, cid) == []
    assert [e for e in sent_emails(stage) if str(e["To"]) == "jane.doe@example.com"] == []


def test_a_redemption_starts_its_flow_once_after_the_store_made_the_code(
    stage,
    ws,
    shop,  # noqa: F811
    monkeypatch,
):
    # Given Jane with 500 points and a points.redeemed flow, the CRM stream drained just
    # before the store is asked for the code
    cid, store = jane_with_points(stage, ws, monkeypatch)
    # When she redeems 250 points, the request replayed, and the stream drained again
    answers = [redeem(stage, ws, cid, {"points": 250}, "r-1") for _ in range(2)]
    stage.drain()
    stage.container.flows.tick(REDEEMED_AT + timedelta(minutes=5))
    # Then no run had started while the store was first asked (the entry was not final)
    assert [a.status_code for a in answers] == [200, 200], answers[0].body
    assert [r.key for r in store.runs_before[0]] == []
    # And one run started once the code was made, its one email carrying that code
    runs = stage.container.flow_store.runs(ws.workspace_id, cid)
    assert [(r.flow_id, r.key) for r in runs] == [("points-redeemed", "redeem#r-1#redeem")]
    (made,) = shop.discounts
    (email,) = [e for e in sent_emails(stage) if str(e["To"]) == "jane.doe@example.com"]
    assert str(email["Subject"]) == f"Your code {made['code']}"
    # And the stored entry says the code was made
    entry = json.loads(answers[0].body)
    stored = stage.container.points_ledger.entry(
        ws.workspace_id, cid, EntryKey(entry["source"], entry["external_id"], entry["kind"])
    )
    assert stored is not None and stored.code == made["code"]
