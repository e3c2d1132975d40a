"""SES events in the CRM table: statistics and engagement counted once, tiers feeding the
caps, orders attributed to clicks, the Send event closing the exactly-once gap, and the
messaging report over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.messaging.model import Channel, Outgoing, Policy, Purpose
from tests.conftest import event_bytes
from tests.integration.test_notifications import SENDER, sent_emails, ses_event

SPRING = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # when the campaign went out (after her order)
NO_QUIET_HOURS = Policy(sender_email=SENDER, quiet_start=0, quiet_end=0)


def ses_batch(fixture: str, workspace_id: str, customer_id: str, key: str, variant: str = "b") -> dict:
    return ses_event(fixture, workspace_id, customer_id, key, variant)


def deliver(stage, ws, jane: str, *fixtures: str, key: str = "camp:spring") -> None:
    from chalicelib.handlers import streams
    from patron.poller import LambdaContext

    for fixture in fixtures:
        result = streams.ses_events(ses_batch(fixture, ws.workspace_id, jane, key), LambdaContext("ses"))
        assert result == {"batchItemFailures": []}


def order_body(order_id: int, created: str, total: str = "122.00", currency: str = "USD") -> bytes:
    body = json.loads(event_bytes("shopify/orders_create.json"))
    body.update(id=order_id, name=f"#{order_id}", order_number=order_id, currency=currency)
    body.update(created_at=created, updated_at=created, processed_at=created, total_price=total)
    return json.dumps(body).encode()


@pytest.fixture
def jane(stage, ws) -> str:
    """Jane ordered once and subscribed to email; the spring campaign reached her."""
    body = json.loads(event_bytes("shopify/orders_create.json"))
    stage.send(ws, "shopify", "orders/create", json.dumps(body).encode())
    stage.drain()
    settings = stage.container.workspaces.settings(ws.workspace_id)
    customer = customer_id_for(settings.id_salt, "email:jane.doe@example.com")
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.http.http.put(
        "/templates/news",
        body=json.dumps({"name": "News", "subject": "News", "text": "Hello {{ first_name }}"}),
        headers={"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"},
    )
    assert campaign(stage, ws, customer, "spring", SPRING) == "sent"
    return customer


def campaign(stage, ws, customer: str, name: str, now: datetime) -> str:
    profile = stage.container.profile_store.load(ws.workspace_id, customer)
    message = Outgoing(ws.workspace_id, customer, f"camp:{name}", Channel.EMAIL, Purpose.MARKETING, "news")
    return str(stage.container.messaging.send(message, profile, NO_QUIET_HOURS, now).status)


def test_ses_events_count_once_and_make_the_customer_highly_engaged(stage, ws, jane):
    stats = stage.container.messaging_stats
    # When SES reports the delivery, an open, the same open again, a click, the click again
    deliver(stage, ws, jane, "delivery.json", "open.json", "open.json", "click.json", "click.json")
    # Then the campaign and its variant count one of each
    for scope in ("camp#spring", "camp#spring#v#b"):
        (row,) = stats.report(ws.workspace_id, scope).scopes
        assert (row.delivered, row.opened, row.clicked, row.open_rate, row.click_rate) == (1, 1, 1, 1.0, 1.0)
    # And the claim holds each event's time
    (claim,) = stage.container.messaging.ledger.entries(ws.workspace_id, jane)
    assert (claim["ev_delivery"], claim["ev_open"], claim["ev_click"]) == (
        "2026-11-20T16:00:04.812000Z",
        "2026-11-20T16:30:00.000000Z",
        "2026-11-20T16:31:00.000000Z",
    )
    # And Jane is highly engaged the next day: two marketing messages a day instead of one
    next_day = SPRING + timedelta(days=1)
    view = stage.container.engagement.view(ws.workspace_id, jane, next_day)
    assert (view.tier, view.deliveries, view.opens, view.clicks, view.deliveries_since_engaged) == (
        "high",
        1,
        1,
        1,
        0,
    )
    assert view.last_click is not None and (view.last_click.key, view.last_click.variant) == (
        "camp:spring",
        "b",
    )
    statuses = [campaign(stage, ws, jane, name, next_day) for name in ("summer", "autumn", "winter")]
    assert statuses == ["sent", "sent", "deferred"]
    # And the customer API shows her engagement; the report shows the campaign
    detail = json.loads(stage.get(ws, f"/customers/{jane}").body)
    assert (detail["engagement"]["clicks"], detail["engagement"]["last_click"]["scope"]) == (1, "camp#spring")
    report = json.loads(stage.get(ws, "/messaging/stats").body)
    assert [s["scope"] for s in report["scopes"]] == ["camp#spring", "camp#spring#v#b"]
    assert report["currency"] == "USD" and report["scopes"][0]["click_rate"] == 1.0
    one = stage.get(ws, "/messaging/stats?scope=camp%23spring%23v%23b")
    assert json.loads(one.body)["scopes"][0]["variant"] == "b"
    assert stage.get(ws, "/messaging/stats?scope=camp%23nothing").status_code == 404


def test_a_customer_who_never_answers_gets_few_messages(stage, ws, jane):
    # Given three deliveries to Jane and not one open or click
    for name in ("a", "b"):
        stage.container.messaging.ledger.finish(ws.workspace_id, jane, f"camp:{name}", "sent", "x")
    deliver(stage, ws, jane, "delivery.json")
    for name in ("a", "b"):
        deliver(stage, ws, jane, "delivery.json", key=f"camp:{name}")
    # Then she is in the low tier: one message in three days
    later = SPRING + timedelta(days=100)
    assert stage.container.engagement.tiers(ws.workspace_id, [jane, "c_new"], later) == {
        jane: "low",
        "c_new": "medium",
    }
    assert [campaign(stage, ws, jane, n, later + timedelta(days=d)) for n, d in (("c", 0), ("d", 1))] == [
        "sent",
        "deferred",
    ]


def test_an_order_after_a_click_is_attributed_once_within_the_window(stage, ws, jane):
    stats = stage.container.messaging_stats
    # Given Jane clicked the spring campaign (variant b) on 20 November at 16:31 UTC
    deliver(stage, ws, jane, "delivery.json", "click.json")
    # When she orders the next day, and the whole stream is replayed to the consumer
    stage.send(ws, "shopify", "orders/create", order_body(1002, "2026-11-21T09:00:00-05:00", "80.00"))
    stage.drain()
    stage.poller = stage.new_poller()
    stage.drain()
    # Then the order counts once for the campaign and its variant (her first order came before)
    for scope in ("camp#spring", "camp#spring#v#b"):
        (row,) = stats.report(ws.workspace_id, scope).scopes
        assert (row.orders, row.revenue) == (1, "80.00")
    # When the window is one day and another order comes three days after the click
    stage.container.workspaces.set_engagement(ws.workspace_id, None, 1)
    stage.send(ws, "shopify", "orders/create", order_body(1003, "2026-11-22T09:00:00-05:00"))
    stage.drain()
    # Then it is not attributed
    assert stats.report(ws.workspace_id, "camp#spring").scopes[0].orders == 1


def test_revenue_is_converted_as_the_profiles_convert_it(stage, ws, jane):
    # Given a rate for EUR and a click
    stage.container.workspaces.set_rate(ws.workspace_id, "EUR", Decimal("1.10"))
    deliver(stage, ws, jane, "click.json")
    # When Jane orders for 80 EUR the next day
    stage.send(ws, "shopify", "orders/create", order_body(1004, "2026-11-21T09:00:00-05:00", "80.00", "EUR"))
    stage.drain()
    # Then the campaign earned 88.00 USD, and the attribution says from which click
    (row,) = stage.container.messaging_stats.report(ws.workspace_id, "camp#spring").scopes
    assert (row.orders, row.revenue) == (1, "88.00")
    from chalicelib.adapters.engagement import DynamoAttributions

    (pk,) = [k for k in stage_order_keys(stage) if k.endswith("#1004")]
    attribution = DynamoAttributions(stage.container.crm).get(ws.workspace_id, pk)
    assert attribution is not None
    assert (attribution["mk"], attribution["v"], attribution["clicked"]) == (
        "camp:spring",
        "b",
        "2026-11-20T16:31:00.000000Z",
    )


def stage_order_keys(stage) -> list[str]:
    items = stage.client("dynamodb").scan(TableName=stage.info.ingest_table)["Items"]
    return [i["pk"]["S"] for i in items if "#O#" in i["pk"]["S"]]


def test_a_send_that_ses_reported_is_never_sent_again_after_a_crash(stage, ws, jane):
    ledger = stage.container.messaging.ledger
    # Given a sender that claimed a message, handed it to SES and died before recording it
    crashed_at = SPRING + timedelta(hours=3)
    assert ledger.claim(ws.workspace_id, jane, "camp:summer", crashed_at, timedelta(minutes=5)) == "claimed"
    # When SES's Send event for it arrives
    deliver(stage, ws, jane, "send.json", key="camp:summer")
    # Then the claim is sent, with SES's id
    claim = next(e for e in ledger.entries(ws.workspace_id, jane) if e["sk"] == "camp:summer")
    assert (claim["st"], claim["detail"]) == ("sent", "0100018f3a2b4c5d-ses-message-id-000003")
    # And the retry after the lease sends nothing
    assert campaign(stage, ws, jane, "summer", crashed_at + timedelta(minutes=6)) == "duplicate"
    assert len(sent_emails(stage)) == 1  # the spring campaign only


def test_a_claim_with_a_send_event_is_not_retaken_even_if_it_was_never_marked_sent(stage, ws, jane):
    ledger = stage.container.messaging.ledger
    crashed_at = SPRING + timedelta(hours=3)
    later = crashed_at + timedelta(minutes=6)
    # Given two claims left `sending` by crashes, one of which SES reported sent (ev_send only)
    for key in ("camp:summer", "camp:autumn"):
        assert ledger.claim(ws.workspace_id, jane, key, crashed_at, timedelta(minutes=5)) == "claimed"
    assert ledger.record_event(ws.workspace_id, jane, "camp:summer", "send", "2026-11-20T19:00:00.000000Z")
    # When each is claimed again after its lease
    reported = ledger.claim(ws.workspace_id, jane, "camp:summer", later, timedelta(minutes=5))
    unreported = ledger.claim(ws.workspace_id, jane, "camp:autumn", later, timedelta(minutes=5))
    # Then the reported one is done (and now marked sent); the other is retaken and sent
    assert (reported, unreported) == ("done", "claimed")
    claim = next(e for e in ledger.entries(ws.workspace_id, jane) if e["sk"] == "camp:summer")
    assert claim["st"] == "sent"


def test_an_unsubscribe_counts_once_for_the_campaign_it_came_from(stage, ws, jane):
    # Given the summer campaign sent with a signed link (the link names the campaign)
    stage.container.unsubscribe.public_url = "https://crm.example"
    assert campaign(stage, ws, jane, "summer", SPRING + timedelta(days=1)) == "sent"
    email = sent_emails(stage)[-1]
    token = email["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
    # When the mail client posts the one-click unsubscribe twice
    for _ in range(2):
        answer = stage.http.http.post(
            f"/unsubscribe/{token}",
            body="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 200
    # Then the campaign counts one unsubscribe, and Jane gets no more marketing
    (row,) = stage.container.messaging_stats.report(ws.workspace_id, "camp#summer").scopes
    assert row.unsubscribed == 1
    assert campaign(stage, ws, jane, "autumn", SPRING + timedelta(days=2)) == "dropped"


def test_engagement_times_only_move_forward(stage, ws):
    from chalicelib.adapters.engagement import DynamoEngagement

    engagement = DynamoEngagement(stage.container.crm)
    w = ws.workspace_id
    # Given two deliveries and opens reported out of order
    engagement.delivered(w, "c_1", "2026-11-10T00:00:00.000000Z")
    engagement.delivered(w, "c_1", "2026-11-09T00:00:00.000000Z")
    engagement.opened(w, "c_1", "2026-11-12T00:00:00.000000Z")
    engagement.opened(w, "c_1", "2026-11-11T00:00:00.000000Z")  # older: the second newest
    engagement.opened(w, "c_1", "2026-11-01T00:00:00.000000Z")  # older than both: counted only
    engagement.clicked(w, "c_1", "2026-11-13T00:00:00.000000Z", "camp:b", "camp#b", None)
    engagement.clicked(w, "c_1", "2026-11-12T00:00:00.000000Z", "camp:a", "camp#a", "x")  # late
    engagement.delivered(w, "c_2", "2026-11-10T00:00:00.000000Z")
    # Then counts add up and the times are the newest ones
    item: dict[str, Any] = stage.container.crm.get(f"W#{w}#ENG#c_1", "E") or {}  # as stored
    assert (item["nd"], item["no"], item["nc"], item["ds"]) == (2, 3, 2, 0)
    assert (item["ld"], item["lo"], item["po"], item["lc"]) == (
        "2026-11-10T00:00:00.000000Z",
        "2026-11-12T00:00:00.000000Z",
        "2026-11-11T00:00:00.000000Z",
        "2026-11-13T00:00:00.000000Z",
    )
    assert item["lk"] == {"k": "camp:b", "s": "camp#b", "at": "2026-11-13T00:00:00.000000Z"}
    assert set(engagement.get_many(w, ["c_1", "c_2", "c_3"])) == {"c_1", "c_2"}
    # And the domain reads the item as its engagement state
    state = engagement.get(w, "c_1")
    assert state is not None and (state.deliveries, state.opens, state.clicks) == (2, 3, 2)
    assert state.last_click is not None and (state.last_click.key, state.last_click.scope) == (
        "camp:b",
        "camp#b",
    )


def test_erasing_a_customer_erases_her_engagement(stage, ws, jane):
    # Given Jane's engagement from a click
    deliver(stage, ws, jane, "click.json")
    assert stage.container.engagement.last_click(ws.workspace_id, jane) is not None
    # When Shopify asks to redact her
    stage.send(ws, "shopify", "customers/redact", event_bytes("shopify/customers_redact.json"))
    stage.drain()
    # Then her engagement item is gone with the profile
    assert stage.container.engagement.store.get(ws.workspace_id, jane) is None
