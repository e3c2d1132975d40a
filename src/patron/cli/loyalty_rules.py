"""`patron workspace loyalty-rules` (bonus points per action) and `patron customers award`
(an action's bonus, as POST /customers/ID/points/actions). docs/loyalty.md#bonuses."""

from __future__ import annotations

import click

from patron.cli.base import (
    CliError,
    container,
    existing_workspace,
    print_json,
    stage_option,
    workspace_option,
)


@click.command("loyalty-rules")
@workspace_option()
@click.option(
    "--bonus",
    "bonuses",
    multiple=True,
    metavar="ACTION=POINTS",
    help="bonus points for an action (repeatable; ACTION=0 removes it)",
)
@click.option(
    "--cap",
    "caps",
    multiple=True,
    metavar="ACTION=MAX/PERIOD",
    help="at most MAX bonuses of an action per customer and day, month, year or lifetime (ACTION=0: none)",
)
@click.option(
    "--earn-on",
    type=click.Choice(["total", "subtotal", "subtotal_shipping", "subtotal_tax"]),
    help="what an order earns on: its total as paid (the default), or its subtotal after discounts, "
    "with its shipping or its tax",
)
@stage_option
def loyalty_rules(
    workspace: str, bonuses: tuple[str, ...], caps: tuple[str, ...], earn_on: str | None, stage: str | None
) -> None:
    """The workspace's earning base, bonus points per action and their caps: shown, or
    changed by the options given."""
    from dataclasses import replace

    from chalicelib.domain.loyalty.rules import RulesError, parse_bonuses, parse_caps

    found = container()
    rules = existing_workspace(found, workspace).loyalty
    if bonuses or caps or earn_on:
        try:
            rules = replace(
                rules,
                bonuses=parse_bonuses(bonuses, rules.bonuses),
                caps=parse_caps(caps, rules.caps),
                earn_on=earn_on or rules.earn_on,
            )
        except RulesError as exc:
            raise CliError(f"--bonus/--cap: {exc}", 2) from exc
        found.workspaces.set_loyalty(workspace, rules)
    print_json(
        {
            "earn_on": rules.earn_on,
            "bonuses": dict(sorted(rules.bonuses.items())),
            "caps": {a: {"max": c.max, "period": c.period} for a, c in sorted(rules.caps.items())},
        }
    )


@click.command("award")
@workspace_option()
@click.argument("customer_id")
@click.option(
    "--action", required=True, metavar="A", help="the action (its bonus: patron workspace loyalty-rules)"
)
@click.option(
    "--id", "external_id", required=True, metavar="X", help="the action's external id (credited once)"
)
@stage_option
def award(workspace: str, customer_id: str, action: str, external_id: str, stage: str | None) -> None:
    """Credit an action's bonus points once per id (as POST /customers/ID/points/actions)."""
    from pydantic import ValidationError

    from chalicelib.domain.loyalty.bonuses import ActionIn
    from chalicelib.domain.loyalty.ledger import entry_json
    from chalicelib.domain.models import now_utc
    from patron.cli.base import workspace_container

    try:
        body = ActionIn(action=action, id=external_id)
    except ValidationError as exc:
        raise CliError(
            "--action is a-z, 0-9 and _ (a letter first); --id 1 to 128 printable characters, no #", 2
        ) from exc
    entry = workspace_container(workspace).points_actions.award(workspace, customer_id, body, now_utc())
    print_json(entry_json(entry))


@click.command("loyalty-dry-run")
@workspace_option()
@click.option("--on/--off", "enabled", default=None, help="the proposed switch (default: as now)")
@click.option("--points-per-unit", metavar="N", help="the proposed points per unit of the workspace currency")
@click.option(
    "--bonus", "bonuses", multiple=True, metavar="ACTION=POINTS", help="a proposed bonus (repeatable)"
)
@click.option(
    "--days", type=click.IntRange(1, 365), default=30, show_default=True, help="orders placed this recently"
)
@click.option(
    "--customers",
    type=click.IntRange(1, 1000),
    default=200,
    show_default=True,
    help="at most this many customers",
)
@click.option("--at", metavar="ISO", help="the moment to look back from (default: now)")
@stage_option
def loyalty_dry_run(
    workspace: str,
    enabled: bool | None,
    points_per_unit: str | None,
    bonuses: tuple[str, ...],
    days: int,
    customers: int,
    at: str | None,
    stage: str | None,
) -> None:
    """Points the proposed rules would give recent orders, beside the current rules; writes nothing."""
    from dataclasses import replace
    from decimal import Decimal, InvalidOperation

    from chalicelib.domain.loyalty.rules import RulesError, parse_bonuses
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.timemath import parse_iso

    found = container()
    rules = existing_workspace(found, workspace).loyalty
    try:
        rate = rules.points_per_unit if points_per_unit is None else Decimal(points_per_unit)
        proposed = replace(
            rules,
            enabled=rules.enabled if enabled is None else enabled,
            points_per_unit=rate,
            bonuses=parse_bonuses(bonuses, rules.bonuses),
        )
    except (InvalidOperation, RulesError) as exc:
        raise CliError(f"the proposed rules: {exc}", 2) from exc
    if not (rate.is_finite() and 0 < rate <= 1000):
        raise CliError("--points-per-unit is above 0 and at most 1000", 2)
    try:
        when = now_utc() if at is None else parse_iso(at)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise CliError("--at is an ISO 8601 time with its offset, like 2026-12-01T00:00:00Z", 2)
    print_json(found.loyalty_dry_run.run(workspace, proposed, when, days, customers))
