"""`patron loyalty expire` (the points expiry sweep, as the daily `points_expire` job, for a
local run or a chosen day). docs/loyalty.md#expiry."""

from __future__ import annotations

from datetime import datetime

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
    """Expire the workspace's lots due by the day (policy `lots`): each once, so a second
    run writes nothing."""
    from chalicelib.domain.models import now_utc

    found = workspace_container(workspace)
    day = today.date() if today is not None else now_utc().date()
    print_json(found.points_expiry.expire(workspace, day))


COMMANDS: list[click.Command] = [loyalty_group]
