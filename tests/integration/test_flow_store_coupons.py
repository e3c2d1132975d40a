"""A flow's coupon is created in the store of a connected source before the message goes
(Shopify's discountCodeBasicCreate on a local stand-in), exactly once even when the step runs
twice; a refusal holds the message; an unconnected source issues the code here only, marked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner

import patron.cli
from chalicelib.adapters.storefront_admin.http import RetryPolicy
from tests.conftest import event_bytes
from tests.integration.test_flows import CHECKOUT_AT, FLOWS, jane, runs
from tests.integration.test_notifications import SENDER, sent_emails
from tests.storefront_servers import ShopifyServer, user_errors

TOKEN = "shpat_coupons_token_0123"
VERSION = "2025-07"
MUTATION = "discountCodeBasicCreate"


@pytest.fixture
def flows_ws(stage, ws):
    """A workspace with the shipped flows applied and a verified sender (as test_flows.py)."""
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, [], SENDER, None)
    stage.container.flows.clock = lambda: CHECKOUT_AT
    for path in sorted(FLOWS.glob("*.json")):
        stage.container.flows.apply(ws.workspace_id, json.loads(path.read_text()))
    return ws


def connect(stage, ws, monkeypatch: pytest.MonkeyPatch, shop: ShopifyServer) -> None:
    monkeypatch.setattr(patron.cli, "_container", lambda args: stage.container)
    source_id = ws.sources["shopify"]["source_id"]
    args = ["source", "connect", "-w", ws.workspace_id, source_id, "--access-token", TOKEN]
    args += ["--api-version", VERSION, "--endpoint", shop.url]
    done = CliRunner().invoke(patron.cli.cli, args, prog_name="patron")
    assert done.exit_code == 0, done.stderr
    stage.container.store_discounts.policy = RetryPolicy(sleep=lambda s: None)


@pytest.fixture
def shop(stage, flows_ws, monkeypatch) -> Iterator[ShopifyServer]:
    """A Shopify stand-in the workspace's Shopify source is connected to, and Jane's
    abandoned checkout from that source."""
    with ShopifyServer(TOKEN, VERSION, products=0).running() as server:
        connect(stage, flows_ws, monkeypatch, server)
        abandon(stage, flows_ws)
        yield server


def fail_once(monkeypatch: pytest.MonkeyPatch, obj: Any, name: str) -> list[int]:
    """`obj.name` raises on its first call and works after; the calls are counted."""
    real, calls = getattr(obj, name), []

    def failing_once(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("lost on the first attempt")
        return real(*args)

    monkeypatch.setattr(obj, name, failing_once)
    return calls


def abandon(stage, ws) -> None:
    """Jane's Shopify checkout, and no order."""
    stage.send(
        ws, "shopify", "checkouts/create", event_bytes("shopify/checkouts_create.json"), delivery_id="k-1"
    )
    stage.drain()


def code_of(email: Any) -> str:
    text = email.get_body(("plain",)).get_content()
    return text.split("Use ", 1)[1].split(" ", 1)[0]


def creations(shop: ShopifyServer) -> int:
    return sum(1 for s in shop.seen if MUTATION in (s.body or {}).get("query", ""))


def test_a_connected_stores_recovery_code_is_created_once_though_the_step_runs_twice(
    stage, flows_ws, shop, monkeypatch
):
    ws = flows_ws
    # Given Jane's abandoned checkout from a Shopify source connected to its store (`shop`)
    # and a first attempt that fails after the store made the code (the message not sent)
    calls = fail_once(monkeypatch, stage.container.flows.engine.messaging, "send")
    # When the tick runs at four hours, then again when the step is retried
    stage.container.flows.tick(CHECKOUT_AT + timedelta(hours=4, minutes=5))
    failed = runs(stage, ws, jane(stage, ws))["abandoned-checkout"]
    nothing_sent = sent_emails(stage)
    stage.container.flows.tick(CHECKOUT_AT + timedelta(hours=4, minutes=30))
    stage.container.flows.tick(CHECKOUT_AT + timedelta(hours=5))

    # Then the step ran twice and the store was asked for the code once
    assert failed["status"] == "active" and failed["tries"] == 1 and nothing_sent == []
    assert len(calls) == 2 and creations(shop) == 1
    (email,) = sent_emails(stage)
    code = code_of(email)
    (made,) = shop.discounts
    # with the documented input: one use, once per customer, until the coupon's expiry
    assert made["code"] == code and made["usageLimit"] == 1 and made["appliesOncePerCustomer"] is True
    assert made["endsAt"].startswith("2026-11-22T19:13:44")  # issued at the first attempt, valid 48 hours
    assert made["customerGets"]["value"] == {"percentage": 0.1}
    # and the coupon keeps the store's id and source; the run's log has no unregistered mark
    coupon = stage.container.flows.coupons.get(ws.workspace_id, code)
    assert coupon is not None and coupon.store_id == made["id"] and coupon.registered is True
    assert coupon.source_id == ws.sources["shopify"]["source_id"]
    finished = runs(stage, ws, jane(stage, ws))["abandoned-checkout"]
    assert finished["status"] == "done" and "coupon_registered" not in finished["log"][-1]


def test_a_code_the_store_already_has_counts_as_created(stage, flows_ws, shop, monkeypatch):
    ws = flows_ws
    # Given a connected source (`shop`), and a first attempt that made the code in the store
    # but crashed before recording the store's id
    calls = fail_once(monkeypatch, stage.container.flows.engine.coupons, "registered")
    # When the step runs, and again
    stage.container.flows.tick(CHECKOUT_AT + timedelta(hours=4, minutes=5))
    stage.container.flows.tick(CHECKOUT_AT + timedelta(hours=5))

    # Then the second creation was refused as TAKEN and taken as done: one code, one email
    assert len(calls) == 2 and creations(shop) == 2 and len(shop.discounts) == 1
    (email,) = sent_emails(stage)
    coupon = stage.container.flows.coupons.get(ws.workspace_id, code_of(email))
    assert coupon is not None and coupon.store_id == "exists" and coupon.registered is True


def test_a_store_that_refuses_the_code_holds_the_message(stage, flows_ws, shop):
    ws = flows_ws
    # Given a connected source (`shop`) whose store refuses the discount (a userError)
    shop.then(user_errors(MUTATION, (["basicCodeDiscount", "endsAt"], "Ends at is invalid", "INVALID")))
    # When the reminder is due
    stage.container.flows.tick(CHECKOUT_AT + timedelta(hours=4, minutes=5))
    held = runs(stage, ws, jane(stage, ws))["abandoned-checkout"]
    nothing_sent = sent_emails(stage)
    # and the step is retried once the store accepts
    stage.container.flows.tick(CHECKOUT_AT + timedelta(hours=5))

    # Then no message went with a dead code; the run stayed active and says why
    assert nothing_sent == []
    assert held["status"] == "active" and held["step"] == 1 and held["tries"] == 1
    assert held["error"].startswith("CouponNotInStore: the store did not create the coupon")
    assert "Ends at is invalid" in held["error"]
    # and the retry sent the reminder with the code the store then made
    (email,) = sent_emails(stage)
    assert [d["code"] for d in shop.discounts] == [code_of(email)]


def test_an_unconnected_source_issues_the_code_here_only_marked(stage, flows_ws):
    ws = flows_ws
    # Given Jane's checkout from a Shopify source without Admin API credentials
    abandon(stage, ws)
    # When the reminder is due
    stage.container.flows.tick(CHECKOUT_AT + timedelta(hours=4, minutes=5))
    # Then it goes as before, with a code issued here, marked as not in the store
    (email,) = sent_emails(stage)
    coupon = stage.container.flows.coupons.get(ws.workspace_id, code_of(email))
    assert coupon is not None and coupon.registered is False and coupon.store_id is None
    finished = runs(stage, ws, jane(stage, ws))["abandoned-checkout"]
    assert finished["log"][-1]["coupon_registered"] is False
    stats = stage.container.flows.stats.get(ws.workspace_id, "flow#abandoned-checkout")
    assert stats["sent"] == 1 and stats["codes_unregistered"] == 1
    # and the flow list says so for the flows that issue coupons
    listed = {f["flow_id"]: f for f in stage.container.flows.all(ws.workspace_id)}
    assert listed["abandoned-checkout"]["codes_unregistered"] == 1
    assert listed["win-back"]["codes_unregistered"] == 0 and "codes_unregistered" not in listed["welcome"]
