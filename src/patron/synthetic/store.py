"""A simulated store: people, their orders with the true final state of each, and the
signed-webhook deliveries a Shopify shop and a WooCommerce site send for them.

Seeded and repeatable: a few hundred customers, repeat buyers, guests who later
register, people buying on both stores, refunds, cancellations, duplicate and
out-of-order deliveries. `expected_profiles` is the truth the demo checks the stack
against; the integration tests replay the same store.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.domain.money import round_money
from patron.synthetic.storefront_bodies import (
    fixture,
    shopify_order,
    shopify_refund,
    timestamp,
    woo_order,
)

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
            make = shopify_order if platform == "shopify" else woo_order
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
                        events.append(("refunds/create", json.dumps(shopify_refund(order, at)).encode()))
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
                body = copy.deepcopy(fixture("shopify/customers_create.json"))
                body.update(
                    {
                        "id": person.shopify_id,
                        "email": person.email,
                        "first_name": person.first,
                        "last_name": person.last,
                        "phone": person.phone,
                        "state": "enabled",
                        "created_at": timestamp(now - timedelta(days=1)),
                        "updated_at": timestamp(now - timedelta(days=1)),
                    }
                )
                deliveries.append(
                    (platform, "customers/create", json.dumps(body).encode(), f"demo-c-{person.index}")
                )
            else:
                body = copy.deepcopy(fixture("woocommerce/customer_created.json"))
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
