"""`patron demo`: a simulated store sending signed webhooks to the local stack over HTTP.

Seeded and repeatable: a few hundred customers on a Shopify shop and a
WooCommerce site, repeat buyers, guests who later register, people buying on
both stores, refunds, cancellations, duplicate and out-of-order deliveries.
The demo knows the true final state of every order, so its summary checks each
profile the API returns against what it should be.
"""

from __future__ import annotations

import copy
import json
import random
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.domain.money import round_money
from patron import http, stack
from patron.storefront import generic_headers, shopify_headers, woocommerce_headers

SHOP = "demo-store.myshopify.com"
SITE = "https://shop.example.org"
EUR_RATE = Decimal("1.08")
CENT = Decimal("0.01")
FIRST = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Emma",
    "Farid",
    "Grace",
    "Hugo",
    "Iris",
    "Jonas",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Uma",
    "Victor",
    "Wen",
    "Xavi",
    "Yara",
    "Zane",
]
LAST = [
    "Smith",
    "Garcia",
    "Chen",
    "Okafor",
    "Novak",
    "Rossi",
    "Tanaka",
    "Muller",
    "Dubois",
    "Silva",
    "Kowalski",
    "Haddad",
    "Larsen",
    "Nguyen",
    "Moreau",
    "Ivanova",
]
CATALOG = [
    (f"series-{s}-vol-{v}", f"The Long Road, Vol. {v}" if s == 1 else f"Series {s} Vol. {v}", Decimal(p))
    for s, v, p in [
        (1, 1, "14.00"),
        (1, 2, "16.00"),
        (1, 3, "18.00"),
        (2, 1, "22.50"),
        (2, 2, "22.50"),
        (3, 1, "9.90"),
        (3, 2, "11.90"),
        (4, 1, "35.00"),
        (5, 1, "48.00"),
        (6, 1, "7.50"),
        (7, 1, "64.00"),
        (8, 1, "19.99"),
    ]
]


@dataclass
class Person:
    index: int
    first: str
    last: str
    email: str
    phone: str | None
    member: bool
    registers_later: bool
    platforms: list[str]
    shopify_id: int
    woo_id: int


@dataclass
class SimOrder:
    person: Person
    platform: str
    order_id: int
    created: datetime
    lines: list[tuple[str, str, Decimal, int]]
    total: Decimal
    refund: Decimal = Decimal(0)
    cancelled: bool = False
    deliveries: list[tuple[str, str, bytes]] = field(default_factory=list)  # topic, kind, body


def _people(rng: random.Random, n: int) -> list[Person]:
    people = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        roll = rng.random()
        platforms = (
            ["shopify"] if roll < 0.6 else ["woocommerce"] if roll < 0.9 else ["shopify", "woocommerce"]
        )
        member = rng.random() < 0.55
        people.append(
            Person(
                index=i,
                first=first,
                last=last,
                email=f"{first}.{last}.{i}@example.com".lower(),
                phone=f"+1212555{i:04d}" if rng.random() < 0.5 else None,
                member=member,
                registers_later=(not member) and rng.random() < 0.3,
                platforms=platforms,
                shopify_id=7_100_000_000 + i,
                woo_id=1000 + i,
            )
        )
    return people


def _messy(rng: random.Random, email: str) -> str:
    """Storefronts send emails as typed: mixed case, stray spaces."""
    if rng.random() < 0.3:
        email = email.title()
    if rng.random() < 0.2:
        email = f" {email} "
    return email


def _ts(value: datetime, offset_hours: int = -5) -> str:
    return (
        value.astimezone(UTC)
        .astimezone(__import__("datetime").timezone(timedelta(hours=offset_hours)))
        .isoformat(timespec="seconds")
    )


def _shopify_order(rng: random.Random, o: SimOrder, state: str, at: datetime) -> dict[str, Any]:
    body = copy.deepcopy(_fixture("shopify/orders_create.json"))
    p = o.person
    member_now = p.member or (p.registers_later and state != "create")
    body.update(
        {
            "id": o.order_id,
            "order_number": o.order_id % 100000,
            "name": f"#{o.order_id % 100000}",
            "email": _messy(rng, p.email),
            "contact_email": p.email,
            "phone": None,
            "created_at": _ts(o.created),
            "processed_at": _ts(o.created),
            "updated_at": _ts(at),
            "total_price": str(o.total),
            "subtotal_price": str(o.total),
            "total_tax": "0.00",
            "total_discounts": "0.00",
            "currency": "USD",
            "financial_status": "paid",
            "fulfillment_status": None,
            "cancelled_at": None,
            "refunds": [],
            "fulfillments": [],
        }
    )
    body["total_price_set"] = {
        "shop_money": {"amount": str(o.total), "currency_code": "USD"},
        "presentment_money": {"amount": str(o.total), "currency_code": "USD"},
    }
    body["line_items"] = [
        {
            "id": o.order_id * 10 + k,
            "product_id": zlib.crc32(sku.encode()),
            "variant_id": None,
            "sku": sku,
            "title": title,
            "name": title,
            "quantity": qty,
            "price": str(price),
            "product_exists": True,
            "requires_shipping": True,
            "taxable": True,
            "total_discount": "0.00",
        }
        for k, (sku, title, price, qty) in enumerate(o.lines)
    ]
    customer = body["customer"]
    customer.update(
        {
            "id": p.shopify_id,
            "email": p.email,
            "first_name": p.first,
            "last_name": p.last,
            "phone": p.phone,
            "state": "enabled" if member_now else "disabled",
        }
    )
    customer["email_marketing_consent"] = {
        "state": "subscribed" if p.index % 3 else "not_subscribed",
        "opt_in_level": "single_opt_in",
        "consent_updated_at": _ts(o.created),
    }
    customer["sms_marketing_consent"] = None
    for address in ("billing_address", "shipping_address"):
        if body.get(address):
            body[address].update({"first_name": p.first, "last_name": p.last, "phone": p.phone})
    if state == "fulfilled":
        body["fulfillment_status"] = "fulfilled"
        body["fulfillments"] = [
            {
                "id": o.order_id + 1,
                "status": "success",
                "tracking_number": f"1Z{o.order_id}",
                "tracking_company": "UPS",
            }
        ]
    if state == "cancelled":
        body.update({"cancelled_at": _ts(at), "cancel_reason": "customer", "financial_status": "voided"})
    return body


def _shopify_refund(o: SimOrder, at: datetime) -> dict[str, Any]:
    body = copy.deepcopy(_fixture("shopify/refunds_create.json"))
    body.update(
        {
            "id": o.order_id + 7,
            "order_id": o.order_id,
            "created_at": _ts(at),
            "processed_at": _ts(at),
            "order_adjustments": [],
        }
    )
    body["transactions"] = [
        {
            "id": o.order_id + 8,
            "order_id": o.order_id,
            "kind": "refund",
            "gateway": "shopify_payments",
            "status": "success",
            "amount": str(o.refund),
            "currency": "USD",
            "created_at": _ts(at),
        }
    ]
    return body


def _woo_order(rng: random.Random, o: SimOrder, state: str, at: datetime) -> dict[str, Any]:
    body = copy.deepcopy(_fixture("woocommerce/order_created.json"))
    p = o.person
    member_now = p.member or (p.registers_later and state != "create")
    gmt = "%Y-%m-%dT%H:%M:%S"
    body.update(
        {
            "id": o.order_id,
            "number": str(o.order_id),
            "currency": "EUR",
            "total": str(o.total),
            "total_tax": "0.00",
            "shipping_total": "0.00",
            "discount_total": "0.00",
            "status": {
                "create": "processing",
                "fulfilled": "completed",
                "cancelled": "cancelled",
                "refunded": "completed",
            }[state],
            "date_created_gmt": o.created.strftime(gmt),
            "date_modified_gmt": at.strftime(gmt),
            "customer_id": p.woo_id if member_now else 0,
            "refunds": [],
        }
    )
    body["billing"].update(
        {"email": _messy(rng, p.email), "phone": p.phone or "", "first_name": p.first, "last_name": p.last}
    )
    body["line_items"] = [
        {
            "id": o.order_id * 10 + k,
            "name": title,
            "product_id": 500 + k,
            "variation_id": 0,
            "quantity": qty,
            "subtotal": str(price * qty),
            "total": str(price * qty),
            "sku": sku,
            "price": float(price),
            "taxes": [],
            "meta_data": [],
        }
        for k, (sku, title, price, qty) in enumerate(o.lines)
    ]
    if state == "refunded":
        body["refunds"] = [{"id": o.order_id + 7, "reason": "damaged", "total": f"-{o.refund}"}]
    return body


_FIXTURES: dict[str, Any] = {}


def _fixture(name: str) -> Any:
    if name not in _FIXTURES:
        _FIXTURES[name] = json.loads((stack.ROOT / "events" / name).read_text())
    return _FIXTURES[name]


def simulate(
    seed: int, customers: int, now: datetime
) -> tuple[list[Person], list[SimOrder], list[tuple[str, str, bytes, str]]]:
    """People, their orders with true final state, and the deliveries in arrival order."""
    rng = random.Random(seed)
    people = _people(rng, customers)
    orders: list[SimOrder] = []
    deliveries: list[tuple[str, str, bytes, str]] = []  # platform, topic, body, delivery id
    next_id = 5_900_000_000_000
    for person in people:
        for _ in range(1 + min(int(rng.expovariate(0.7)), 6)):
            platform = rng.choice(person.platforms)
            created = now - timedelta(days=rng.uniform(2, 365), minutes=rng.randint(0, 1440))
            lines = [
                (sku, title, price, rng.randint(1, 2))
                for sku, title, price in rng.sample(CATALOG, rng.randint(1, 3))
            ]
            total = sum((price * qty for _, _, price, qty in lines), Decimal(0)).quantize(CENT)
            next_id += rng.randint(1, 50)
            order = SimOrder(
                person, platform, next_id if platform == "shopify" else next_id % 10**6, created, lines, total
            )
            events: list[tuple[str, bytes]] = []
            make = _shopify_order if platform == "shopify" else _woo_order
            create_topic = "orders/create" if platform == "shopify" else "order.created"
            update_topic = "orders/updated" if platform == "shopify" else "order.updated"
            events.append(
                (
                    create_topic,
                    json.dumps(make(rng, order, "create", created + timedelta(seconds=5))).encode(),
                )
            )
            roll = rng.random()
            if roll < 0.06:
                order.cancelled = True
                topic = "orders/cancelled" if platform == "shopify" else update_topic
                events.append(
                    (topic, json.dumps(make(rng, order, "cancelled", created + timedelta(hours=3))).encode())
                )
            else:
                events.append(
                    (
                        update_topic,
                        json.dumps(make(rng, order, "fulfilled", created + timedelta(days=1))).encode(),
                    )
                )
                if roll < 0.16:
                    order.refund = (total * Decimal(rng.choice(["0.25", "0.5", "1"]))).quantize(CENT)
                    at = created + timedelta(days=4)
                    if platform == "shopify":
                        events.append(("refunds/create", json.dumps(_shopify_refund(order, at)).encode()))
                    else:
                        events.append((update_topic, json.dumps(make(rng, order, "refunded", at)).encode()))
            # Out of order: sometimes a later state overtakes an earlier one.
            if len(events) > 1 and rng.random() < 0.12:
                events[0], events[1] = events[1], events[0]
            for topic, body in events:
                delivery_id = f"demo-{order.order_id}-{topic}-{len(deliveries)}"
                deliveries.append((platform, topic, body, delivery_id))
                if rng.random() < 0.15:  # at-least-once: the same delivery again
                    deliveries.append((platform, topic, body, delivery_id))
            orders.append(order)
    # Guests who register later: an account appears with the same email.
    for person in people:
        if person.registers_later:
            platform = person.platforms[0]
            if platform == "shopify":
                body = copy.deepcopy(_fixture("shopify/customers_create.json"))
                body.update(
                    {
                        "id": person.shopify_id,
                        "email": person.email,
                        "first_name": person.first,
                        "last_name": person.last,
                        "phone": person.phone,
                        "state": "enabled",
                        "created_at": _ts(now - timedelta(days=1)),
                        "updated_at": _ts(now - timedelta(days=1)),
                    }
                )
                deliveries.append(
                    (platform, "customers/create", json.dumps(body).encode(), f"demo-c-{person.index}")
                )
            else:
                body = copy.deepcopy(_fixture("woocommerce/customer_created.json"))
                stamp = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
                body.update(
                    {
                        "id": person.woo_id,
                        "email": person.email,
                        "first_name": person.first,
                        "last_name": person.last,
                        "date_created_gmt": stamp,
                        "date_modified_gmt": stamp,
                    }
                )
                body["billing"].update({"email": person.email, "phone": person.phone or ""})
                deliveries.append(
                    (platform, "customer.created", json.dumps(body).encode(), f"demo-c-{person.index}")
                )
    return people, orders, deliveries


def expected_profiles(people: list[Person], orders: list[SimOrder]) -> dict[str, dict[str, Any]]:
    expected: dict[str, dict[str, Any]] = {
        p.email: {
            "orders_count": 0,
            "total_spent": Decimal(0),
            "total_refunded": Decimal(0),
            "is_member": p.member or p.registers_later,
        }
        for p in people
    }
    for o in orders:
        if o.cancelled:
            continue
        rate = EUR_RATE if o.platform == "woocommerce" else Decimal(1)
        e = expected[o.person.email]
        e["orders_count"] += 1
        e["total_spent"] += round_money(o.total * rate, "USD")
        e["total_refunded"] += round_money(o.refund * rate, "USD")
    return expected


def _segments_summary(local: Any, workspace_id: str, customers: int, custom: list[Any]) -> int:
    """Run the nightly job, print the segments, and check what must hold; returns failures."""
    from chalicelib.domain import segments as language
    from chalicelib.domain.membership import segment_detail

    nightly = local.run_schedule("nightly_scores")
    local.wait_idle()
    container = local.harness.container
    model = container.workspaces.settings(workspace_id).model
    size = {}
    for sid in (
        [f"lifecycle:{s}" for s in language.LIFECYCLE_STAGES]
        + [f"rfm:{g}" for g in language.RFM_GROUPS]
        + ["account:member", "account:guest"]
        + [c.segment_id for c in custom]
    ):
        size[sid] = segment_detail(container.membership, workspace_id, sid)["size"]
    print(
        f"nightly job                   {nightly['profiles_read']} profiles read, model "
        f"{model.method if model else 'none'} ({model.reason if model else ''}), "
        f"{nightly['profiles_reevaluated']} memberships moved"
    )
    print(
        "lifecycle                     "
        + ", ".join(f"{s} {size['lifecycle:' + s]}" for s in language.LIFECYCLE_STAGES)
    )
    print(
        "RFM groups                    "
        + ", ".join(f"{g} {size['rfm:' + g]}" for g in language.RFM_GROUPS if size["rfm:" + g])
    )
    for c in custom:
        print(f"segment {c.name!r:<21} {size[c.segment_id]} members  ({c.definition})")
    failures = 0
    lifecycle_total = sum(size[f"lifecycle:{s}"] for s in language.LIFECYCLE_STAGES)
    accounts = size["account:member"] + size["account:guest"]
    rfm_total = sum(size[f"rfm:{g}"] for g in language.RFM_GROUPS)
    buyers = customers - size["lifecycle:prospect"]  # RFM scores customers with an order
    for name, total, expected in (
        ("lifecycle stages", lifecycle_total, customers),
        ("member/guest", accounts, customers),
        ("RFM groups", rfm_total, buyers),
    ):
        if total != expected:
            print(f"  MISMATCH {name} hold {total} customers, expected {expected}")
            failures += 1
    return failures


SENDER = "hello@demo-books.example"
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


def _recovery_demo(local: Any, ws: Any, shop_secret: str, seed: int) -> tuple[list[str], int]:
    """Two shoppers leave checkouts five hours ago; one of them orders half an hour later.
    The flows send the other one reminder with a coupon, and the buyer a welcome, nothing
    more. Returns the summary lines and the number of failed checks."""
    container = local.harness.container
    local.harness.client("ses").verify_email_identity(EmailAddress=SENDER)
    container.workspaces.set_messaging(ws.workspace_id, [], SENDER, None)
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
                "consent_updated_at": _ts(started - timedelta(days=1)),
                "timezone": zone,
                "updated_at": _ts(started - timedelta(days=1)),
            },
        )
        checkout = copy.deepcopy(_fixture("shopify/checkouts_create.json"))
        checkout.update(
            id=seed * 1000 + n,
            token=f"demo-{seed}-{n}",
            email=email,
            created_at=_ts(started),
            updated_at=_ts(started),
            sms_marketing_phone=None,
            abandoned_checkout_url=f"https://{SHOP}/checkouts/demo-{seed}-{n}/recover",
        )
        checkout["shipping_address"] = None
        post("shopify", "checkouts/create", checkout)
    local.wait_idle()
    # Bo orders 30 minutes after the checkout
    ordered_at = _ts(started + timedelta(minutes=30))
    order = copy.deepcopy(_fixture("shopify/orders_create.json"))
    order.update(id=seed * 1000 + 7, name=f"#D{seed}", email=buyer, contact_email=buyer, phone=None)
    order.update(created_at=ordered_at, updated_at=ordered_at, processed_at=ordered_at)
    order["customer"].update(id=seed * 1000 + 7, email=buyer, phone=None, first_name="Bo")
    order["billing_address"] = order["shipping_address"] = None
    post("shopify", "orders/create", order)
    local.wait_idle()
    # the minute job (it also runs on its own every minute)
    local.run_schedule("flow_tick")
    return _recovery_outcome(local, ws, leaver, buyer, zone)


def night_zone(now: datetime) -> str:
    """A time zone in its quiet hours now (22:00 to 07:00)."""
    from zoneinfo import ZoneInfo

    for zone in SHOPPER_ZONES:
        hour = now.astimezone(ZoneInfo(zone)).hour
        if hour >= 22 or hour < 7:
            return zone
    return SHOPPER_ZONES[0]  # not reached: the zones are at most 10 hours apart


def _campaign_demo(local: Any, ws: Any, seed: int, segment_id: str) -> tuple[list[str], int]:
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
            "consent_updated_at": _ts(now - timedelta(days=2)),
            "timezone": zone,
            "updated_at": _ts(now - timedelta(days=2)),
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


def _recovery_outcome(local: Any, ws: Any, leaver: str, buyer: str, zone: str) -> tuple[list[str], int]:
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


def _coupon_of(local: Any, ws: Any, email: str) -> str:
    _, found = http.get(f"{local.api_url}/customers?email={email}", ws.api_key)
    customer_id = found["customers"][0]["customer_id"]
    for run in local.harness.container.flows.runs(ws.workspace_id, customer_id):
        if run["flow_id"] == "abandoned-checkout":
            key = f"flow:abandoned-checkout:{run['run_id'].split('#', 1)[1]}:1"
            coupons, _ = local.harness.container.crm.query(f"W#{ws.workspace_id}#CPN", limit=100)
            return next((str(c["sk"]) for c in coupons if c.get("mk") == key), "none")
    return "none"


def run_demo(
    customers: int = 300, seed: int = 7, port: int = 8000, aws_port: int = 5000, keep_running: bool = False
) -> int:
    from patron.local import LocalStack

    print(f"starting the local stack (API :{port}, embedded AWS :{aws_port}) ...", flush=True)
    local = LocalStack(port=port, aws_port=aws_port).start()
    try:
        return _run(local, customers, seed, keep_running)
    finally:
        local.stop()


def _run(local: Any, customers: int, seed: int, keep_running: bool) -> int:
    tenancy = local.harness.container.tenancy
    ws = tenancy.create_workspace("Demo Books & Co", "USD")
    tenancy.set_rate(ws.workspace_id, "EUR", str(EUR_RATE))
    shop_secret, woo_secret = f"shpss_demo_{seed:08d}_secret", f"wc_demo_{seed:08d}_secret__"
    tenancy.add_source(ws.workspace_id, "shopify", SHOP, shop_secret)
    tenancy.add_source(ws.workspace_id, "woocommerce", SITE, woo_secret)
    print(f"workspace {ws.workspace_id} with a Shopify shop and a WooCommerce site", flush=True)

    segments = local.harness.container.segments
    slipping = segments.create(ws.workspace_id, "Slipping away", "p_alive < 0.3 AND orders_count >= 2")
    prospects = segments.create(ws.workspace_id, "Prospects", "orders_count = 0")
    next_volume = segments.create(
        ws.workspace_id,
        "Ready for vol. 2",
        "bought_product('series-1-vol-1') AND NOT bought_product('series-1-vol-2')",
    )

    people, orders, deliveries = simulate(seed, customers, datetime.now(UTC))
    outcomes: dict[str, int] = {}
    started = time.monotonic()

    latencies: list[float] = []

    def deliver(item: tuple[str, str, bytes, str]) -> str:
        platform, topic, body, delivery_id = item
        if platform == "shopify":
            headers = shopify_headers(
                SHOP, topic, shop_secret, body, delivery_id, triggered_at=datetime(2026, 1, 1, tzinfo=UTC)
            )
        else:
            headers = woocommerce_headers(SITE, topic, woo_secret, body, delivery_id)
        t0 = time.perf_counter()
        status, answer = http.post(f"{local.webhook_url}/webhooks/{platform}", body, headers)
        latencies.append(time.perf_counter() - t0)
        return answer.get("status", str(status)) if status == 200 else f"http {status}"

    # Two senders at a time: deliveries overlap as they do from real storefronts.
    with ThreadPoolExecutor(max_workers=2) as pool:
        for outcome in pool.map(deliver, deliveries):
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    sent_seconds = time.monotonic() - started
    local.wait_idle()

    expected = expected_profiles(people, orders)
    mismatches, members, guests, spent, refunded, merged = 0, 0, 0, Decimal(0), Decimal(0), 0
    top: list[tuple[Decimal, str, int]] = []
    for person in people:
        _, answer = http.get(f"{local.api_url}/customers?email={person.email}", ws.api_key)
        found = answer["customers"]
        want = expected[person.email]
        if len(found) != 1:
            mismatches += 1
            continue
        got = found[0]
        actual = {
            "orders_count": got["orders_count"],
            "total_spent": Decimal(got["total_spent"]),
            "total_refunded": Decimal(got["total_refunded"]),
            "is_member": got["is_member"],
        }
        if actual != want:
            mismatches += 1
            print(f"  MISMATCH customer {got['customer_id']}: expected {want}, got {actual}")
        members += got["is_member"]
        guests += not got["is_member"]
        spent += Decimal(got["total_spent"])
        refunded += Decimal(got["total_refunded"])
        merged += len(got["sources"]) > 1
        top.append((Decimal(got["total_spent"]), got["customer_id"], got["orders_count"]))

    stats = local.harness.poller.stats
    print()
    print("Patron demo summary")
    print("-------------------")
    print(f"customers simulated           {len(people)}")
    print(
        f"orders simulated              {len(orders)} ({sum(o.cancelled for o in orders)} cancelled, "
        f"{sum(o.refund > 0 for o in orders)} refunded)"
    )
    print(f"webhook deliveries sent       {len(deliveries)} in {sent_seconds:.1f}s over HTTP")
    for outcome, n in sorted(outcomes.items()):
        print(f"  {outcome:<27} {n}")
    ordered = sorted(latencies)
    p50, p99 = ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"webhook answer time           p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms (local stack on moto; Shopify allows 5 s)"
    )
    print(
        f"stream records processed      {stats.records} in {stats.invocations} invocations "
        f"({stats.failed_to_destination} to the failure queue)"
    )
    print(
        f"profiles                      {members + guests} ({members} members, {guests} guests, "
        f"{merged} buying on both stores)"
    )
    print(f"revenue (USD, EUR at {EUR_RATE})    {spent:.2f}, refunded {refunded:.2f}")
    report = local.harness.container.analytics.report(ws.workspace_id, None, None)
    k, mg = report["kpis"], report["members_vs_guests"]
    print(
        f"last 12 months                AOV {k['average_order_value']}, repeat purchase rate "
        f"{k['repeat_purchase_rate']}, churn rate {k['churn_rate']}"
    )
    print(
        f"members vs guests             revenue {mg['members']['revenue']} vs {mg['guests']['revenue']}, "
        f"repeat rate {mg['members']['repeat_purchase_rate']} vs {mg['guests']['repeat_purchase_rate']}"
    )
    segment_failures = _segments_summary(local, ws.workspace_id, len(people), [slipping, next_volume])
    mismatches += segment_failures
    recovery_lines, recovery_failures = _recovery_demo(local, ws, shop_secret, seed)
    for line in recovery_lines:
        print(line)
    mismatches += recovery_failures
    campaign_lines, campaign_failures = _campaign_demo(local, ws, seed, prospects.segment_id)
    for line in campaign_lines:
        print(line)
    mismatches += campaign_failures
    from patron import outbox

    print(outbox.summary(local.aws_url, limit=3))
    print("top customers by spend:")
    for value, cid, n in sorted(top, reverse=True)[:5]:
        print(f"  {cid}  {n} orders  {value:.2f} USD")
    verdict = (
        "all profiles, segment totals and messages match the simulated truth"
        if mismatches == 0
        else f"{mismatches} MISMATCHES"
    )
    print(f"check                         {verdict}")
    print(
        f"try: curl -H 'Authorization: Bearer {ws.api_key}' "
        f"'{local.api_url}/customers?email={people[0].email}'"
    )
    if keep_running:
        print(f"ready {local.api_url} (Ctrl-C stops)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0 if mismatches == 0 else 1
