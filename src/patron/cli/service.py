"""`patron service sla show|set FILE` and `patron service report sla`: the service desk's
SLA settings and report, the CLI twins of /service/sla and /service/reports/sla
(docs/service.md, "SLA operations")."""

from __future__ import annotations

import json
from pathlib import Path

import click

from patron.cli.base import (
    CliError,
    json_option,
    print_json,
    stage_option,
    workspace_container,
    workspace_option,
)


@click.group("service")
def service() -> None:
    """The service desk's settings and reports."""


@service.group("sla")
def sla() -> None:
    """The business calendar and the ordered SLA policies."""


@sla.command("show")
@workspace_option()
@json_option
@stage_option
def show(workspace: str, as_json: bool, stage: str | None) -> None:
    """The calendar and the policies with their version (as GET /service/sla)."""
    print_json(workspace_container(workspace).sla_settings.current(workspace), compact=as_json)


@sla.command("set")
@workspace_option()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--version", "expected", type=int, help="refuse unless the stored version is still this one")
@json_option
@stage_option
def set_sla(workspace: str, file: Path, expected: int | None, as_json: bool, stage: str | None) -> None:
    """Replace the calendar and the policies with FILE's (JSON, as PUT /service/sla)."""
    from pydantic import ValidationError

    from chalicelib.domain.service.sla_settings import SlaSettingsIn
    from chalicelib.parsers import field_errors

    try:
        settings = SlaSettingsIn.model_validate(json.loads(file.read_text()))
    except json.JSONDecodeError as exc:
        raise CliError(f"{file} is not JSON ({exc.msg})", 2) from exc
    except ValidationError as exc:
        problems = "; ".join(f"{e['field'] or 'settings'}: {e['error']}" for e in field_errors(exc))
        raise CliError(f"invalid SLA settings ({problems})", 2) from exc
    written = workspace_container(workspace).sla_settings.replace(workspace, settings, expected, "cli")
    print_json(written, compact=as_json)


@service.group("report")
def report() -> None:
    """The service desk's reports."""


@report.command("sla")
@workspace_option()
@click.option("--from", "first", required=True, help="first day, YYYY-MM-DD (the calendar's zone)")
@click.option("--to", "last", required=True, help="last day, YYYY-MM-DD, included")
@json_option
@stage_option
def report_sla(workspace: str, first: str, last: str, as_json: bool, stage: str | None) -> None:
    """The share of SLA targets met per policy and target (as GET /service/reports/sla)."""
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.service.sla_ops import local_day

    found = workspace_container(workspace).sla.report(
        workspace, local_day(first, "from"), local_day(last, "to"), now_utc()
    )
    print_json(found, compact=as_json)


COMMANDS = [service]
