"""The demo's loyalty programme: switched on (points, a return window, an enrolment bonus,
redemption rules, silver and gold tiers) with the CLI before the live orders arrive, then
every simulated customer's points, pending points and tier checked against the simulated
truth, one redemption into a code the Shopify stand-in knows, and a short summary."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from patron import http
from patron.demo import day_one
from patron.synthetic.store import EUR_RATE, Person, SimOrder

POINTS_PER_UNIT = Decimal(1)
RETURN_WINDOW_DAYS = 30
ENROLMENT_BONUS = 25
REDEEM_MIN_POINTS = 100
REDEEM_VALUE_PER_POINT = Decimal("0.05")
# keep == enter and no grace: after the evaluation each tier is the one the value enters,
# whatever order the deliveries came in (docs/loyalty.md#up-at-once-down-on-the-evaluation)
WINDOW_DAYS = 365
REFUNDED_AFTER = timedelta(days=4)  # patron.synthetic.store.simulate's refunds
EDGE = timedelta(days=1, hours=1)  # payment after creation, and the minutes the run takes
TIER_LIST: list[dict[str, Any]] = [
    {"name": "silver", "enter": 150, "keep": 150, "multiplier": 1.5},
    {"name": "gold", "enter": 400, "keep": 400, "multiplier": 2, "free_shipping": True},
]
TIERS: dict[str, Any] = {
    "measure": "net_spend",
    "window": "trailing",
    "window_days": WINDOW_DAYS,
    "grace_days": 0,
    "tiers": TIER_LIST,
}


def switch_on(workspace_id: str) -> list[str]:
    """The programme, set as a user sets it (`patron workspace loyalty|loyalty-rules|tiers`);
    the lines that say what was set. A history import keeps its `historical` policy."""
    day_one.patron(
        "workspace", "loyalty", "-w", workspace_id, "--on", "--points-per-unit", str(POINTS_PER_UNIT),
        "--return-window-days", str(RETURN_WINDOW_DAYS), "--import-policy", "historical",
        "--redeem-min-points", str(REDEEM_MIN_POINTS),
        "--redeem-value-per-point", str(REDEEM_VALUE_PER_POINT), "--redeem-as", "code",
    )  # fmt: skip
    day_one.patron(
        "workspace", "loyalty-rules", "-w", workspace_id, "--bonus", f"enrolment={ENROLMENT_BONUS}"
    )
    with tempfile.TemporaryDirectory(prefix="patron-demo-") as folder:
        rules = Path(folder) / "tiers.json"
        rules.write_text(json.dumps(TIERS))
        day_one.patron("workspace", "tiers", "-w", workspace_id, "--set", str(rules))
    tiers = ", ".join(f"{t['name']} from {t['enter']} USD x{t['multiplier']}" for t in TIER_LIST)
    return [
        f"loyalty on: {POINTS_PER_UNIT} point per USD, pending {RETURN_WINDOW_DAYS} days, "
        f"{ENROLMENT_BONUS} points on joining, redeemed from {REDEEM_MIN_POINTS} at "
        f"{REDEEM_VALUE_PER_POINT} USD as a store code; history import policy: historical",
        f"tiers on net spend over 365 days: {tiers}",
    ]


@dataclass
class Truth:
    """What one customer's points must be, from the simulated orders."""

    historical: int = 0
    live: dict[str, SimOrder] = field(default_factory=dict)  # public order id -> the order
    member: bool = False
    spend: Decimal = Decimal(0)  # net spend in USD of the live orders inside the tier window
    edge: Decimal = Decimal(0)  # that of orders at the window's start (paid then or a day later)


def truths(
    people: list[Person],
    orders: list[SimOrder],
    exported: list[SimOrder],
    sources: dict[str, str],
    at: datetime,
) -> dict[str, Truth]:
    """Each email's truth: the history import's one entry (floor of the net historical
    spend x the rate), the live orders, membership, and the tier value at `at`."""
    out = {p.email: Truth(member=p.member or p.registers_later) for p in people}
    old = {id(o) for o in exported}
    historical: dict[str, Decimal] = {}
    start = at - timedelta(days=WINDOW_DAYS)
    for o in orders:
        truth = out[o.person.email]
        if id(o) in old:
            if not o.cancelled:
                historical[o.person.email] = historical.get(o.person.email, Decimal(0)) + o.total - o.refund
            continue
        truth.live[f"{sources[o.platform]}.{o.order_id}"] = o
        # an order is paid on its creation, or a day later when its fulfilment is seen first
        if o.cancelled or o.created + EDGE < start:
            continue
        counted, maybe = _net_at(o, at)
        if o.created < start + timedelta(hours=1):
            truth.edge += counted + maybe
        else:
            truth.spend, truth.edge = truth.spend + counted, truth.edge + maybe
    for email, base in historical.items():
        out[email].historical = int((base * POINTS_PER_UNIT).to_integral_value(rounding=ROUND_FLOOR))
    return out


def _net_at(order: SimOrder, at: datetime) -> tuple[Decimal, Decimal]:
    """(the order's net spend in USD at `at`, what its refund's date leaves open): a refund
    counts from its date, which the simulation puts 4 days after the order, so possibly
    after `at`; within the hour around `at` either may hold."""
    paid, net = _usd(order.total, order.platform), _usd(order.total - order.refund, order.platform)
    refunded_at = order.created + REFUNDED_AFTER
    if refunded_at <= at - timedelta(hours=1):
        return net, Decimal(0)
    if refunded_at >= at + timedelta(hours=1):
        return paid, Decimal(0)
    return net, paid - net


def _usd(amount: Decimal, platform: str) -> Decimal:
    if platform != "woocommerce":
        return amount
    return (amount * EUR_RATE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expected_order_points(order: SimOrder, rate: Decimal) -> int:
    """An order's points left after its refund or cancellation, at the stored `rate`."""
    if order.cancelled:
        return 0
    earned = int((_usd(order.total, order.platform) * rate).to_integral_value(rounding=ROUND_FLOOR))
    share = Decimal(earned) * min(order.refund, order.total) / order.total
    return earned - int(share.to_integral_value(rounding=ROUND_HALF_UP))


def tier_of(spend: Decimal) -> str | None:
    entered = [t["name"] for t in TIER_LIST if spend >= Decimal(str(t["enter"]))]
    return entered[-1] if entered else None


def tiers_for(truth: Truth) -> list[str | None]:
    """The tiers the rules give: one, or two when orders at the window's start decide."""
    return list(dict.fromkeys([tier_of(truth.spend), tier_of(truth.spend + truth.edge)]))


@dataclass
class Books:
    """The loyalty summary's figures and the customer who redeems."""

    members: int = 0
    outstanding: int = 0
    pending: int = 0
    tiers: dict[str, int] = field(default_factory=dict)
    richest: tuple[int, str] = (0, "")  # available points, customer id
    mismatches: list[str] = field(default_factory=list)


def check(
    local: Any, ws: Any, truth: dict[str, Truth], ids: dict[str, str], today: date, now: datetime
) -> Books:
    """Every customer's ledger against the truth, after the tiers' daily evaluation (`ids`:
    email -> the customer id the API found for it)."""
    container = local.harness.container
    local.run_schedule("tiers_evaluate")
    rates = {POINTS_PER_UNIT} | {POINTS_PER_UNIT * Decimal(str(t["multiplier"])) for t in TIER_LIST}
    books = Books()
    for email, want in truth.items():
        cid = ids.get(email)
        if cid is None:  # no single profile for the email: the profiles' check counted it
            continue
        entries, cursor, page = [], None, None
        while True:
            page = container.points.page(ws.workspace_id, cid, today, 200, cursor)
            entries += page.entries
            cursor = page.cursor
            if cursor is None:
                break
        problems = _customer(want, entries, page.total, page.view.pending, rates, today)
        state = container.tier_store.get(ws.workspace_id, cid)  # as GET /customers/{id}/tier
        tier = state.tier if state is not None else None
        if tier not in tiers_for(want):
            problems.append(
                f"tier {tier} (its value {container.tiers.view(ws.workspace_id, cid, now).value}), "
                f"expected {tiers_for(want)} (net spend {want.spend} + {want.edge})"
            )
        books.mismatches += [f"customer {cid}: {p}" for p in problems]
        books.members += want.member
        books.outstanding += page.total
        books.pending += page.view.pending
        books.tiers[tier or "none"] = books.tiers.get(tier or "none", 0) + 1
        books.richest = max(books.richest, (page.view.available, cid))
    return books


def _customer(
    want: Truth, entries: list[Any], total: int, pending: int, rates: set[Decimal], today: date
) -> list[str]:
    problems = []
    if sum(e.points for e in entries) != total:
        problems.append(f"balance {total} is not its ledger's sum {sum(e.points for e in entries)}")
    earnings = {e.order_id: e for e in entries if e.key.kind == "earn" and e.key.source == "order"}
    expected, expected_pending = want.historical + ENROLMENT_BONUS * want.member, 0
    for order_id, order in want.live.items():
        earning = earnings.get(order_id)
        if earning is None:
            if not order.cancelled:
                problems.append(f"order {order_id} earned nothing")
            continue
        if earning.rate not in rates:
            problems.append(f"order {order_id} earned at {earning.rate}, not a rule's rate")
            continue
        points = expected_order_points(order, earning.rate)
        expected += points
        window = (earning.available_on - order.created.astimezone(UTC).date()).days
        if window not in (RETURN_WINDOW_DAYS + 1, RETURN_WINDOW_DAYS + 2):  # paid on the day or the next
            problems.append(f"order {order_id} available on {earning.available_on}")
        if earning.available_on > today:
            expected_pending += points
    if total != expected:
        problems.append(f"{total} points, expected {expected} from the orders")
    if pending != expected_pending:
        problems.append(f"{pending} pending, expected {expected_pending}")
    return problems


def redeem(local: Any, ws: Any, store: Any, shop_source: str, books: Books, today: date) -> tuple[str, bool]:
    """The richest customer redeems the minimum for a code in the shop: (the line, ok)."""
    container = local.harness.container
    available, cid = books.richest
    if available < REDEEM_MIN_POINTS:
        return f"  MISMATCH nobody has {REDEEM_MIN_POINTS} points available to redeem", False
    before = container.points.page(ws.workspace_id, cid, today, 1).total
    body = json.dumps({"points": REDEEM_MIN_POINTS, "source": shop_source}).encode()
    headers = {
        "Authorization": f"Bearer {ws.api_key}",
        "Content-Type": "application/json",
        "Idempotency-Key": f"demo-redeem-{cid}",
    }
    status, entry = http.post(f"{local.api_url}/customers/{cid}/points/redeem", body, headers)
    code = entry.get("code") if status == 200 else None
    after = container.points.page(ws.workspace_id, cid, today, 1).total
    made = [d for d in store.discounts if d["code"] == code]
    ok = (
        code is not None
        and len(made) == 1
        and made[0]["usageLimit"] == 1
        and before - after == REDEEM_MIN_POINTS
    )
    line = (
        f"redemption                    customer {cid}: {REDEEM_MIN_POINTS} points for code {code} "
        f"({entry.get('amount')} {entry.get('currency')} off, single use, made by the shop's Admin API "
        f"stand-in), balance {before} -> {after}"
    )
    return line if ok else f"  MISMATCH {line} (answer {status})", ok


def summary_lines(books: Books) -> list[str]:
    tiers = ", ".join(f"{name} {n}" for name, n in sorted(books.tiers.items()))
    return [
        f"loyalty                       {books.members} members, {books.outstanding} points outstanding "
        f"({books.pending} pending), customers per tier: {tiers}",
        *[f"  MISMATCH {m}" for m in books.mismatches[:10]],
    ]
