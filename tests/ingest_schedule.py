"""A store's deliveries, and the profiles they make, for the ingest property tests.

`BASE` is one store's history from the fixtures under events/ (Shopify, WooCommerce and
generic sources of one workspace), in the order the stores made it. `draw_schedule`
draws a delivery schedule from it with hypothesis: any permutation, retries of a
delivery (the same headers and body again, at any later point), and, on the stream side,
records of different items processed in any interleaving (each item's records in order,
as DynamoDB streams keep them) and a processed record handled again later (a retried
batch). `profile_views` is what must not depend on the schedule: each profile by its
identities, with its fields, order entries (moved ones included) and totals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from tests.conftest import event_bytes, load_event

WS = "ws_prop"
SHOP = "demo-store.myshopify.com"
WOO = "https://shop.example.org"
GENERIC = "pos.example.com"
SECRETS = {
    "shopify": "shpss_" + "a1b2c3d4" * 4,
    "woocommerce": "wc_" + "z9y8x7w6" * 4,
    "generic": "gen_" + "q1w2e3r4" * 4,
}
SHOPS = {"shopify": SHOP, "woocommerce": WOO, "generic": GENERIC}
# Every date in the fixtures is before this, and within the accepted window of it.
RECEIVED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Delivery:
    platform: str
    topic: str
    fixture: str
    triggered_at: datetime | None = None  # Shopify's X-Shopify-Triggered-At

    @property
    def delivery_id(self) -> str:
        name = self.fixture.replace("/", "-").removesuffix(".json")
        return f"d-{name}-{self.topic.replace('/', '-')}"

    @property
    def body(self) -> bytes:
        return event_bytes(self.fixture)


def _at(fixture: str, field: str = "updated_at") -> datetime:
    return datetime.fromisoformat(load_event(fixture)[field]).astimezone(UTC)


def _shopify(topic: str, fixture: str, field: str = "updated_at") -> Delivery:
    path = f"shopify/{fixture}.json"
    return Delivery("shopify", topic, path, _at(path, field))


BASE: tuple[Delivery, ...] = (
    _shopify("customers/create", "customers_create"),
    _shopify("checkouts/create", "checkouts_create"),
    _shopify("orders/create", "orders_create"),
    Delivery("woocommerce", "customer.created", "woocommerce/customer_created.json"),
    Delivery("woocommerce", "order.created", "woocommerce/order_created.json"),
    _shopify("orders/updated", "orders_updated_paid"),
    _shopify("orders/paid", "orders_updated_paid"),  # the same state under another topic
    Delivery("generic", "checkout", "generic/checkout.json"),
    Delivery("woocommerce", "order.updated", "woocommerce/order_updated_shipped.json"),
    Delivery("woocommerce", "customer.updated", "woocommerce/customer_updated_opted_in.json"),
    Delivery("generic", "customer", "generic/customer.json"),
    Delivery("generic", "order", "generic/order.json"),
    Delivery("woocommerce", "order.created", "woocommerce/order_guest_created.json"),
    Delivery("generic", "refund", "generic/refund.json"),
    Delivery("woocommerce", "order.deleted", "woocommerce/order_deleted.json"),
    _shopify("refunds/create", "refunds_create", "created_at"),
    _shopify("orders/updated", "orders_updated_delivered"),
    Delivery("woocommerce", "order.updated", "woocommerce/order_updated_refunded.json"),
    _shopify("orders/cancelled", "orders_cancelled"),
)


@dataclass
class Schedule:
    deliveries: list[Delivery]
    # after each delivery, the stream steps taken: (item choice, retry choice or None)
    stream: list[list[tuple[int, int | None]]]

    def __repr__(self) -> str:  # hypothesis prints it when a property fails
        lines = [
            f"  {d.platform} {d.topic} {d.fixture} then stream {s}"
            for d, s in zip(self.deliveries, self.stream, strict=True)
        ]
        return "Schedule(\n" + "\n".join(lines) + "\n)"


@st.composite
def draw_schedule(
    draw: Callable[..., Any], base: tuple[Delivery, ...] = BASE, max_retries: int = 6
) -> Schedule:
    deliveries = list(draw(st.permutations(base)))
    for _ in range(draw(st.integers(0, max_retries))):
        # a storefront retry: the same delivery again, later than the first one
        first = draw(st.integers(0, len(deliveries) - 1))
        deliveries.insert(draw(st.integers(first + 1, len(deliveries))), deliveries[first])
    steps = st.tuples(st.integers(0, 7), st.none() | st.integers(0, 7))
    stream = [draw(st.lists(steps, max_size=3)) for _ in deliveries]
    return Schedule(deliveries, stream)


class Stream:
    """An ingest stream read out of order across items, in order within each item, with
    processed records handled again later (at least once)."""

    def __init__(self, records: list[tuple[Any, Any]], handle: Callable[[Any, Any], object]) -> None:
        self.records = records  # appended to by the store, in write order
        self.handle = handle
        self.taken = 0  # records moved to the per-item queues
        self.pending: dict[str, list[tuple[Any, Any]]] = {}
        self.done: dict[str, list[tuple[Any, Any]]] = {}

    def _collect(self) -> None:
        for old, new in self.records[self.taken :]:
            self.pending.setdefault(str(new["pk"]), []).append((old, new))
        self.taken = len(self.records)

    def step(self, item: int, retry: int | None) -> None:
        self._collect()
        if retry is not None and self.done:
            keys = sorted(self.done)
            handled = self.done[keys[item % len(keys)]]
            self.handle(*handled[retry % len(handled)])
            return
        keys = sorted(k for k, v in self.pending.items() if v)
        if not keys:
            return
        key = keys[item % len(keys)]
        record = self.pending[key].pop(0)
        self.handle(*record)
        self.done.setdefault(key, []).append(record)

    def drain(self) -> None:
        while True:
            self._collect()
            if not any(self.pending.values()):
                return
            self.step(0, None)


PROFILE_FIELDS = (
    # identities, the person, consent
    "ems", "phs", "xs", "e", "ph", "phx", "fn", "ln", "bd", "tz", "m", "ce", "cs", "pat", "ca",
    # totals and what they are made of
    "n", "spent", "refd", "net", "aov", "first", "last", "gap", "unconv", "srcs", "srcx", "chs", "lpt",
)  # fmt: skip


def profile_views(
    items: dict[tuple[str, str], dict[str, Any]], sources: dict[str, str] | None = None
) -> dict[frozenset[str], dict[str, Any]]:
    """Each live profile, keyed by its identities: its fields and every order entry (recent
    and moved: where an entry lives depends on when it moved, not what it says). `sources`
    renames source ids (to compare workspaces whose sources have other ids)."""
    names = sources or {}

    def source(value: str) -> str:
        head, dot, tail = value.partition(".")
        return names.get(head, head) + dot + tail

    def ext(value: str) -> str:  # <platform>:<source>:<customer id>
        platform, src, rest = value.split(":", 2)
        return f"{platform}:{names.get(src, src)}:{rest}"

    moved: dict[str, dict[str, dict[str, Any]]] = {}
    for (pk, sk), item in items.items():
        if sk.startswith("O#"):
            moved.setdefault(pk, {})[item["k"]] = item["e"]
    views: dict[frozenset[str], dict[str, Any]] = {}
    for (pk, sk), item in items.items():
        if sk != "P" or item.get("t") != "profile":
            continue
        entries: dict[str, Any] = {}
        partitions = [pk] + [pk.rsplit("#", 1)[0] + "#" + cid for cid in item.get("mrg", [])]
        for part in partitions:
            for key, entry in moved.get(part, {}).items():
                if key not in entries or int(entries[key]["v"]) < int(entry["v"]):
                    entries[key] = entry
        entries.update(item.get("o") or {})  # an entry in `o` shadows its moved item
        identities = frozenset(
            [f"email:{e}" for e in item.get("ems", ())]
            + [f"phone:{p}" for p in item.get("phs", ())]
            + [f"ext:{ext(x)}" for x in item.get("xs", ())]
        )
        view = {name: item.get(name) for name in PROFILE_FIELDS}
        for name in ("srcs", "srcx"):
            if view[name] is not None:
                view[name] = {source(v) for v in view[name]}
        if view["xs"] is not None:
            view["xs"] = {ext(v) for v in view["xs"]}
        # the version counts the item's writes, which duplicates and ordering change
        view["orders"] = {source(k): {n: v for n, v in e.items() if n != "v"} for k, e in entries.items()}
        views[identities] = view
    return views
