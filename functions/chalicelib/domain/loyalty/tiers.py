"""Tiers: a workspace's tier rules and a customer's tier, computed from the points ledger.

A customer's **qualifying value** is read from their ledger: the earning entries dated
inside the window (trailing N days, the calendar year, or lifetime), each counted net of
the refunds and cancellation reversed on it (`net_spend`: the earning base in the
workspace currency less what was refunded; `points_earned`: points earned less points
reversed). Only entries dated up to the moment asked about count, so the value at any past
moment can be recomputed from the ledger as it is now.

Two steps move a tier, both pure functions of (state, value, moment, rules):
- `on_order`: at once, to the highest tier whose `enter` threshold the value reaches, if
  that is above the current one (never down);
- `on_evaluation` (the scheduled job, once a day): the same upgrade, then, below the
  current tier's `keep` threshold, the grace period starts (`below_since`); once it has
  lasted `grace_days`, down to the highest lower tier whose `keep` the value still meets.
  A manual move may hold its tier against downgrades until a day (`held_until`).
`recompute` folds the same steps over the ledger's orders and the evaluation days in time
order: the tier the incremental path recorded (docs/loyalty.md#tiers).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.domain.loyalty.model import CANCEL, EARN, LedgerEntry
from chalicelib.domain.tier_rules import Tier, TierRules

Convert = Callable[[Decimal, str | None], Decimal | None]  # WorkspaceSettings.convert


@dataclass(frozen=True)
class TierState:
    """A customer's tier as recorded (docs/data-model.md#tier-state)."""

    workspace_id: str
    customer_id: str
    tier: str | None = None
    since: datetime | None = None  # when the current tier (or none) was entered
    value: Decimal = Decimal(0)  # the qualifying value when the state was last recorded
    below_since: date | None = None  # the evaluation day the value fell below `keep` (grace)
    held_until: date | None = None  # a manual move holds its tier against downgrades until then
    # the first day an evaluation could move it (None: only an order can): the daily job
    # reads the ledger of a customer holding a tier only from that day (`next_check`)
    check_on: date | None = None
    rules_id: str = ""  # the rules `check_on` was computed under (`fingerprint`): others, due now
    version: int = 0  # 0: never stored


@dataclass(frozen=True)
class TierChange:
    """An audit entry: every change of a customer's tier."""

    workspace_id: str
    customer_id: str
    at: datetime
    before: str | None
    after: str | None
    kind: str  # "upgrade" | "downgrade" | "manual"
    value: Decimal
    actor: str = "patron"  # a manual move: `cli` or `key:<hash prefix>`
    reason: str | None = None


@dataclass(frozen=True)
class Step:
    state: TierState
    change: TierChange | None = None


def qualifying_value(
    entries: Iterable[LedgerEntry], rules: TierRules, at: datetime, convert: Convert
) -> Decimal:
    """The value the tiers measure at `at`, from a customer's ledger entries."""
    start = rules.since(at)
    earnings: dict[str, LedgerEntry] = {}
    refunded: dict[str, Decimal] = {}
    reversed_points: dict[str, int] = {}
    cancelled: set[str] = set()
    for e in entries:
        if e.at > at or e.order_id is None:
            continue
        if e.key.kind == EARN and e.rate is not None:
            if start is None or e.at >= start:
                earnings[e.order_id] = e
        elif e.points <= 0:  # a reversal: a refund's or the cancellation's
            reversed_points[e.order_id] = reversed_points.get(e.order_id, 0) - e.points
            refunded[e.order_id] = refunded.get(e.order_id, Decimal(0)) + (e.amount or Decimal(0))
            if e.key.kind == CANCEL:
                cancelled.add(e.order_id)
    total = Decimal(0)
    for order_id, e in earnings.items():
        if rules.measure == "points_earned":
            total += max(e.points - reversed_points.get(order_id, 0), 0)
            continue
        if order_id in cancelled:
            continue
        base = e.base or Decimal(0)
        net = convert(base - min(refunded.get(order_id, Decimal(0)), base), e.currency)
        total += net if net is not None else Decimal(0)
    return total


def on_order(state: TierState, value: Decimal, at: datetime, rules: TierRules) -> Step:
    """An order was recorded: up at once to the tier the value enters, never down."""
    target = rules.entered(value)
    if rules.rank(target) <= rules.rank(state.tier):
        return Step(state)
    after = replace(state, tier=target, since=at, value=value, below_since=None)
    return Step(
        after, TierChange(state.workspace_id, state.customer_id, at, state.tier, target, "upgrade", value)
    )


def on_evaluation(state: TierState, value: Decimal, at: datetime, rules: TierRules) -> Step:
    """The scheduled evaluation of day `at.date()`: an upgrade the orders missed, the grace
    period's start or end, a downgrade once it has lasted `grace_days`."""
    up = on_order(state, value, at, rules)
    if up.change is not None:
        return up
    current = rules.tier(state.tier)
    if state.tier is None:
        return Step(state)
    day = at.astimezone(UTC).date()
    if current is not None and value >= current.keep:
        return (
            Step(state) if state.below_since is None else Step(replace(state, below_since=None, value=value))
        )
    if state.held_until is not None and day < state.held_until:
        return Step(state)
    below = state.below_since or day
    if current is not None and (day - below).days < rules.grace_days:
        return (
            Step(state)
            if state.below_since == below
            else Step(replace(state, below_since=below, value=value))
        )
    target = rules.kept_below(rules.rank(state.tier) or len(rules.tiers) + 1, value)
    after = replace(state, tier=target, since=at, value=value, below_since=None, held_until=None)
    return Step(
        after, TierChange(state.workspace_id, state.customer_id, at, state.tier, target, "downgrade", value)
    )


def manual_move(
    state: TierState,
    tier: str | None,
    value: Decimal,
    at: datetime,
    actor: str,
    reason: str,
    hold_days: int | None,
) -> Step:
    """An operator's move, either way; it holds against downgrades for `hold_days` if given,
    else the next evaluations treat it like any tier (keep threshold, then grace)."""
    held = at.astimezone(UTC).date() + timedelta(days=hold_days) if hold_days else None
    after = replace(state, tier=tier, since=at, value=value, below_since=None, held_until=held)
    change = TierChange(
        state.workspace_id, state.customer_id, at, state.tier, tier, "manual", value, actor, reason
    )
    return Step(after, change)


def next_check(
    state: TierState, entries: Sequence[LedgerEntry], rules: TierRules, convert: Convert, at: datetime
) -> date | None:
    """The first day an evaluation could change `state`, as recorded at `at`: under the keep
    threshold, today to start the grace, the grace's last day once it runs (a manual hold's
    last day while it holds); back at or over it while the grace runs, today (to end it);
    else the day the value can first fall without a new ledger entry
    (the oldest counted order leaves a trailing window; 1 January for a calendar year;
    never for lifetime). A refund or cancellation comes through the ingest consumer, which
    records the state again. Without a tier: None (only an order moves it)."""
    if state.tier is None:
        return None
    today = at.astimezone(UTC).date()
    current = rules.tier(state.tier)
    if current is None:
        return today
    below = qualifying_value(entries, rules, at, convert) < current.keep
    if state.below_since is not None:
        return max(state.below_since + timedelta(days=rules.grace_days), today) if below else today
    if below:
        return state.held_until if state.held_until is not None and state.held_until > today else today
    if rules.window == "calendar_year":
        return date(today.year + 1, 1, 1)
    if rules.window == "lifetime":
        return None
    start = rules.since(at)
    counted = [
        e.at
        for e in entries
        if e.key.kind == EARN and e.rate is not None and start is not None and start <= e.at <= at
    ]
    return (min(counted) + timedelta(days=rules.window_days)).astimezone(UTC).date() if counted else today


def recompute(
    workspace_id: str,
    customer_id: str,
    entries: Sequence[LedgerEntry],
    evaluations: Iterable[datetime],
    rules: TierRules,
    convert: Convert,
    until: datetime,
) -> TierState:
    """The tier from scratch: the orders' earnings and the evaluations up to `until`, in time
    order (an order before an evaluation of the same moment), through the same steps."""
    events: list[tuple[datetime, int]] = [
        (e.at, 0) for e in entries if e.key.kind == EARN and e.rate is not None
    ]
    events += [(at, 1) for at in evaluations]
    state = TierState(workspace_id, customer_id)
    for at, kind in sorted(events):
        if at > until:
            break
        value = qualifying_value(entries, rules, at, convert)
        step = on_order if kind == 0 else on_evaluation
        state = step(state, value, at, rules).state
    return state


def progress(state: TierState, value: Decimal, rules: TierRules) -> dict[str, Any] | None:
    """How far the value is from the next tier up (None at the top or without tiers)."""
    rank = rules.rank(state.tier)
    if rank >= len(rules.tiers):
        return None
    nxt = rules.tiers[rank]
    return {"next_tier": nxt.name, "needed": str(max(nxt.enter - value, Decimal(0))), "value": str(value)}


def preview(
    states: Iterable[tuple[TierState, Decimal]], rules: TierRules, sample: int = 10
) -> dict[str, Any]:
    """Who would move under `rules` (each customer's state with its value under them):
    up at once (the value enters a higher tier), down at the next evaluations after grace
    (below the keep threshold, or the tier is gone); nothing written."""
    ups: list[str] = []
    downs: list[str] = []
    for state, value in states:
        rank = rules.rank(state.tier)
        if rules.rank(rules.entered(value)) > rank:
            ups.append(state.customer_id)
            continue
        current = rules.tier(state.tier)
        gone = state.tier is not None and current is None  # these rules no longer name it
        if gone or (current is not None and value < current.keep):
            downs.append(state.customer_id)
    return {
        "up": {"count": len(ups), "sample": sorted(ups)[:sample]},
        "down": {"count": len(downs), "sample": sorted(downs)[:sample]},
    }


def rules_from_json(value: dict[str, Any]) -> TierRules:
    """The `tiers` block as JSON (the CLI's file, the preview route); ValueError if wrong."""
    unknown = set(value) - {"tiers", "measure", "window", "window_days", "grace_days"}
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
    tiers = []
    for raw in value.get("tiers") or []:
        extra = set(raw) - {"name", "enter", "keep", "multiplier", "free_shipping", "discount_percent"}
        if extra:
            raise ValueError(f"unknown tier fields: {', '.join(sorted(extra))}")
        try:
            enter = Decimal(str(raw["enter"]))
            tiers.append(
                Tier(
                    name=str(raw["name"]),
                    enter=enter,
                    keep=Decimal(str(raw.get("keep", enter))),
                    multiplier=Decimal(str(raw.get("multiplier", 1))),
                    free_shipping=bool(raw.get("free_shipping", False)),
                    discount_percent=Decimal(str(raw.get("discount_percent", 0))),
                )
            )
        except (KeyError, ArithmeticError, TypeError) as exc:
            raise ValueError(f"a tier needs a name and numeric thresholds ({exc})") from exc
    return TierRules(
        tiers=tuple(tiers),
        measure=str(value.get("measure", "net_spend")),
        window=str(value.get("window", "trailing")),
        window_days=int(value.get("window_days", 365)),
        grace_days=int(value.get("grace_days", 30)),
    )


def fingerprint(rules: TierRules) -> str:
    """A short, stable digest of the rules: a state recorded under other rules is due."""
    text = json.dumps(rules_json(rules), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def rules_json(rules: TierRules) -> dict[str, Any]:
    return {
        "measure": rules.measure,
        "window": rules.window,
        "window_days": rules.window_days,
        "grace_days": rules.grace_days,
        "tiers": [
            {
                "name": t.name,
                "enter": str(t.enter),
                "keep": str(t.keep),
                "multiplier": str(t.multiplier),
                "free_shipping": t.free_shipping,
                "discount_percent": str(t.discount_percent),
            }
            for t in rules.tiers
        ],
    }
