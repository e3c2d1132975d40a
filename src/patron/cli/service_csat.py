"""`patron service csat show|set|tick` and `patron service report csat`: the satisfaction
surveys' settings, their job run by hand, and their report (docs/service.md#csat-satisfaction-surveys).
The commands join the `patron service` group of patron/cli/service.py when imported."""

from __future__ import annotations

from typing import Any

import click

from patron.cli.base import (
    CliError,
    container,
    json_option,
    print_json,
    print_table,
    stage_option,
    workspace_container,
)
from patron.cli.base import workspace_option as workspace_opt
from patron.cli.service import report, service


@service.group("csat")
def csat_group() -> None:
    """Satisfaction surveys (as /service/csat in the API)."""


@csat_group.command("show")
@workspace_opt()
@json_option
@stage_option
def show(workspace: str, as_json: bool, stage: str | None) -> None:
    """The workspace's survey settings (the defaults when never set: off)."""
    print_json(workspace_container(workspace).csat.settings(workspace), compact=as_json)


@csat_group.command("set")
@workspace_opt()
@click.option("--on/--off", "enabled", default=None, help="send surveys or not")
@click.option("--delay", "delay_minutes", type=int, help="minutes after the solve")
@click.option("--expiry-days", type=int, help="days the links answer")
@click.option("--channel", type=click.Choice(["auto", "email", "sms"]), help="auto: email, else SMS")
@click.option("--reason", "reasons", multiple=True, help="a reason offered for 1 to 3 (repeatable: the list)")
@json_option
@stage_option
def set_settings(workspace: str, as_json: bool, stage: str | None, **changes: Any) -> None:
    """Change some settings; the others keep their value."""
    from pydantic import ValidationError

    from chalicelib.domain.service.csat import CsatSettings

    surveys = workspace_container(workspace).csat
    given = {k: (list(v) if k == "reasons" else v) for k, v in changes.items() if v not in (None, ())}
    try:
        body = CsatSettings.model_validate(surveys.settings(workspace).model_dump() | given)
    except ValidationError as exc:
        raise CliError(f"invalid survey settings ({exc.errors()[0]['msg']})", 2) from exc
    print_json(surveys.save_settings(workspace, body), compact=as_json)


@csat_group.command("tick")
@json_option
@stage_option
def tick(as_json: bool, stage: str | None) -> None:
    """Run the `csat_tick` job now: due surveys sent, withdrawn or expired (all workspaces)."""
    from chalicelib.domain.models import now_utc

    print_json(container().csat.run(now_utc()), compact=as_json)


@report.command("csat")
@workspace_opt()
@click.option("--from", "since", required=True, type=click.DateTime(["%Y-%m-%d"]), help="first day (UTC)")
@click.option("--to", "until", required=True, type=click.DateTime(["%Y-%m-%d"]), help="last day (UTC)")
@click.option(
    "--by", type=click.Choice(["agent", "kind", "period"]), default="agent", show_default=True, help="groups"
)
@click.option(
    "--period",
    type=click.Choice(["day", "week", "month"]),
    default="day",
    show_default=True,
    help="with --by period",
)
@json_option
@stage_option
def csat_report(
    workspace: str, since: Any, until: Any, by: str, period: str, as_json: bool, stage: str | None
) -> None:
    """CSAT (share of 4s and 5s among answers) and response rate (answers / surveys
    delivered) per group, for the surveys sent from --from to --to (as GET /service/reports/csat)."""
    first, last = since.date(), until.date()
    found = workspace_container(workspace).csat.report(workspace, first, last, by, period)
    if as_json:
        print_json(found, compact=True)
        return
    rows = [
        (g.group, g.sent, g.answered, g.satisfied, _shown(g.csat), _shown(g.response_rate))
        for g in [*found.groups, found.total]
    ]
    print_table(f"CSAT by {by}", ["group", "sent", "answered", "4-5", "csat", "response rate"], rows)


def _shown(share: Any) -> str:
    return "-" if share is None else str(share)


COMMANDS: list[click.Command] = []  # registered on `service` (patron/cli/service.py)
