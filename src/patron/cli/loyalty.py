"""`patron workspace loyalty` (a workspace's points rules) and `patron customers points` (a
customer's balance and ledger, as GET /customers/ID/points). docs/loyalty.md."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import click

from chalicelib.domain.workspace_settings import IMPORT_POLICIES
from patron.cli.base import (
    CliError,
    container,
    existing_workspace,
    json_option,
    page_options,
    print_json,
    stage_option,
    workspace_container,
    workspace_option,
)

MAX_WINDOW_DAYS = 365


@click.command("loyalty")
@workspace_option()
@click.option("--on/--off", "enabled", default=None, help="earn points from orders (off by default)")
@click.option("--points-per-unit", metavar="N", help="points per 1 unit of the workspace currency (1)")
@click.option(
    "--return-window-days", type=int, metavar="N", help="points stay pending this long after payment (30)"
)
@click.option(
    "--import-policy",
    type=click.Choice(IMPORT_POLICIES),
    help="a history import's orders: none (no points) or historical (one dated entry per customer)",
)
@click.option(
    "--redeem-value-per-point", metavar="MONEY", help="a point's worth in the workspace currency (0.01)"
)
@click.option(
    "--redeem-min-points", type=click.IntRange(1, 1_000_000), metavar="N", help="fewest points (100)"
)
@click.option(
    "--redeem-as", type=click.Choice(["code", "store_credit"]), help="a store code or store credit (code)"
)
@click.option(
    "--redeem-code-valid-days", type=click.IntRange(1, 3650), metavar="N", help="a code's validity (90)"
)
@click.option(
    "--expiry",
    type=click.Choice(["none", "lots", "inactivity"]),
    help="points expiry: none, each lot on its own, or the whole balance after no activity (none)",
)
@click.option(
    "--expiry-days",
    type=click.IntRange(1, 3650),
    metavar="N",
    help="a lot expires N days after it became available; inactivity: N days without activity (365)",
)
@stage_option
def loyalty(
    workspace: str,
    enabled: bool | None,
    points_per_unit: str | None,
    return_window_days: int | None,
    stage: str | None,
    import_policy: str | None = None,
    **redeem: str | int | None,
) -> None:
    """The workspace's points rules: shown, or changed by the options given."""
    from dataclasses import replace

    found = container()
    rules = existing_workspace(found, workspace).loyalty
    changes: dict[str, object] = {}
    if enabled is not None:
        changes["enabled"] = enabled
    if points_per_unit is not None:
        try:
            rate = Decimal(points_per_unit)
        except InvalidOperation as exc:
            raise CliError("--points-per-unit is a number, like 1 or 0.5", 2) from exc
        if not (rate.is_finite() and 0 < rate <= 1000):
            raise CliError("--points-per-unit is above 0 and at most 1000", 2)
        changes["points_per_unit"] = rate
    if return_window_days is not None:
        if not 0 <= return_window_days <= MAX_WINDOW_DAYS:
            raise CliError(f"--return-window-days is between 0 and {MAX_WINDOW_DAYS}", 2)
        changes["return_window_days"] = return_window_days
    if import_policy is not None:
        changes["import_policy"] = import_policy
    changes.update(_redeem_changes(redeem))
    if changes:
        rules = replace(rules, **changes)
        found.workspaces.set_loyalty(workspace, rules)
    print_json(
        {
            "enabled": rules.enabled,
            "points_per_unit": str(rules.points_per_unit),
            "return_window_days": rules.return_window_days,
            "import_policy": rules.import_policy,
            "redeem_value_per_point": str(rules.redeem_value_per_point),
            "redeem_min_points": rules.redeem_min_points,
            "redeem_as": rules.redeem_as,
            "redeem_code_valid_days": rules.redeem_code_valid_days,
            "expiry": rules.expiry,
            "expiry_days": rules.expiry_days,
        }
    )


def _redeem_changes(given: dict[str, str | int | None]) -> dict[str, object]:
    """The redemption options given, checked (the value per point: money above 0)."""
    changes: dict[str, object] = {k: v for k, v in given.items() if v is not None}
    if "redeem_value_per_point" in changes:
        try:
            value = Decimal(str(changes["redeem_value_per_point"]))
        except InvalidOperation as exc:
            raise CliError("--redeem-value-per-point is an amount, like 0.01", 2) from exc
        if not (value.is_finite() and 0 < value <= 1000):
            raise CliError("--redeem-value-per-point is above 0 and at most 1000", 2)
        changes["redeem_value_per_point"] = value
    return changes


@click.command("points")
@workspace_option()
@click.argument("customer_id")
@page_options
@json_option
@stage_option
def points(
    workspace: str, customer_id: str, limit: int, cursor: str | None, as_json: bool, stage: str | None
) -> None:
    """A customer's points (available, pending, debt) and a page of their ledger."""
    from chalicelib.domain.loyalty.ledger import page_json
    from chalicelib.domain.models import now_utc

    service = workspace_container(workspace).points
    print_json(
        page_json(service.page(workspace, customer_id, now_utc().date(), limit, cursor)), compact=as_json
    )


@click.command("adjust-points")
@workspace_option()
@click.argument("customer_id")
@click.option("--points", type=int, required=True, metavar="N", help="points to add (negative: deduct)")
@click.option("--reason", required=True, metavar="TEXT", help="why, kept on the entry (1 to 200 characters)")
@click.option("--key", metavar="K", help="the idempotency key (one is made and printed if not given)")
@stage_option
def adjust_points(
    workspace: str, customer_id: str, points: int, reason: str, key: str | None, stage: str | None
) -> None:
    """Adjust a customer's points by hand (as POST /customers/ID/points/adjustments)."""
    import uuid

    from pydantic import ValidationError

    from chalicelib.domain.enrolment import Actor
    from chalicelib.domain.loyalty.adjust import MAX_KEY, AdjustmentIn
    from chalicelib.domain.loyalty.ledger import entry_json
    from chalicelib.domain.models import now_utc

    try:
        body = AdjustmentIn(points=points, reason=reason)
    except ValidationError as exc:
        raise CliError(
            "--points is a non-zero whole number up to 1000000 either way; --reason 1 to 200 characters", 2
        ) from exc
    key = key or uuid.uuid4().hex
    if len(key) > MAX_KEY or not key.isprintable():
        raise CliError(f"--key takes 1 to {MAX_KEY} printable characters", 2)
    service = workspace_container(workspace).points_adjustments
    entry = service.adjust(workspace, customer_id, body, key, Actor("cli", "cli"), now_utc())
    print_json({"idempotency_key": key, "entry": entry_json(entry)})


@click.command("redeem")
@workspace_option()
@click.argument("customer_id")
@click.option("--points", type=int, required=True, metavar="N", help="points to redeem")
@click.option("--source", metavar="SOURCE", help="the store to make the code in (the latest order's)")
@click.option("--key", metavar="K", help="the idempotency key (one is made and printed if not given)")
@stage_option
def redeem(
    workspace: str, customer_id: str, points: int, source: str | None, key: str | None, stage: str | None
) -> None:
    """Redeem a customer's points (as POST /customers/ID/points/redeem)."""
    import uuid

    from pydantic import ValidationError

    from chalicelib.domain.loyalty.adjust import MAX_KEY
    from chalicelib.domain.loyalty.ledger import entry_json
    from chalicelib.domain.loyalty.redeem import RedeemIn
    from chalicelib.domain.models import now_utc

    try:
        body = RedeemIn(points=points, source=source)
    except ValidationError as exc:
        raise CliError("--points is a whole number from 1 to 1000000", 2) from exc
    key = key or uuid.uuid4().hex
    if len(key) > MAX_KEY or not key.isprintable():
        raise CliError(f"--key takes 1 to {MAX_KEY} printable characters", 2)
    service = workspace_container(workspace).points_redemptions
    entry = service.redeem(workspace, customer_id, body, key, now_utc())
    print_json({"idempotency_key": key, "entry": entry_json(entry)})
