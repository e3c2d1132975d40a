"""The demo's scenarios after the store's history: two abandoned checkouts through the
shipped flows (one recovered with a coupon), and a newsletter campaign through the queue
to the prospects, each checked against what must have been sent."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from patron import http, stack
from patron.local import DEMO_SENDER
from patron.storefront import generic_headers, shopify_headers
from patron.synthetic.store import FIRST, SHOP
from patron.synthetic.storefront_bodies import fixture, timestamp

LOYALTY = "loyalty.demo-books.example"
SHOPPER_ZONES = (
    "America/Los_Angeles",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Pacific/Auckland",
)


def daytime_zone(now: datetime) -> str:
    """A time zone where it is between 10:00 and 20:00 now (marketing waits out quiet hours)."""
    from zoneinfo import ZoneInfo

    for zone in SHOPPER_ZONES:
        if 10 <= now.astimezone(ZoneInfo(zone)).hour < 20:
            return zone
    return SHOPPER_ZONES[0]  # not reached: the zones are at most 10 hours apart


def recovery(local: Any, ws: Any, shop_secret: str, seed: int, store: Any) -> tuple[list[str], int]:
    """Two shoppers leave checkouts five hours ago; one of them orders half an hour later.
    The flows send the other one reminder with a coupon, whose code the connected shop's
    Admin API (`store`, the stand-in) created first, and the buyer a welcome, nothing more.
    Returns the summary lines and the number of failed checks."""
    container = local.harness.container
    container.workspaces.set_messaging(ws.workspace_id, [], DEMO_SENDER, None)
    for path in sorted((stack.ROOT / "flows").glob("*.json")):
        container.flows.apply(ws.workspace_id, json.loads(path.read_text()))
    loyalty_secret = f"gen_demo_{seed:08d}_secret_0000"
    container.tenancy.add_source(ws.workspace_id, "generic", LOYALTY, loyalty_secret)
    now = datetime.now(UTC)
    zone = daytime_zone(now)
    started = now - timedelta(hours=5)
    leaver, buyer = f"lea.{seed}@example.net", f"bo.{seed}@example.net"

    def post(platform: str, topic: str, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        if platform == "shopify":
            headers = shopify_headers(SHOP, topic, shop_secret, raw)
        else:
            headers = generic_headers(LOYALTY, topic, loyalty_secret, raw)
        status, answer = http.post(f"{local.webhook_url}/webhooks/{platform}", raw, headers)
        if status != 200:
            raise RuntimeError(f"demo webhook {topic} answered {status}: {answer}")

    for n, (email, first) in enumerate(((leaver, "Lea"), (buyer, "Bo"))):
        # the loyalty app knows the shopper: subscribed to email, in a zone where it is daytime
        post(
            "generic",
            "customer",
            {
                "type": "customer",
                "id": f"demo-{seed}-{n}",
                "email": email,
                "first_name": first,
                "email_consent": "subscribed",
                "consent_updated_at": timestamp(started - timedelta(days=1)),
                "timezone": zone,
                "updated_at": timestamp(started - timedelta(days=1)),
            },
        )
        checkout = copy.deepcopy(fixture("shopify/checkouts_create.json"))
        checkout.update(
            id=seed * 1000 + n,
            token=f"demo-{seed}-{n}",
            email=email,
            created_at=timestamp(started),
            updated_at=timestamp(started),
            sms_marketing_phone=None,
            abandoned_checkout_url=f"https://{SHOP}/checkouts/demo-{seed}-{n}/recover",
        )
        checkout["shipping_address"] = None
        post("shopify", "checkouts/create", checkout)
    local.wait_idle()
    # Bo orders 30 minutes after the checkout
    ordered_at = timestamp(started + timedelta(minutes=30))
    order = copy.deepcopy(fixture("shopify/orders_create.json"))
    order.update(id=seed * 1000 + 7, name=f"#D{seed}", email=buyer, contact_email=buyer, phone=None)
    order.update(created_at=ordered_at, updated_at=ordered_at, processed_at=ordered_at)
    order["customer"].update(id=seed * 1000 + 7, email=buyer, phone=None, first_name="Bo")
    order["billing_address"] = order["shipping_address"] = None
    # no address either: a Michigan one would set Bo's zone to Detroit, where it may be
    # night now (the welcome then waits out quiet hours); the loyalty app gave the zone
    order["customer"].pop("default_address", None)
    post("shopify", "orders/create", order)
    local.wait_idle()
    # the minute job (it also runs on its own every minute)
    local.run_schedule("flow_tick")
    return _recovery_outcome(local, ws, leaver, buyer, zone, store)


def night_zone(now: datetime) -> str:
    """A time zone in its quiet hours now (22:00 to 07:00)."""
    from zoneinfo import ZoneInfo

    for zone in SHOPPER_ZONES:
        hour = now.astimezone(ZoneInfo(zone)).hour
        if hour >= 22 or hour < 7:
            return zone
    return SHOPPER_ZONES[0]  # not reached: the zones are at most 10 hours apart


def campaign(local: Any, ws: Any, seed: int, segment_id: str) -> tuple[list[str], int]:
    """A newsletter to the prospects (customers with no order yet) through the campaign
    queue: the loyalty app's new subscribers, some in their night, some without consent,
    one who unsubscribed by the link first. Returns summary lines and failed checks."""
    from chalicelib.domain.messaging.templates import TemplateIn
    from patron import outbox

    container = local.harness.container
    now = datetime.now(UTC)
    day, night = daytime_zone(now), night_zone(now)
    loyalty_secret = f"gen_demo_{seed:08d}_secret_0000"
    people = [(f"reader.{seed}.{i}@example.net", day, "subscribed") for i in range(18)]
    people += [(f"owl.{seed}.{i}@example.net", night, "subscribed") for i in range(4)]
    people += [(f"quiet.{seed}.{i}@example.net", day, "not_subscribed") for i in range(4)]
    for n, (email, zone, consent) in enumerate(people):
        body = {
            "type": "customer",
            "id": f"reader-{seed}-{n}",
            "email": email,
            "first_name": FIRST[n % len(FIRST)],
            "email_consent": consent,
            "consent_updated_at": timestamp(now - timedelta(days=2)),
            "timezone": zone,
            "updated_at": timestamp(now - timedelta(days=2)),
        }
        raw = json.dumps(body).encode()
        status, answer = http.post(
            f"{local.webhook_url}/webhooks/generic",
            raw,
            generic_headers(LOYALTY, "customer", loyalty_secret, raw),
        )
        if status != 200:
            raise RuntimeError(f"demo webhook answered {status}: {answer}")
    local.wait_idle()
    # the first reader unsubscribes with the one-click link of an earlier newsletter
    _, found = http.get(f"{local.api_url}/customers?email={people[0][0]}", ws.api_key)
    link = container.unsubscribe.link(ws.workspace_id, found["customers"][0]["customer_id"], "email")
    http.post(link, b"List-Unsubscribe=One-Click", {"Content-Type": "application/x-www-form-urlencoded"})
    container.template_service.save(
        ws.workspace_id,
        "newsletter",
        TemplateIn(
            name="Newsletter",
            subject="New this week at {{ store_name }}",
            html="<p>Hi {{ first_name | default: 'there' }}, here is what is new.</p>"
            '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
            text="Hi {{ first_name | default: 'there' }}, here is what is new. "
            "Unsubscribe: {{ unsubscribe_url }}",
        ),
    )
    request = {
        "name": "Weekly news",
        "segment_id": segment_id,
        "variants": [{"id": "a", "template_id": "newsletter"}],
    }
    _, created = http.post(f"{local.api_url}/campaigns", json.dumps(request).encode(), _auth(ws))
    campaign_id = created["campaign_id"]
    http.post(f"{local.api_url}/campaigns/{campaign_id}/start", b"{}", _auth(ws))
    local.run_schedule("campaign_dispatch")  # the minute job (it also runs on its own)
    readers = {email for email, zone, consent in people[1:18]}
    subject = "New this week at Demo Books & Co"

    def delivered() -> list[Any]:
        return [m for m in outbox.fetch(local.aws_url, outbox.KEEP) if m.subject == subject]

    for _ in range(600):  # the campaign poller sends the queued batches (a bound, not a timing)
        if {m.to for m in delivered()} >= readers:
            break
        time.sleep(0.1)
    sent = delivered()
    for _ in range(100):  # the batch's counters are added just after its bulk call
        _, progress = http.get(f"{local.api_url}/campaigns/{campaign_id}", ws.api_key)
        if progress["sent"] >= len(sent):
            break
        time.sleep(0.1)
    to = [m.to for m in sent]
    checks = {
        "every subscribed reader in daytime got it once": sorted(t for t in to if t in readers)
        == sorted(readers),
        "nobody got it twice": len(to) == len(set(to)),
        "no one in quiet hours, unsubscribed or without consent got it": not any(
            email in to for email, _, _ in people if email not in readers
        ),
    }
    lines = [
        f"campaign 'Weekly news'        to the Prospects segment: sent {progress['sent']}, "
        f"deferred {progress['deferred']} (quiet hours in {night}, caps), "
        f"not sendable {progress['skipped'] + progress['dropped']} (no consent, unsubscribed)",
    ]
    failures = 0
    for name, ok in checks.items():
        if not ok:
            failures += 1
            lines.append(f"  MISMATCH campaign: {name}")
    return lines, failures


def _auth(ws: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"}


def _recovery_outcome(
    local: Any, ws: Any, leaver: str, buyer: str, zone: str, store: Any
) -> tuple[list[str], int]:
    from patron import outbox

    sent = outbox.fetch(local.aws_url, outbox.KEEP)
    to_leaver = [m for m in sent if m.to == leaver]
    to_buyer = [m for m in sent if m.to == buyer]
    reminder = [m for m in to_leaver if "cart" in m.subject]
    failures = 0
    lines = [f"abandoned checkouts           2 five hours ago (shoppers in {zone}); one ordered after 30 min"]
    if len(reminder) == 1 and not [m for m in to_buyer if "cart" in m.subject]:
        code = _coupon_of(local, ws, leaver)
        lines.append(f"  recovery email              1, to the one who did not order, coupon {code} (48 h)")
        in_email = _code_in_email(local, leaver)
        made = [d["code"] for d in store.discounts]
        if code != "none" and in_email == code and made == [code]:
            lines.append(
                f"  the code in the email       {in_email}, created by the shop's Admin API "
                "(discountCodeBasicCreate on the stand-in)"
            )
        else:
            failures += 1
            lines.append(f"  MISMATCH the code in the email is {in_email}, the shop created {made or 'none'}")
    else:
        failures += 1
        lines.append(
            f"  MISMATCH recovery emails: {len(reminder)} to the leaver, {len(to_buyer)} to the buyer"
        )
    welcome = [m for m in to_buyer if m.subject.startswith("Welcome")]
    lines.append(f"  welcome after a first order {len(welcome)} (to the buyer)")
    failures += len(welcome) != 1
    stats = local.harness.container.flows.stats.get(ws.workspace_id, "flow#abandoned-checkout")
    lines.append(f"  flow statistics             abandoned-checkout sent {stats['sent']}")
    return lines, failures


def _code_in_email(local: Any, email: str) -> str:
    """The code the recovery email to `email` gives ("Use CODE for 10% off"), as the embedded
    SES received it (moto's backend, in this process)."""
    from email import message_from_bytes, policy

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    for sent in ses_backends[DEFAULT_ACCOUNT_ID][local.harness.region].sent_messages:
        raw = getattr(sent, "raw_data", None)
        if raw is None:
            continue
        message = message_from_bytes(raw.encode(), policy=policy.default)
        if email not in str(message["To"]) or "Use " not in (text := _plain(message)):
            continue
        return text.split("Use ", 1)[1].split(" ", 1)[0]
    return "none"


def _plain(message: Any) -> str:
    body = message.get_body(("plain",))
    return "" if body is None else str(body.get_content())


def _coupon_of(local: Any, ws: Any, email: str) -> str:
    _, found = http.get(f"{local.api_url}/customers?email={email}", ws.api_key)
    customer_id = found["customers"][0]["customer_id"]
    for run in local.harness.container.flows.runs(ws.workspace_id, customer_id):
        if run["flow_id"] == "abandoned-checkout":
            key = f"flow:abandoned-checkout:{run['run_id'].split('#', 1)[1]}:1"
            coupons, _ = local.harness.container.crm.query(f"W#{ws.workspace_id}#CPN", limit=100)
            return next((str(c["sk"]) for c in coupons if c.get("mk") == key), "none")
    return "none"
