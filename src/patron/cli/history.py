"""`patron import orders`: a store's history from an export file (docs/import.md), a command
of the `import` group that `patron import products` defines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from patron.cli.base import (
    CliError,
    json_option,
    print_json,
    stage_option,
    workspace_container,
    workspace_option,
)
from patron.cli.import_products import imports


def _formats() -> list[str]:
    from chalicelib.parsers.history import FORMATS

    return list(FORMATS)


@imports.command("orders")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@workspace_option()
@click.option("--source", required=True, metavar="ID", help="the source the history belongs to (src_...)")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_formats()),
    default="generic-jsonl",
    show_default=True,
    help="the export file's format (docs/import.md)",
)
@click.option(
    "--resume-from",
    type=click.IntRange(min=0),
    default=0,
    metavar="ROW",
    help="skip the rows up to this one: the cursor an interrupted import printed",
)
@json_option
@stage_option
def orders(
    file: Path, workspace: str, source: str, fmt: str, resume_from: int, as_json: bool, stage: str | None
) -> None:
    """Import an export file's orders, customers and refunds through the webhook path's keys:
    a re-run changes nothing; no notification, flow or attribution follows."""
    from chalicelib.domain.history_import import HistoryImport, ImportSummary
    from chalicelib.domain.models import now_utc
    from chalicelib.parsers.history import reader_for

    if not file.is_file():
        raise CliError(f"{file}: no such file")
    found = workspace_container(workspace)
    known = found.workspaces.source(workspace, source)
    if known is None:
        raise CliError(f"source {source} not found in {workspace} (patron source list -w {workspace})")
    data = file.read_bytes()
    lines = data.splitlines()
    reader = reader_for(fmt, data)
    last: dict[str, int] = {"cursor": resume_from}

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"))
    with Progress(*columns, TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("import", total=len(lines), completed=resume_from, rate="")

        def progress(summary: ImportSummary) -> None:
            last["cursor"] = summary.cursor
            speed = bar.tasks[0].speed
            bar.update(task, completed=summary.cursor, rate=f"{speed:.0f} rows/s" if speed else "")

        try:
            summary = HistoryImport(found.ingest_store).run(
                known, reader, now_utc(), resume_from=resume_from, progress=progress
            )
        except KeyboardInterrupt:
            raise CliError(f"interrupted: go on with --resume-from {last['cursor']}", 130) from None
    _show(summary.as_dict(), as_json)


def _show(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(result, compact=True)
        return
    first, last = result["date_range"]
    click.echo(
        f"{result['rows']} rows: {result['orders']} orders, {result['customers']} customers, "
        f"{result['refunds']} refunds; {result['stored']} written, {result['unchanged']} already there"
    )
    click.echo(f"currencies: {', '.join(result['currencies']) or '-'}; orders from {first} to {last}")
    click.echo(f"{len(result['rejected'])} rows rejected")
    for rejected in result["rejected"]:
        click.echo(f"  row {rejected['row']}: {rejected['reason']}")
    click.echo(f"cursor: {result['cursor']}")


COMMANDS: list[click.Command] = []  # `orders` is registered with the `import` group
