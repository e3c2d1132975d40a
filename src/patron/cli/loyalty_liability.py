"""`patron loyalty liability` (the analytics report's loyalty section alone, as GET
/analytics/loyalty). docs/analytics.md#loyalty."""

from __future__ import annotations

import importlib

import click

from patron.cli.base import json_option, print_json, stage_option, workspace_container, workspace_option


@click.command("liability")
@workspace_option()
@click.option("--from", "date_from", metavar="DATE", help="the by-tier figures' start (a year before --to)")
@click.option("--to", "date_to", metavar="DATE", help="the day balances are judged on; default now")
@json_option
@stage_option
def liability(
    workspace: str, date_from: str | None, date_to: str | None, as_json: bool, stage: str | None
) -> None:
    """Points outstanding, pending, in debt and expiring within 30 days, in money at the
    redemption rate (the erased customers' tally included); members vs non-members by tier."""
    from chalicelib.domain.workspace_analytics import parse_date

    start, end = parse_date("--from", date_from), parse_date("--to", date_to)
    print_json(workspace_container(workspace).analytics.liability(workspace, start, end), compact=as_json)


def _loyalty_group() -> click.Group:
    """The `patron loyalty` group: the expiry step's (`patron loyalty expire`) when it is
    there, else one of its own, so the two never shadow each other."""
    try:
        group = importlib.import_module("patron.cli.loyalty_expiry").loyalty_group
    except ImportError:
        group = click.Group("loyalty", help="Loyalty points: the liability, and scheduled work run by hand.")
    assert isinstance(group, click.Group)
    group.add_command(liability)
    return group


COMMANDS: list[click.Command] = [_loyalty_group()]
