"""`patron quarantine ...`: signed deliveries that could not be parsed, and their replay."""

from __future__ import annotations

from typing import Any

import click

from patron.cli.base import (
    CliError,
    container,
    existing_workspace,
    json_option,
    print_json,
    read_file,
    stage_option,
    workspace_option,
)


@click.group("quarantine")
def quarantine() -> None:
    """Signed deliveries that could not be parsed (docs/webhooks.md#quarantine)."""


@quarantine.command("list")
@workspace_option(required=False)
@click.option("--source", metavar="ID", help="only this source id")
@click.option("--reason", metavar="TEXT", help="only entries whose field errors contain this text")
@click.option(
    "--since", metavar="WHEN", help="kept at or after this ISO date or time (UTC unless it has an offset)"
)
@click.option("--until", metavar="WHEN", help="kept before this ISO date or time")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="entries per page")
@click.option("--cursor", metavar="C", help="the next_cursor a previous page printed")
@json_option
@stage_option
def list_(
    workspace: str | None,
    source: str | None,
    reason: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
    stage: str | None,
) -> None:
    """Newest first, a page at a time, with the total that matches (every workspace without -w)."""
    from datetime import UTC

    from chalicelib.adapters.quarantine import QuarantineFilter
    from chalicelib.domain.workspace_analytics import parse_date
    from patron.failures import quarantine_page

    start, end = parse_date("--since", since), parse_date("--until", until)
    where = QuarantineFilter(
        source_id=source,
        reason=reason,
        since=start.astimezone(UTC) if start else None,
        until=end.astimezone(UTC) if end else None,
    )
    found = container()
    if workspace:
        existing_workspace(found, workspace)
    workspaces = [workspace] if workspace else _all_workspaces(found)
    try:
        shown = quarantine_page(found, workspaces, where, limit, cursor)
    except ValueError as exc:
        raise CliError(f"--cursor: {exc}", 2) from None
    print_json(shown, compact=as_json)


def _all_workspaces(found: Any) -> list[str]:
    return list(found.workspaces.workspace_ids())


@quarantine.command("replay")
@click.argument("quarantine_id")
@workspace_option(required=False)
@click.option("--body", metavar="FILE", help="a corrected body to ingest instead of the kept one")
@stage_option
def replay(quarantine_id: str, workspace: str | None, body: str | None, stage: str | None) -> None:
    """Ingest a quarantined delivery again, optionally with a corrected body."""
    from patron.operations import replay_quarantined

    fixed = read_file(body) if body else None  # a missing file is said before anything runs
    found = container()
    if workspace:
        existing_workspace(found, workspace)
    else:
        workspace = _workspace_of_quarantine(found, quarantine_id)
    print_json(replay_quarantined(found, workspace, quarantine_id, fixed))


def _workspace_of_quarantine(found: Any, qid: str) -> str:
    for ws in _all_workspaces(found):
        if found.quarantine.get(ws, qid) is not None:
            return ws
    raise CliError(f"quarantine entry {qid} not found (patron quarantine list)")


COMMANDS = [quarantine]
