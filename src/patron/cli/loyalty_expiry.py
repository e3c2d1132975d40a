"""`patron loyalty expire` (the points expiry sweep, as the daily `points_expire` job, for a
local run or a chosen day). docs/loyalty.md#expiry."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from patron.cli.base import print_json, stage_option, workspace_container, workspace_option


@click.group("loyalty")
def loyalty_group() -> None:
    """Loyalty points' scheduled work, run by hand."""


@loyalty_group.command("expire")
@workspace_option()
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="the UTC day to sweep as (today if not given)",
)
@stage_option
def expire(workspace: str, today: datetime | None, stage: str | None) -> None:
    """Expire the workspace's points due by the day (each once, so a second run writes
    nothing) and start the `points.expiring` warnings of the customers' local day (noon UTC
    of a chosen day) and the `points.available` runs of the lots available that day."""
    from chalicelib.domain.models import now_utc

    found = workspace_container(workspace)
    now = now_utc() if today is None else today.replace(hour=12, tzinfo=UTC)  # a chosen day: its noon
    result = found.points_expiry.expire(workspace, now.date())
    result["warnings"] = found.points_expiry_warnings.warn(workspace, now)
    result["available"] = found.points_available.announce(workspace, now.date())
    print_json(result)


COMMANDS: list[click.Command] = [loyalty_group]
