"""`patron import orders|customers|pull`: a store's history from an export file or through its
Admin API (docs/import.md), commands of the `import` group that `patron import products` defines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
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


def _formats(what: str = "orders") -> list[str]:
    from chalicelib.parsers.history import CUSTOMER_FORMATS, FORMATS

    return list(CUSTOMER_FORMATS if what == "customers" else FORMATS)


def _file_options(what: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The options `patron import orders` and `patron import customers` share."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        options = (
            click.argument("file", type=click.Path(dir_okay=False, path_type=Path)),
            workspace_option(),
            click.option(
                "--source", required=True, metavar="ID", help=f"the source the {what} belong to (src_...)"
            ),
            click.option(
                "--format",
                "fmt",
                type=click.Choice(_formats(what)),
                default="generic-jsonl",
                show_default=True,
                help="the export file's format (docs/import.md)",
            ),
            click.option(
                "--resume-from",
                type=click.IntRange(min=0),
                default=0,
                metavar="ROW",
                help="skip the rows up to this one: the cursor an interrupted import printed",
            ),
            json_option,
            stage_option,
        )
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


@imports.command("orders")
@_file_options("orders")
def orders(
    file: Path, workspace: str, source: str, fmt: str, resume_from: int, as_json: bool, stage: str | None
) -> None:
    """Import an export file's orders, customers and refunds through the webhook path's keys:
    a re-run changes nothing; no notification, flow or attribution follows."""
    _import_file(file, workspace, source, fmt, resume_from, as_json)


@imports.command("customers")
@_file_options("customers")
def customers(
    file: Path, workspace: str, source: str, fmt: str, resume_from: int, as_json: bool, stage: str | None
) -> None:
    """Import an export file's customers (their consent, addresses) into profiles, as the
    customer webhooks would: a re-run changes nothing; no flow starts."""
    _import_file(file, workspace, source, fmt, resume_from, as_json)


@imports.command("pull")
@workspace_option()
@click.option("--source", required=True, metavar="ID", help="a connected source's id (patron source connect)")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="only what was created on or after this day (UTC); default: everything",
)
@click.option(
    "--resume-from",
    default=None,
    metavar="PART:ROW",
    help="go on after this record of this part (customers or orders): what an interrupted pull printed",
)
@json_option
@stage_option
def pull(
    workspace: str,
    source: str,
    since: datetime | None,
    resume_from: str | None,
    as_json: bool,
    stage: str | None,
) -> None:
    """Import the store's customers and orders through its Admin API (a connected source),
    with the same keys, quiet and once, as `patron import orders`. Interrupted (Ctrl-C, or the
    store's API failing for good), it prints the `--resume-from PART:ROW` to go on with."""
    from chalicelib.adapters.storefront_admin.clients import admin_client
    from chalicelib.adapters.storefront_admin.history_pull import WHAT, history_reader
    from chalicelib.domain.store_admin import AdminApiError
    from chalicelib.parsers.history import reader_for
    from chalicelib.parsers.woocommerce_rest import records_of

    found, known = _known_source(workspace, source)
    after = since.replace(tzinfo=UTC) if since is not None else None
    first, start = _resume_point(resume_from, WHAT)
    results: dict[str, Any] = {}
    try:
        client = admin_client(known, found.secrets)
    except AdminApiError as exc:
        raise CliError(exc.message) from exc
    for what in WHAT[WHAT.index(first) :]:
        row = start if what == first else 0
        try:
            reader = history_reader(client, what, after, reader_for, woo_records=records_of)
        except AdminApiError as exc:
            raise CliError(f"{exc.message}: go on with --resume-from {what}:{row}") from exc
        results[what] = _run(found, known, reader, None, row, what, resume_as=f"{what}:")
    if as_json:
        print_json(results, compact=True)
        return
    for what, result in results.items():
        click.echo(f"{what}:")
        _show(result, False)


def _known_source(workspace: str, source: str) -> tuple[Any, Any]:
    """The workspace's container and its source, or a one-line error."""
    found = workspace_container(workspace)
    known = found.workspaces.source(workspace, source)
    if known is None:
        raise CliError(f"source {source} not found in {workspace} (patron source list -w {workspace})")
    return found, known


def _resume_point(value: str | None, parts: tuple[str, ...]) -> tuple[str, int]:
    """`--resume-from PART:ROW` of a pull: the part to go on with and the last row done."""
    if value is None:
        return parts[0], 0
    part, _, row = value.partition(":")
    if part not in parts or not row.isdigit():
        raise CliError(f"--resume-from: PART:ROW, PART one of {', '.join(parts)} (e.g. orders:1000)")
    return part, int(row)


def _import_file(file: Path, workspace: str, source: str, fmt: str, resume_from: int, as_json: bool) -> None:
    from chalicelib.parsers.history import reader_for

    if not file.is_file():
        raise CliError(f"{file}: no such file")
    found, known = _known_source(workspace, source)
    data = file.read_bytes()
    # a JSON pages file's lines are not its records: its bar counts records without a total
    total = None if fmt.endswith("-json") else len(data.splitlines())
    _show(_run(found, known, reader_for(fmt, data), total, resume_from, "import"), as_json)


def _run(
    found: Any,
    known: Any,
    reader: Any,
    total: int | None,
    resume_from: int,
    label: str,
    resume_as: str = "",
) -> dict[str, Any]:
    """One import with a progress bar (rows, rate, time left) on stderr; its summary. An
    interruption, or the store's Admin API failing for good, names the `--resume-from` to go
    on with (`resume_as` + the last row done)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from chalicelib.domain.history_import import ImportSummary
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.store_admin import AdminApiError

    last: dict[str, int] = {"cursor": resume_from}
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"))
    with Progress(*columns, TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total, completed=resume_from, rate="")

        def progress(summary: ImportSummary) -> None:
            last["cursor"] = summary.cursor
            speed = bar.tasks[0].speed
            bar.update(task, completed=summary.cursor, rate=f"{speed:.0f} rows/s" if speed else "")

        try:
            summary = found.history_import.run(
                known, reader, now_utc(), resume_from=resume_from, progress=progress
            )
        except KeyboardInterrupt:
            raise CliError(
                f"interrupted: go on with --resume-from {resume_as}{last['cursor']}", 130
            ) from None
        except AdminApiError as exc:
            raise CliError(f"{exc.message}: go on with --resume-from {resume_as}{last['cursor']}") from exc
    result: dict[str, Any] = summary.as_dict()
    return result


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
    if result.get("recomputed"):
        done = result["recomputed"]
        click.echo(f"recomputed: {done['customers']} customers' segments, then the workspace's scores")


COMMANDS: list[click.Command] = []  # `orders` is registered with the `import` group
