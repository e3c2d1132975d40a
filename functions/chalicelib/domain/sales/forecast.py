"""`GET /pipeline`'s figures, from the opportunities' heads and the settings (pure): per
stage the count, value and weighted forecast (value x probability, rounded by the
workspace currency's minor units), per owner the value won in the period against the
target (docs/sales.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from chalicelib.domain.money import round_money
from chalicelib.domain.sales.model import Opportunity, Outcome
from chalicelib.domain.sales.settings import SalesSettings, Stage, period_bounds
from chalicelib.domain.sales.views import OwnerFigures, PipelineView, StageFigures

SHARE = Decimal("0.0001")


def in_currency(
    value: Decimal, currency: str, workspace_currency: str, rates: Mapping[str, Decimal]
) -> Decimal | None:
    """`value` in the workspace currency (1 unit of a rated currency = rate x it); None
    without a rate."""
    if currency == workspace_currency:
        return value
    rate = rates.get(currency)
    return None if rate is None else value * rate


def _in_period(at: datetime | None, start: datetime, end: datetime) -> bool:
    return at is not None and start <= at < end


def pipeline_figures(
    opportunities: Iterable[Opportunity],
    settings: SalesSettings,
    currency: str,
    rates: Mapping[str, Decimal],
    period: str,
    now: datetime,
    zone: ZoneInfo | None = None,
) -> PipelineView:
    """Open stages count every open opportunity in them; won and lost stages count those
    closed within the period: from local midnight of its first day to local midnight after
    its last in the store's `zone` (UTC when None), whatever daylight saving does between."""
    first, after = period_bounds(period)
    start = datetime.combine(first, time(), tzinfo=zone or UTC).astimezone(UTC)
    end = datetime.combine(after, time(), tzinfo=zone or UTC).astimezone(UTC)
    stages: dict[str, Stage] = {s.name: s for s in settings.stages}
    counts = {name: 0 for name in stages}
    values = {name: Decimal(0) for name in stages}
    weighted = {name: Decimal(0) for name in stages}
    won: dict[str, tuple[Decimal, int]] = {}
    unconverted = stale = 0
    for o in opportunities:
        if o.is_stale(settings.stale_days, now):
            stale += 1
        if o.outcome != Outcome.OPEN and not _in_period(o.closed_at, start, end):
            continue
        value = in_currency(o.value, o.currency, currency, rates)
        if value is None:
            unconverted += 1
            continue
        stage = stages.get(o.stage)
        if stage is not None:
            counts[o.stage] += 1
            values[o.stage] += value
            weighted[o.stage] += value * stage.probability
        if o.outcome == Outcome.WON:
            owner = o.owner or ""
            total, n = won.get(owner, (Decimal(0), 0))
            won[owner] = (total + value, n + 1)
    rows = [
        StageFigures(
            stage=s.name,
            probability=str(s.probability),
            outcome=s.outcome,
            count=counts[s.name],
            value=str(round_money(values[s.name], currency)),
            weighted=str(round_money(weighted[s.name], currency)),
        )
        for s in settings.stages
    ]
    forecast = sum(
        (round_money(weighted[s.name], currency) for s in settings.stages if s.outcome == "open"),
        Decimal(0),
    )
    targets = {t.owner: t.amount for t in settings.targets if t.period == period}
    owners = []
    for owner in sorted(set(targets) | {o for o in won if o}):
        amount, n = won.get(owner, (Decimal(0), 0))
        target = targets.get(owner)
        share = None if not target else (amount / target).quantize(SHARE)
        owners.append(
            OwnerFigures(
                owner=owner,
                won=str(round_money(amount, currency)),
                won_count=n,
                target=None if target is None else str(round_money(target, currency)),
                share=None if share is None else str(share),
            )
        )
    return PipelineView(
        currency=currency,
        period=period,
        zone=str(zone or UTC),
        stages=rows,
        forecast=str(round_money(forecast, currency)),
        owners=owners,
        unconverted=unconverted,
        stale=stale,
    )
