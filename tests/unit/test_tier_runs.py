"""The daily tier evaluation resumes where it stopped (docs/loyalty.md#tiers): a run cut
after any number of customers, on any page size, then resumed the same day, gives the
tier states and audit of one whole run, evaluates nobody twice, and a finished day is
not walked again (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.loyalty import tier_service
from chalicelib.domain.loyalty.tier_service import TierService
from chalicelib.domain.loyalty.tiers import Tier
from tests.unit.fake_tiers import FakeTierRunStore
from tests.unit.points_orders import PAID_AT, WS
from tests.unit.test_tiers import RULES, Rig, paid

TOTALS = ["50.00", "120.00", "600.00", "90.00", "450.00", "700.00", "130.00", "20.00", "510.00", "300.00"]
CUSTOMERS = [f"c_{i:02d}" for i in range(len(TOTALS))]
# the new rules make everyone due: gold is gone (its holders go down at once), bronze is new
NEW_RULES = replace(
    RULES, tiers=(Tier("bronze", Decimal(40), Decimal(40)), Tier("silver", Decimal(200), Decimal(150)))
)
DAY = PAID_AT + timedelta(days=2)


def workspace() -> tuple[Rig, TierService, FakeTierRunStore]:
    """Ten customers who ordered under RULES, then the rules changed."""
    rig = Rig()
    for i, (cid, total) in enumerate(zip(CUSTOMERS, TOTALS, strict=True)):
        change = paid(total, PAID_AT, str(i))
        rig.points.on_order(change, PAID_AT, cid)
        rig.tiers.on_order(change, PAID_AT, cid)
    rig.settings.value = replace(rig.settings.value, tiers=NEW_RULES)
    runs = FakeTierRunStore()
    return rig, TierService(rig.store, rig.ledger, rig.settings, runs=runs), runs


def outcome(rig: Rig) -> tuple[Any, Any]:
    """Each customer's tier state and audit; a move's `since` by its UTC day (a resumed run
    comes later the same day: its moves are stamped with its own time)."""
    states = {cid: _by_day(rig.store.get(WS, cid)) for cid in CUSTOMERS}
    audit = {cid: [(c.before, c.after, c.kind) for c in rig.store.changes(WS, cid)] for cid in CUSTOMERS}
    return states, audit


def _by_day(state: Any) -> Any:
    return replace(state, since=state.since.date() if state.since else None)


def cut_after(n: int):
    """An invocation's time left: plenty for `n` customers, then none."""
    calls = iter(range(10_000))
    return lambda: 1000.0 if next(calls) < n else 0.0


def evaluate(service: TierService, at: datetime, page: int, time_left: Any = None) -> dict[str, int]:
    was, tier_service.PAGE = tier_service.PAGE, page
    try:
        return service.evaluate(WS, at, time_left)
    finally:
        tier_service.PAGE = was


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=len(CUSTOMERS)), st.integers(min_value=1, max_value=4))
def test_a_run_cut_after_n_customers_then_resumed_equals_one_whole_run(n, page):
    # Given two copies of a workspace whose new tier rules make all ten customers due
    whole_rig, whole, _ = workspace()
    cut_rig, cut, runs = workspace()
    # When one is evaluated in one run, and the other in a run cut after n customers, then
    # resumed by the next run of the same day (an hour later), then run once more
    once = evaluate(whole, DAY, page)
    first = evaluate(cut, DAY, page, cut_after(n))
    second = evaluate(cut, DAY + timedelta(hours=1), page, cut_after(10_000))
    third = evaluate(cut, DAY + timedelta(hours=2), page)
    # Then the tier states and their audit are those of the whole run
    assert outcome(cut_rig) == outcome(whole_rig)
    assert sum(len(a) for a in outcome(whole_rig)[1].values()) > len(CUSTOMERS)  # (moves happened)
    # And every customer was looked at once over the two runs, the first having stopped
    # (unless nothing was left), the finished day not walked again
    looked = [r["evaluated"] + r["skipped"] for r in (first, second)]
    assert looked == [n, len(CUSTOMERS) - n] and sum(looked) == once["evaluated"] + once["skipped"]
    assert first.get("stopped", 0) == (1 if n < len(CUSTOMERS) else 0)
    assert (third["evaluated"], third["skipped"]) == (0, 0) and runs.runs[WS].done
    for name in ("upgraded", "downgraded"):
        assert first[name] + second[name] == once[name]


def test_the_next_day_walks_everyone_again():
    # Given a day's evaluation finished
    _, service, runs = workspace()
    evaluate(service, DAY, 3)
    # When the next UTC day's first run comes
    counts = evaluate(service, DAY + timedelta(days=1), 3)
    # Then it looks at every customer again (most skipped: nothing can move them yet)
    assert counts["evaluated"] + counts["skipped"] == len(CUSTOMERS)
    assert runs.runs[WS].day == (DAY + timedelta(days=1)).date() and runs.runs[WS].done


def test_an_overlapping_run_that_lost_the_progress_stops():
    # Given a run that read the day's progress, and another that committed since
    _, _, runs = workspace()
    stale = runs.progress(WS, DAY.date())
    assert runs.advance(stale, "c_03", False) is not None
    # When the stale one commits: Then it is refused, and the progress is the other's
    assert runs.advance(stale, "c_05", False) is None
    assert runs.runs[WS].cursor == "c_03"
