"""Automated flows end to end in the embedded AWS: triggers from the streams, the minute
tick, the guardrails, and exits, with the flows shipped in `flows/`."""

from __future__ import annotations

import json
from calendar import isleap
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.identity import customer_id_for
from tests.conftest import event_bytes
from tests.integration.test_notifications import SENDER, sent_emails

FLOWS = Path(__file__).resolve().parents[2] / "flows"
CHECKOUT_AT = datetime(2026, 11, 20, 15, 8, 44, tzinfo=UTC)  # events/shopify/checkouts_create.json


@pytest.fixture
def flows_ws(stage, ws):
    """A workspace with the shipped flows applied and a verified sender."""
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, [], SENDER, None)
    stage.container.flows.clock = lambda: CHECKOUT_AT  # the fixtures' time, not today's
    for path in sorted(FLOWS.glob("*.json")):
        stage.container.flows.apply(ws.workspace_id, json.loads(path.read_text()))
    return ws


def jane(stage, ws) -> str:
    settings = stage.container.workspaces.settings(ws.workspace_id)
    return customer_id_for(settings.id_salt, "email:jane.doe@example.com")


def runs(stage, ws, customer_id: str) -> dict[str, dict]:
    return {r["flow_id"]: r for r in stage.container.flows.runs(ws.workspace_id, customer_id)}


def test_abandoned_checkout_gets_one_reminder_with_a_coupon(stage, flows_ws):
    ws = flows_ws
    # Given Jane's checkout, delivered twice, and no order
    body = event_bytes("shopify/checkouts_create.json")
    stage.send(ws, "shopify", "checkouts/create", body, delivery_id="k-1")
    stage.send(ws, "shopify", "checkouts/update", body, delivery_id="k-2")
    stage.drain()
    run = runs(stage, ws, jane(stage, ws))["abandoned-checkout"]
    assert run["status"] == "active" and run["due"].startswith("2026-11-20T15:08:44")
    # When the tick runs an hour in: nothing is due yet
    stage.container.flows.tick(CHECKOUT_AT + timedelta(hours=1))
    assert sent_emails(stage) == []
    # When it runs after four hours, twice (a re-run schedule), and the checkout comes again
    stage.container.flows.tick(CHECKOUT_AT + timedelta(hours=4, minutes=5))
    stage.container.flows.tick(CHECKOUT_AT + timedelta(hours=4, minutes=6))
    stage.send(ws, "shopify", "checkouts/update", body, delivery_id="k-3")
    stage.drain()
    stage.container.flows.tick(CHECKOUT_AT + timedelta(hours=5))
    # Then exactly one reminder went out, with a unique coupon valid for 48 hours
    (email,) = sent_emails(stage)
    assert email["To"] == "jane.doe@example.com"
    text = email.get_body(("plain",)).get_content()
    code = text.split("Use ", 1)[1].split(" ", 1)[0]
    assert code.startswith("BACK") and len(code) == 14
    coupon = stage.container.flows.coupons.get(ws.workspace_id, code)
    assert (
        coupon is not None
        and coupon.percent_off == 10
        and coupon.expires_at.startswith("2026-11-22T19:13:44")
    )
    assert "2026-11-22 14:13 EST" in text  # the expiry, in Jane's local time (Michigan: America/Detroit)
    assert email["List-Unsubscribe"]
    stats = stage.container.flows.stats.get(ws.workspace_id, "flow#abandoned-checkout")
    assert stats["sent"] == 1 and stats["dropped"] == 0
    # And the flow's results through the API say so, with its coupon issued
    shown = json.loads(stage.get(ws, "/flows/abandoned-checkout").body)["results"]
    assert (shown["total"]["kind"], shown["total"]["sent"], shown["total"]["codes_issued"]) == ("flow", 1, 1)
    assert shown["total"]["revenue"] == "0.00" and shown["variants"] == []
    finished = runs(stage, ws, jane(stage, ws))["abandoned-checkout"]
    assert finished["status"] == "done" and [e["status"] for e in finished["log"]] == ["sent"]


def test_an_order_ends_the_recovery_before_any_reminder(stage, flows_ws):
    ws = flows_ws
    # Given Jane's checkout
    stage.send(ws, "shopify", "checkouts/create", event_bytes("shopify/checkouts_create.json"))
    stage.drain()
    # When she orders seven minutes later
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    # Then her recovery run has ended, and no tick sends her a reminder
    run = runs(stage, ws, jane(stage, ws))["abandoned-checkout"]
    assert run["status"] == "exited" and run["reason"] == "ordered"
    stage.container.flows.tick(CHECKOUT_AT + timedelta(hours=6))
    assert not [e for e in sent_emails(stage) if "cart" in str(e["Subject"])]


def test_order_seen_only_by_the_profile_still_stops_the_reminder(stage, flows_ws):
    ws = flows_ws
    # Given Jane's checkout and her order, but the run was not told (the exit event is lost)
    stage.send(ws, "shopify", "checkouts/create", event_bytes("shopify/checkouts_create.json"))
    stage.drain()
    service = stage.container.flows
    original = service.on_exit_event
    service.on_exit_event = lambda *a, **k: []
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    service.on_exit_event = original
    assert runs(stage, ws, jane(stage, ws))["abandoned-checkout"]["status"] == "active"
    # When the reminder falls due
    service.tick(CHECKOUT_AT + timedelta(hours=5))
    # Then the profile's order ends it before sending
    run = runs(stage, ws, jane(stage, ws))["abandoned-checkout"]
    assert run["status"] == "exited" and run["reason"] == "ordered"
    assert not [e for e in sent_emails(stage) if "cart" in str(e["Subject"])]


def test_welcome_follows_a_first_order_once_and_needs_consent(stage, flows_ws):
    ws = flows_ws
    # Given Jane's first order with email marketing consent, delivered twice
    body = json.loads(event_bytes("shopify/orders_create.json"))
    body["customer"]["email_marketing_consent"] = {"state": "subscribed", "opt_in_level": "single_opt_in"}
    stage.send(ws, "shopify", "orders/create", json.dumps(body).encode(), delivery_id="o-1")
    stage.send(ws, "shopify", "orders/create", json.dumps(body).encode(), delivery_id="o-2")
    stage.drain()
    # And Rob's first order, without consent
    text = json.dumps(body).replace("jane.doe", "rob.roe").replace("Jane.Doe", "Rob.Roe")
    rob = json.loads(text.replace("555-0147", "555-0199").replace("5550147", "5550199"))
    rob["id"] += 1
    rob["customer"]["id"] += 1
    rob["customer"]["email_marketing_consent"] = {"state": "not_subscribed"}
    rob["buyer_accepts_marketing"] = False
    stage.send(ws, "shopify", "orders/create", json.dumps(rob).encode())
    stage.drain()
    # When the welcome falls due (two hours after the order, 17:15 UTC: not quiet hours)
    stage.container.flows.tick(datetime(2026, 11, 20, 17, 20, tzinfo=UTC))
    # Then Jane got one welcome, and Rob none
    welcomes = [e for e in sent_emails(stage) if str(e["Subject"]).startswith("Welcome")]
    assert [str(e["To"]) for e in welcomes] == ["jane.doe@example.com"]
    title = json.loads(event_bytes("shopify/orders_create.json"))["line_items"][0]["title"]
    assert f"We hope you enjoy {title}" in welcomes[0].get_body(("html",)).get_content()
    settings = stage.container.workspaces.settings(ws.workspace_id)
    rob_id = customer_id_for(settings.id_salt, "email:rob.roe@example.com")
    (log,) = runs(stage, ws, rob_id)["welcome"]["log"]
    assert log["status"] == "dropped" and "consent" in log["reason"]


def test_birthday_greeting_at_ten_in_the_customers_time_zone(frozen_now, stage, flows_ws):
    ws = flows_ws
    shanghai = ZoneInfo("Asia/Shanghai")
    # Given a customer in Shanghai whose birthday is ten days from today there, subscribed
    # to email (born in a leap year, so every day of the calendar exists)
    birthday = frozen_now.astimezone(shanghai).date() + timedelta(days=10)
    customer = json.loads(event_bytes("generic/customer.json"))
    customer.update(birthday=f"1992-{birthday:%m-%d}", timezone="Asia/Shanghai", phone=None)
    stage.send(ws, "generic", "customer", json.dumps(customer).encode())
    stage.drain()
    settings = stage.container.workspaces.settings(ws.workspace_id)
    cid = customer_id_for(settings.id_salt, "email:jane.doe@example.com")
    run = runs(stage, ws, cid)["birthday"]
    # Then the run waits for that day, from midnight in Shanghai (16:00 UTC the day before)
    midnight = datetime.combine(birthday, time(0), tzinfo=shanghai).astimezone(UTC)
    assert run["run_id"] == f"birthday#{birthday.year}"
    assert run["due"].startswith(f"{midnight:%Y-%m-%dT%H:%M:%S}")
    # When the tick runs at 09:59 in Shanghai: nothing yet; at 10:01: the greeting
    ten = datetime.combine(birthday, time(10), tzinfo=shanghai).astimezone(UTC)
    stage.container.flows.tick(ten - timedelta(minutes=1))
    assert sent_emails(stage) == []
    stage.container.flows.tick(ten + timedelta(minutes=1))
    (email,) = sent_emails(stage)
    assert str(email["Subject"]).startswith("Happy birthday")
    # And next year's run is waiting, from midnight in Shanghai on the same day
    after = {r["run_id"]: r for r in stage.container.flows.runs(ws.workspace_id, cid)}
    assert after[f"birthday#{birthday.year}"]["status"] == "done"
    following = after[f"birthday#{birthday.year + 1}"]
    next_midnight = datetime.combine(birthday.replace(year=birthday.year + 1), time(0), tzinfo=shanghai)
    assert following["status"] == "active"
    assert following["due"].startswith(f"{next_midnight.astimezone(UTC):%Y-%m-%dT%H:%M:%S}")


def test_a_29_february_birthday_is_greeted_on_28_february_in_a_common_year(frozen_now, stage, flows_ws):
    ws = flows_ws
    # Given a customer in UTC born on 29 February
    customer = json.loads(event_bytes("generic/customer.json"))
    customer.update(birthday="1992-02-29", timezone="UTC", phone=None)
    stage.send(ws, "generic", "customer", json.dumps(customer).encode())
    stage.drain()
    settings = stage.container.workspaces.settings(ws.workspace_id)
    cid = customer_id_for(settings.id_salt, "email:jane.doe@example.com")
    # Then the run waits for the next 29 February, or the 28th in a common year, from today on
    today = frozen_now.date()
    days = [date(y, 2, 29) if isleap(y) else date(y, 2, 28) for y in (today.year, today.year + 1)]
    expected = next(d for d in days if d >= today)
    run = runs(stage, ws, cid)["birthday"]
    assert run["run_id"] == f"birthday#{expected.year}"
    assert run["due"].startswith(f"{expected:%Y-%m-%d}T00:00:00")


def test_win_back_starts_when_a_customer_enters_at_risk_and_respects_reentry(stage, flows_ws):
    ws = flows_ws
    # Given Jane, a one-order customer with email consent
    body = json.loads(event_bytes("shopify/orders_create.json"))
    body["customer"]["email_marketing_consent"] = {"state": "subscribed", "opt_in_level": "single_opt_in"}
    stage.send(ws, "shopify", "orders/create", json.dumps(body).encode())
    stage.drain()
    cid = jane(stage, ws)
    profile = stage.container.profile_store.load(ws.workspace_id, cid)
    # When time passes until her memberships say at risk (the hourly recheck does this)
    membership = stage.container.membership
    later = datetime(2027, 3, 1, 12, tzinfo=UTC)
    while "lifecycle:at_risk" not in membership.apply(ws.workspace_id, cid, profile, later).entered:
        later += timedelta(days=7)
        assert later < datetime(2028, 1, 1, tzinfo=UTC), "never entered at_risk"
    # Then a win-back run started on that day, and a second entry soon after starts none
    run = runs(stage, ws, cid)["win-back"]
    assert run["status"] == "active" and run["started"].startswith(f"{later:%Y-%m-%d}")
    flows = stage.container.flows
    from chalicelib.domain.messaging.flow_definition import TriggerEvent

    again = TriggerEvent("segment.entered", ws.workspace_id, cid, "x", later + timedelta(days=30))
    assert flows.trigger(again.__class__(**{**again.__dict__, "segment": "lifecycle:at_risk"})) == []
    # When the first message falls due at 10:00 (her time: she lives in Michigan), it is sent
    flows.tick(datetime.combine(later.date() + timedelta(days=1), time(10, 5), ZoneInfo("America/Detroit")))
    assert [str(e["Subject"]) for e in sent_emails(stage) if "miss" in str(e["Subject"])]


def test_flow_api_validates_and_dry_runs(stage, flows_ws):
    ws = flows_ws
    headers = {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"}
    # Given a flow with a bad condition, and one naming a template that does not exist
    bad = {
        "name": "Bad",
        "trigger": {"event": "order.first"},
        "conditions": "orders_count >> 1",
        "steps": [{"send": {"template": "flow_welcome"}}],
    }
    response = stage.http.http.put("/flows/bad", body=json.dumps(bad), headers=headers)
    assert response.status_code == 400
    assert json.loads(response.body)["details"][0]["field"] == "conditions"
    missing = {**bad, "conditions": None, "steps": [{"send": {"template": "nope"}}]}
    response = stage.http.http.put("/flows/bad", body=json.dumps(missing), headers=headers)
    assert response.status_code == 400 and "nope" in json.loads(response.body)["message"]
    # When Jane (subscribed) exists and the abandoned-checkout flow is dry-run for her
    body = json.loads(event_bytes("shopify/orders_create.json"))
    body["customer"]["email_marketing_consent"] = {"state": "subscribed", "opt_in_level": "single_opt_in"}
    stage.send(ws, "shopify", "orders/create", json.dumps(body).encode())
    stage.drain()
    response = stage.http.http.post(
        "/flows/abandoned-checkout/dry-run",
        body=json.dumps({"customer_id": jane(stage, ws), "at": "2026-11-24T00:00:00Z"}),
        headers=headers,
    )
    # Then it shows the wait and the send moved out of quiet hours in her zone (Michigan:
    # 23:00 -> 09:00 EST, 04:00 -> 14:00 UTC)
    assert response.status_code == 200
    wait, send = json.loads(response.body)["steps"]
    assert wait["wait_until"].startswith("2026-11-24T04:00:00")
    assert send["send_at"].startswith("2026-11-24T14:00:00") and send["coupon"] is True
    assert send["outcome"] == "would send" and send["reason"] == "quiet hours"
    # And applying the same file again creates no new version
    again = stage.http.http.put(
        "/flows/abandoned-checkout", body=(FLOWS / "abandoned_checkout.json").read_text(), headers=headers
    )
    assert again.status_code == 200 and json.loads(again.body)["version"] == 1
