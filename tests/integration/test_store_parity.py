"""WooCommerce and generic stores end to end: consent from opt-in plugins, shipment
tracking, deleted and restored orders, generic checkouts, refunds and privacy requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.adapters import records
from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.messaging import notifications
from chalicelib.domain.messaging.model import Channel, Outgoing, Policy, Purpose
from tests.conftest import load_event
from tests.integration.test_notifications import SENDER, sent_emails

LENA = "lena.hofer@example.org"
NO_QUIET_HOURS = Policy(sender_email=SENDER, quiet_start=0, quiet_end=0)
FLOWS = __import__("pathlib").Path(__file__).resolve().parents[2] / "flows"


def woo_order(order_id: int = 5127, **changes) -> dict:
    body = load_event("woocommerce/order_created.json")
    body.update(id=order_id, number=str(order_id), currency="USD", **changes)
    return body


def customer_id(stage, ws, email: str) -> str:
    settings = stage.container.workspaces.settings(ws.workspace_id)
    return customer_id_for(settings.id_salt, f"email:{email}")


def profile(stage, ws, email: str) -> dict:
    (found,) = json.loads(stage.get(ws, f"/customers?email={email}").body)["customers"]
    return found


def marketing_email(stage, ws, email: str, name: str) -> str:
    cid = customer_id(stage, ws, email)
    profile = stage.container.profile_store.load(ws.workspace_id, cid)
    message = Outgoing(ws.workspace_id, cid, f"camp:{name}", Channel.EMAIL, Purpose.MARKETING, "news")
    return str(stage.container.messaging.send(message, profile, NO_QUIET_HOURS, datetime.now(UTC)).status)


def test_a_woo_buyer_who_opted_in_through_a_plugin_can_get_marketing_and_one_without_cannot(stage, ws):
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.http.http.put(
        "/templates/news",
        body=json.dumps({"name": "News", "subject": "News", "text": "Hello {{ first_name }}"}),
        headers={"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"},
    )
    # Given Lena's order, whose meta holds Mailchimp for WooCommerce's opt-in, and a guest's
    # order without any opt-in plugin meta
    lena = woo_order()
    lena["meta_data"].append({"id": 1, "key": "mailchimp_woocommerce_is_subscribed", "value": "1"})
    guest = load_event("woocommerce/order_guest_created.json")
    assert stage.send(ws, "woocommerce", "order.created", lena).status_code == 200
    assert stage.send(ws, "woocommerce", "order.created", guest).status_code == 200
    stage.drain()
    # Then Lena's profile is subscribed to email, the guest's says nothing
    assert profile(stage, ws, LENA)["email_consent"]["state"] == "subscribed"
    guest_email = guest["billing"]["email"].strip().lower()
    assert profile(stage, ws, guest_email)["email_consent"] is None
    # And a marketing email reaches Lena and is dropped for the guest
    assert marketing_email(stage, ws, LENA, "spring") == "sent"
    assert marketing_email(stage, ws, guest_email, "spring") == "dropped"
    assert [e["To"] for e in sent_emails(stage)] == [LENA]


def test_a_source_reads_its_own_consent_key_once_updated(stage, ws, monkeypatch, capsys):
    from patron import cli

    monkeypatch.setattr(cli, "_container", lambda args: stage.container)  # the CLI on this stage
    # Given a shop whose checkout keeps the opt-in under its own key
    body = woo_order()
    body["meta_data"].append({"id": 1, "key": "_wc_other/my-shop/newsletter", "value": "yes"})
    stage.send(ws, "woocommerce", "order.created", body)
    stage.drain()
    assert profile(stage, ws, LENA)["email_consent"] is None  # not a default key
    # When the operator names that key for the source
    source_id = ws.sources["woocommerce"]["source_id"]
    argv = [
        "source",
        "update",
        ws.workspace_id,
        source_id,
        "--email-consent-keys",
        "_wc_other/my-shop/newsletter",
    ]
    assert cli.main(argv) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["email_consent_keys"] == ["_wc_other/my-shop/newsletter"]
    assert shown["sms_consent_keys"] == "default"
    # And the order is updated
    body["date_modified_gmt"] = "2026-11-20T15:20:00"
    stage.send(ws, "woocommerce", "order.updated", body)
    stage.drain()
    # Then she is subscribed
    assert profile(stage, ws, LENA)["email_consent"]["state"] == "subscribed"
    # And a malformed key list is refused
    assert cli.main([*argv[:4], "--email-consent-keys", "a b"]) != 0


def test_source_add_keeps_the_consent_keys_it_is_given(stage, ws, monkeypatch, capsys):
    from patron import cli

    monkeypatch.setattr(cli, "_container", lambda args: stage.container)
    # When a WooCommerce source is added with its own keys and no SMS key
    argv = [
        "source",
        "add",
        ws.workspace_id,
        "--platform",
        "woocommerce",
        "--shop-domain",
        "other.example.org",
    ]
    argv += ["--secret", "s" * 16, "--email-consent-keys", "k1,k2@k2_at", "--sms-consent-keys", "none"]
    assert cli.main(argv) == 0
    # Then the webhook path finds them on the source; a source added without them has the defaults
    source = stage.container.workspaces.find_source("woocommerce", "other.example.org")
    assert (source.email_consent_keys, source.sms_consent_keys) == (("k1", "k2@k2_at"), ())
    default = stage.container.workspaces.find_source("woocommerce", "shop.example.org")
    assert (default.email_consent_keys, default.sms_consent_keys) == (None, None)


@pytest.fixture
def notifying(stage, ws, monkeypatch):
    monkeypatch.setattr(notifications, "FRESH", timedelta(days=3650))  # the fixtures' dates
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, ["shipped"], SENDER, None)
    return ws


def test_a_woo_order_tracked_by_shipment_tracking_gets_the_shipping_notice_with_its_link(stage, notifying):
    ws = notifying
    # Given Lena's paid order
    stage.send(ws, "woocommerce", "order.created", woo_order(5131))
    stage.drain()
    assert sent_emails(stage) == []
    # When the shop adds a Shipment Tracking item (the order stays "processing")
    shipped = load_event("woocommerce/order_updated_shipped.json")
    stage.send(ws, "woocommerce", "order.updated", shipped, delivery_id="t-1")
    stage.send(ws, "woocommerce", "order.updated", shipped, delivery_id="t-2")
    stage.drain()
    # Then one shipping notice went out, with the tracking link
    (email,) = sent_emails(stage)
    assert email["Subject"] == "Your order 5131 is on its way" and email["To"] == LENA
    link = "https://www.post.at/s/sendungsdetails?snr=1043999990023614101"
    assert link in email.get_body(("plain",)).get_content()
    # And the order view shows the shipment and the coupon
    source_id = ws.sources["woocommerce"]["source_id"]
    view = json.loads(stage.get(ws, f"/orders/{source_id}.5131").body)
    assert view["tracking"] == [link] and view["fulfillment_status"] == "shipped"
    assert view["discount_codes"] == [{"code": "welcome10", "amount": "4.00"}]


def test_a_deleted_order_gets_no_notification(stage, notifying):
    ws = notifying
    # Given Lena's order, trashed
    stage.send(ws, "woocommerce", "order.created", woo_order(5131))
    stage.send(ws, "woocommerce", "order.deleted", {"id": 5131}, delivery_id="del-1")
    stage.drain()
    # When a completed, tracked state of it arrives late
    shipped = load_event("woocommerce/order_updated_shipped.json") | {"status": "completed"}
    stage.send(ws, "woocommerce", "order.updated", shipped)
    stage.drain()
    # Then no shipping notice goes out for the deleted order
    assert sent_emails(stage) == []


@pytest.mark.parametrize(
    "restored_first", [False, True], ids=["deleted-then-restored", "restored-then-deleted"]
)
def test_a_deleted_order_stops_counting_and_a_restored_one_counts_again(stage, ws, restored_first):
    # Given Lena's order of 104.88
    stage.send(ws, "woocommerce", "order.created", woo_order())
    stage.drain()
    assert profile(stage, ws, LENA)["total_spent"] == "104.88"
    deleted = load_event("woocommerce/order_deleted.json") | {"id": 5127}
    restored = woo_order(date_modified_gmt="2026-11-20T17:00:00")
    if not restored_first:
        # When the shop trashes it
        stage.send(ws, "woocommerce", "order.deleted", deleted, delivery_id="del-1")
        stage.send(ws, "woocommerce", "order.deleted", deleted, delivery_id="del-1")  # a repeat
        stage.drain()
        # Then it no longer counts
        gone = profile(stage, ws, LENA)
        assert (gone["orders_count"], gone["total_spent"]) == (0, "0.00")
    # When the restoration and the deletion have both arrived, in either order
    stage.send(ws, "woocommerce", "order.restored", restored, delivery_id="rst-1")
    if restored_first:
        stage.send(ws, "woocommerce", "order.deleted", deleted, delivery_id="del-1")
    stage.drain()
    # Then it counts again
    back = profile(stage, ws, LENA)
    assert (back["orders_count"], back["total_spent"]) == (1, "104.88")
    # And its timeline says what happened
    source_id = ws.sources["woocommerce"]["source_id"]
    view = json.loads(stage.get(ws, f"/orders/{source_id}.5127").body)
    assert view["deleted"] is False
    assert {"order_deleted", "order_restored"} <= {e["type"] for e in view["history"]}


def test_an_order_deleted_twice_and_restored_once_stays_deleted(stage, ws):
    # Given Lena's order, trashed, restored, and trashed again
    stage.send(ws, "woocommerce", "order.created", woo_order())
    stage.send(ws, "woocommerce", "order.deleted", {"id": 5127}, delivery_id="del-1")
    stage.send(ws, "woocommerce", "order.restored", woo_order(date_modified_gmt="2026-11-20T17:00:00"))
    stage.send(ws, "woocommerce", "order.deleted", {"id": 5127}, delivery_id="del-2")
    stage.drain()
    # Then it does not count
    assert profile(stage, ws, LENA)["total_spent"] == "0.00"


def test_a_generic_refund_on_its_own_lowers_the_net_spend(stage, ws):
    # Given Jane's POS order of 64.00
    stage.send(ws, "generic", "order", load_event("generic/order.json"))
    stage.send(ws, "generic", "customer", load_event("generic/customer.json"))
    stage.drain()
    # When the POS refunds 24.00 of it on its own, twice
    refund = load_event("generic/refund.json")
    first = stage.send(ws, "generic", "refund", refund)
    again = stage.send(ws, "generic", "refund", refund)
    stage.drain()
    # Then the net spend is 40.00, once
    assert [json.loads(r.body)["status"] for r in (first, again)] == ["stored", "duplicate"]
    jane = profile(stage, ws, "jane.doe@example.com")
    assert (jane["total_spent"], jane["total_refunded"], jane["net_spent"]) == ("64.00", "24.00", "40.00")


def recovery_flow(stage, ws) -> tuple[dict, datetime]:
    """The shipped abandoned-checkout flow, on, with the clock at the generic checkout's start."""
    checkout = load_event("generic/checkout.json")
    started = datetime.fromisoformat(checkout["created_at"]).astimezone(UTC)
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, [], SENDER, None)
    stage.container.flows.clock = lambda: started
    stage.container.flows.apply(ws.workspace_id, json.loads((FLOWS / "abandoned_checkout.json").read_text()))
    return checkout, started


def test_a_generic_checkout_without_an_order_gets_the_abandoned_checkout_reminder(stage, ws):
    checkout, started = recovery_flow(stage, ws)
    # Given Sam's checkout from a generic shop, and no order
    assert json.loads(stage.send(ws, "generic", "checkout", checkout).body)["status"] == "stored"
    stage.drain()
    # When the flow's wait is over
    stage.container.flows.tick(started + timedelta(hours=4, minutes=5))
    # Then Sam got the reminder with the recovery link and a coupon
    (email,) = sent_emails(stage)
    assert email["To"] == "sam.rivera@example.com"
    text = email.get_body(("plain",)).get_content()
    assert "https://shop.example.com/cart/recover/7f3a91" in text and "Use BACK" in text


def test_a_completed_generic_checkout_ends_the_recovery(stage, ws):
    checkout, started = recovery_flow(stage, ws)
    # Given Sam's checkout, then its completion an hour later
    stage.send(ws, "generic", "checkout", checkout)
    done = checkout | {"updated_at": "2026-11-21T12:12:30+01:00", "completed_at": "2026-11-21T12:12:00+01:00"}
    stage.send(ws, "generic", "checkout", done)
    stage.drain()
    # When the wait is over / Then no reminder goes out
    stage.container.flows.tick(started + timedelta(hours=4, minutes=5))
    assert sent_emails(stage) == []


def test_a_generic_redact_request_is_stored_and_erases_the_customer(stage, ws):
    # Given Jane's POS order and customer record
    stage.send(ws, "generic", "order", load_event("generic/order.json"))
    stage.send(ws, "generic", "customer", load_event("generic/customer.json"))
    stage.drain()
    # When the POS asks to redact her, twice
    body = load_event("generic/customer_redact.json")
    statuses = [json.loads(stage.send(ws, "generic", "customer_redact", body).body)["status"] for _ in "ab"]
    stage.drain()
    stage.drain()
    # Then one privacy item is stored, as a Shopify customers/redact would be
    assert statuses == ["stored", "duplicate"]
    source_id = ws.sources["generic"]["source_id"]
    pk = records.privacy_pk(ws.workspace_id, source_id, "req-2026-0117")
    item = stage.client("dynamodb").get_item(TableName=stage.info.ingest_table, Key={"pk": {"S": pk}})["Item"]
    assert (item["t"]["S"], item["req"]["S"], item["pl"]["S"]) == ("privacy", "customers_redact", "generic")
    # And the privacy service carried it out: no profile remains, the audit says erased
    assert json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"] == []
    (audit,) = stage.container.privacy_store.requests(ws.workspace_id)
    assert audit["state"] == "erased" and audit["profiles_found"] == 1


def test_a_generic_data_request_is_exported(stage, ws):
    # Given Jane's POS order and customer record
    stage.send(ws, "generic", "order", load_event("generic/order.json"))
    stage.send(ws, "generic", "customer", load_event("generic/customer.json"))
    stage.drain()
    # When the POS asks for her data
    stage.send(ws, "generic", "customer_data_request", load_event("generic/customer_data_request.json"))
    stage.drain()
    # Then the export holds her profile and order
    (audit,) = stage.container.privacy_store.requests(ws.workspace_id)
    export = stage.container.privacy_store.export(ws.workspace_id, "req-2026-0118")
    assert audit["state"] == "export_ready"
    assert [o["total"] for o in export["orders"]] == ["64.00"]
