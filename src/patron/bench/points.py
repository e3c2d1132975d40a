"""`patron bench points`: many concurrent redeemers on shared balances, with earning, refunds,
cancellations, expiry and redemptions interleaved; the ledger's invariants and write cost.

In process, against moto (the bench stage), with moto's TransactWriteItems made atomic as
DynamoDB's are (one lock, as `patron local` serializes its requests): a few customers, and
`redeemers` threads (Lambda instances) redeeming from their balances as store credit while
the main thread feeds live orders through the ingest consumer's points step
(`PointsService.on_order`, the `OrderPoints` collaborator the consumer calls with each stored
state and the customer its profile write named): paid, partly refunded (once or twice),
cancelled. Every state is delivered 3 times; the first delivery of each state comes in
version order (as the stream gives an item's records), the two replays at any later point,
so an older state is often replayed after a newer one. Between orders the real expiry sweep
(`PointsExpiry.expire`, domain/loyalty/expiry.py) runs under the `lots` policy with a short
`expiry_days` (`EXPIRY_DAYS`), one sweep day further each time, from 15 days before the
redemptions' day up to it: the lots of the oldest orders expire while the redeemers spend
from them (`--expiry none`: no sweep, no lot-day buckets). Each redemption key is replayed
once.

Figures (all from the ledger as stored at the end, read through uncounted clients):

- `redemptions_attempted`, `redemptions_succeeded`, `redemptions_refused` (not enough
  available points, or debt), `redemptions_conflicted` (the balance kept changing);
- `overdrafts`: a redemption that took available points below zero: a lot below zero in any
  balance a redeemer read after its redemption or at the end, a redemption entry that added
  debt, or one whose lots do not add up to its points; must be 0;
- `ledger_mismatches`: over every customer, the balance against the sum of its entries, the
  lots against `total == sum(lots) - debt`, each lot and the debt against the entries'
  changes, and each earning's `reversed` against its reversals (never more than earned);
  must be 0;
- `duplicate_entries`: entries written by a replayed delivery or a replayed redemption key,
  and entries beyond the distinct ones written; must be 0;
- `wcu_per_points_event`: DynamoDB write units (bench/capacity.py: transactions double,
  failed conditions billed) of the ledger's writes, over the entries written; `by_kind` the
  same per event kind (earn, reverse, cancel, redeem, expire), with the writes whose
  condition failed (a concurrent spender took the lot first: read again) and their units;
  `wcu_per_points_event_written` without those.
"""

from __future__ import annotations

import math
import os
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
WINDOW_DAYS = 14  # the return window: the last two weeks' orders are pending
SOURCE = "s1"
DELIVERIES = 3  # each state of an order, delivered this many times
EXPIRY_DAYS = 30  # each lot expires 30 days after its day: the oldest orders' lots, in the run
SWEEP_FROM = 15  # the first sweep's day: this many days before NOW (lots of NOW - 45 .. NOW - 30)


@contextmanager
def atomic_transactions() -> Iterator[None]:
    """moto checks and writes a transaction item by item: from threads, two could both pass
    their conditions. DynamoDB runs each atomically; one lock gives moto that guarantee."""
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    lock = threading.Lock()

    def atomic(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with lock:
            original(self, transact_items)

    DynamoDBBackend.transact_write_items = atomic  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]


class LabelledLedger:
    """The points ledger, each write billed under its event's kind (WriteCounter.label), and
    the entries written counted by kind."""

    def __init__(self, ledger: Any, writes: Any) -> None:
        self.ledger = ledger
        self.writes = writes
        self.written: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ledger, name)

    def _run(self, kind: str, write: Callable[..., bool], *args: Any) -> bool:
        self.writes.label(kind)
        try:
            done = write(*args)
        finally:
            self.writes.label(None)
        if done:
            with self._lock:
                self.written[kind] += 1
        return done

    def earn(self, entry: Any, list_lots: bool = True) -> bool:
        return self._run(entry.key.kind, self.ledger.earn, entry, list_lots)

    def reverse(self, earning: Any, reversal: Any, refunded: Decimal, reversed_points: int) -> bool:
        return self._run(reversal.key.kind, self.ledger.reverse, earning, reversal, refunded, reversed_points)

    def adjust(self, entry: Any, list_lots: bool = True) -> bool:
        return self._run(entry.key.kind, self.ledger.adjust, entry, list_lots)


def order_states(workspace_id: str, customer_id: str, n: int, rng: random.Random) -> list[Any]:
    """The states of one live order, oldest first: paid, then maybe one or two refunds, or a
    cancellation (IngestChange values, as the ingest consumer hands them to the points step)."""
    from dataclasses import replace

    from chalicelib.domain.ingest_images import IngestChange, OrderImage
    from chalicelib.domain.models import OrderStatus, Person
    from chalicelib.domain.order_snapshot import OrderRefund, OrderSnapshot

    order_id = str(10_000 + n)
    total = Decimal(rng.randint(2_000, 20_000)) / 100
    paid_at = NOW - timedelta(days=60) + timedelta(minutes=rng.randint(0, 59 * 24 * 60))
    snapshot = OrderSnapshot(
        workspace_id=workspace_id,
        source_id=SOURCE,
        order_id=order_id,
        version=1,
        is_order=True,
        status=OrderStatus.PAID,
        currency="USD",
        total=total,
        refunded=Decimal(0),
        created_at=paid_at,
        channel="web",
        person=Person(email=f"bench.{customer_id}@example.com"),
    )
    image = OrderImage(key=f"W#{workspace_id}#O#{SOURCE}#{order_id}", snapshot=snapshot, total=total)
    states = [IngestChange(after=image)]
    roll = rng.random()
    if roll < 0.35:  # refunded, once or twice
        refunds: list[Any] = []
        left = total
        for r in range(1 if rng.random() < 0.6 else 2):
            amount = (left * Decimal(rng.randint(10, 60)) / 100).quantize(Decimal("0.01"))
            left -= amount
            at = paid_at + timedelta(days=2 + 3 * r)
            refunds.append(OrderRefund(f"r{r}", amount, at.isoformat()))
            refunded = sum((x.amount for x in refunds), Decimal(0))
            snap = replace(
                snapshot,
                version=2 + r,
                status=OrderStatus.PARTIALLY_REFUNDED,
                refunded=refunded,
            )
            states.append(IngestChange(after=replace(image, snapshot=snap, refunds=tuple(refunds))))
    elif roll < 0.45:  # cancelled
        at = paid_at + timedelta(days=1)
        snap = replace(
            snapshot,
            version=2,
            status=OrderStatus.CANCELLED,
            history=(("paid", paid_at.isoformat()), ("cancelled", at.isoformat())),
        )
        states.append(IngestChange(after=replace(image, snapshot=snap, updated_at=at)))
    return states


def deliveries(states: list[list[Any]], rng: random.Random) -> list[tuple[int, Any]]:
    """(delivery id, state): every state `DELIVERIES` times; each order's first deliveries in
    its version order, interleaved with other orders'; each replay anywhere later."""
    firsts: list[tuple[int, Any]] = []
    cursors = [0] * len(states)
    open_ = list(range(len(states)))
    n = 0
    while open_:
        i = rng.choice(open_)
        firsts.append((n, states[i][cursors[i]]))
        n += 1
        cursors[i] += 1
        if cursors[i] == len(states[i]):
            open_.remove(i)
    # each first delivery at its position, each replay at a random point after it
    timed = [(float(position), first) for position, first in enumerate(firsts)]
    for position, first in enumerate(firsts):
        timed += [(rng.uniform(position + 0.5, len(firsts)), first) for _ in range(DELIVERIES - 1)]
    return [first for _, first in sorted(timed, key=lambda t: t[0])]


def _check(ledger: Any, workspace_id: str, customers: list[str]) -> dict[str, Any]:
    """The invariants over every customer's stored ledger and balance."""
    from chalicelib.domain.loyalty.model import EARN, REDEEM

    mismatches, overdrafts, entries_total = 0, 0, 0
    keys: set[tuple[str, str]] = set()
    for cid in customers:
        balance = ledger.balance(workspace_id, cid)
        entries, cursor = [], None
        while True:
            page, cursor = ledger.entries(workspace_id, cid, 200, cursor)
            entries.extend(page)
            if cursor is None:
                break
        entries_total += len(entries)
        keys.update((cid, str(e.key)) for e in entries)
        by_day: Counter[date] = Counter()
        for e in entries:
            for day, change in e.lots:
                by_day[day] += change
        mismatches += balance.total != sum(e.points for e in entries)
        mismatches += balance.total != sum(balance.lots.values()) - balance.debt
        mismatches += {d: v for d, v in by_day.items() if v} != {d: v for d, v in balance.lots.items() if v}
        mismatches += balance.debt != sum(e.debt for e in entries)
        for earning in (e for e in entries if e.key.kind == EARN and e.order_id):
            taken = -sum(e.points for e in entries if e.order_id == earning.order_id and e is not earning)
            mismatches += taken != earning.reversed or taken > earning.points
        overdrafts += sum(1 for v in balance.lots.values() if v < 0) + (balance.debt < 0)
        for e in entries:
            if e.key.kind == REDEEM:
                overdrafts += e.debt > 0 or sum(n for _, n in e.lots) - e.debt != e.points
    return {
        "ledger_mismatches": mismatches,
        "overdrafts": overdrafts,
        "entries": entries_total,
        "distinct": len(keys),
    }


def run(
    redeemers: int = 8,
    customers: int = 4,
    orders: int = 60,
    attempts: int = 128,
    seed: int = 5,
    expiry: str = "lots",
) -> dict[str, Any]:
    from moto import mock_aws

    from patron.bench.ingest import BENCH_ENV

    for key, value in BENCH_ENV.items():
        os.environ.setdefault(key, value)

    from chalicelib.domain.errors import Conflict
    from chalicelib.domain.loyalty.adjust import PointsRefused
    from chalicelib.domain.loyalty.redeem import RedeemIn
    from chalicelib.domain.workspace_settings import LoyaltyRules
    from patron import motofast
    from patron.bench.campaign import counted, put_customers
    from patron.harness import Harness
    from patron.synthetic.audience import customer

    motofast.install()
    rng = random.Random(seed)
    with mock_aws(), atomic_transactions():
        harness = Harness(stage="bench")
        ws = harness.create_workspace("Bench Points", "USD")
        wid = ws.workspace_id
        rules = LoyaltyRules(
            enabled=True,
            return_window_days=WINDOW_DAYS,
            redeem_as="store_credit",
            redeem_min_points=1,
            expiry=expiry,
            expiry_days=EXPIRY_DAYS,
        )
        harness.container.workspaces.set_loyalty(wid, rules)
        people = [customer(n) for n in range(customers)]
        put_customers(harness, wid, people)
        cids = [p["cid"] for p in people]
        own = harness.container  # the checks read through it: not counted
        container, writes, _reads = counted(harness)
        ledger = LabelledLedger(container.points_ledger, writes)
        container.__dict__["points_ledger"] = ledger  # the services below are built on it
        points = container.points
        buyers = [rng.choice(cids) for _ in range(orders)]
        states = [order_states(wid, buyer, n, rng) for n, buyer in enumerate(buyers)]
        # the customer the consumer's profile write names, by the order's key
        owner = {order[0].after.key: buyer for order, buyer in zip(states, buyers, strict=True)}
        feed = deliveries(states, rng)
        seen: set[int] = set()
        replay_writes = 0
        swept = {"sweeps": 0, "lots_expired": 0, "points_expired": 0}
        sweep_day = [NOW.date() - timedelta(days=SWEEP_FROM)]

        def deliver(upto: int) -> None:
            nonlocal replay_writes
            while feed and len(feed) > upto:
                delivery, state = feed.pop(0)
                written = points.on_order(state, NOW, owner[state.after.key])
                if delivery in seen:
                    replay_writes += len(written)
                seen.add(delivery)
                if rng.random() < 0.08 and expiry != "none":  # the daily sweep, a day further
                    result = container.points_expiry.expire(wid, sweep_day[0])
                    sweep_day[0] = min(sweep_day[0] + timedelta(days=1), NOW.date())
                    swept["sweeps"] += 1
                    swept["lots_expired"] += result["lots_expired"]
                    swept["points_expired"] += result["points_expired"]

        deliver(upto=len(feed) * 2 // 3)  # a third first: balances to redeem from
        outcomes: Counter[str] = Counter()
        seen_overdrafts = [0]
        redemption_replays = [0]
        lock = threading.Lock()
        barrier = threading.Barrier(redeemers + 1)
        each = math.ceil(attempts / redeemers)

        def redeemer(worker: int) -> None:
            mine = random.Random(seed * 1000 + worker)
            barrier.wait()
            for n in range(each):
                cid = mine.choice(cids)
                body = RedeemIn(points=mine.randint(20, 150))
                key = f"r{worker}-{n}"
                try:
                    entry = container.points_redemptions.redeem(wid, cid, body, key, NOW)
                except PointsRefused:
                    outcome = "refused"
                except Conflict:
                    outcome = "conflicted"
                except Exception:  # noqa: BLE001 - counted, not lost with the thread: the run shows it
                    outcome = "errors"
                else:
                    outcome = "succeeded"
                    again = container.points_redemptions.redeem(wid, cid, body, key, NOW)
                    balance = own.points_ledger.balance(wid, cid)
                    with lock:
                        redemption_replays[0] += again != entry
                        seen_overdrafts[0] += sum(1 for v in balance.lots.values() if v < 0)
                with lock:
                    outcomes[outcome] += 1

        threads = [threading.Thread(target=redeemer, args=(w,)) for w in range(redeemers)]
        for t in threads:
            t.start()
        barrier.wait()
        deliver(upto=0)  # the rest of the orders, refunds and sweeps, while they redeem
        for t in threads:
            t.join()
        checked = _check(own.points_ledger, wid, cids)
        harness.close()
    written = ledger.written
    events = sum(written.values())
    kinds = sorted(set(written) | set(writes.wcu_by_label))
    wcu = sum(writes.wcu_by_label[k] for k in kinds)
    failed = sum(writes.failed_wcu_by_label[k] for k in kinds)
    by_kind = {
        k: {
            "events": written[k],
            "wcu": writes.wcu_by_label[k],
            "wcu_per_event": round(writes.wcu_by_label[k] / written[k], 3) if written[k] else None,
            "failed_writes": writes.failed_by_label[k],
            "failed_wcu": writes.failed_wcu_by_label[k],
        }
        for k in kinds
    }
    duplicates = replay_writes + redemption_replays[0] + (checked["entries"] - checked["distinct"])
    duplicates += max(0, checked["entries"] - events)
    return {
        "benchmark": "points",
        "redeemers": redeemers,
        "customers": customers,
        "orders": orders,
        "deliveries_per_state": DELIVERIES,
        "order_deliveries": len(seen) * DELIVERIES,
        "redemptions_attempted": sum(outcomes.values()),
        "redemptions_succeeded": outcomes["succeeded"],
        "redemptions_refused": outcomes["refused"],
        "redemptions_conflicted": outcomes["conflicted"],
        "redemptions_errors": outcomes["errors"],
        "expiry": expiry,
        "expiry_days": EXPIRY_DAYS,
        "expiry_sweeps": swept["sweeps"],
        "lots_expired": swept["lots_expired"],
        "points_expired": swept["points_expired"],
        "overdrafts": checked["overdrafts"] + seen_overdrafts[0],
        "ledger_mismatches": checked["ledger_mismatches"],
        "duplicate_entries": duplicates,
        "ledger_entries": checked["entries"],
        "points_events": events,
        "wcu_per_points_event": round(wcu / events, 3) if events else None,
        # the units of the writes that landed alone: what an uncontended event costs
        "wcu_per_points_event_written": round((wcu - failed) / events, 3) if events else None,
        "by_kind": by_kind,
        "targets": {
            "redemptions_attempted>=100": sum(outcomes.values()) >= 100,
            "overdrafts==0": checked["overdrafts"] + seen_overdrafts[0] == 0,
            "ledger_mismatches==0": checked["ledger_mismatches"] == 0,
            "duplicate_entries==0": duplicates == 0,
            "wcu_per_points_event<=4": events > 0 and wcu / events <= 4,
        },
    }
