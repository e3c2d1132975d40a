"""`patron import products`: a connected source's catalogue, pulled through its Admin API, or
a catalogue export file (docs/import.md#products)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from patron.cli.base import (
    CliError,
    container,
    existing_workspace,
    print_json,
    stage_option,
    workspace_option,
)


@click.group("import")
def imports() -> None:
    """Bring a store's existing data into Patron: its catalogue through its Admin API or from
    an export file, its orders from an export file."""


def _product_formats() -> list[str]:
    from chalicelib.parsers.product_files import PRODUCT_FORMATS

    return list(PRODUCT_FORMATS)


@imports.command("products")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@workspace_option()
@click.option("--source", "source_id", required=True, metavar="SRC", help="its source (to pull: connected)")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_product_formats()),
    default=None,
    help="FILE's format (docs/import.md#products); without FILE the Admin API is read",
)
@stage_option
def products(workspace: str, file: Path | None, source_id: str, fmt: str | None, stage: str | None) -> None:
    """Pull the source's whole catalogue into Patron's (titles, URLs, images, prices, variants),
    through its Admin API, or read it from FILE, an export in --format.

    Idempotent: a product the store changed since (a later webhook) is kept, the same product
    again changes nothing. Prints a summary: read, stored, unchanged, kept newer, rejected.
    """
    from chalicelib.domain.store_admin import AdminApiError
    from patron.operations import source_by_id

    if (file is None) != (fmt is None):
        raise CliError("a products file needs --format, and --format a FILE")
    found = container()
    existing_workspace(found, workspace)
    chosen = source_by_id(found, workspace, source_id)
    try:
        if file is not None and fmt is not None:
            summary = _from_file(found, chosen, file, fmt)
        else:
            from chalicelib.adapters.storefront_admin.catalogue import product_records
            from chalicelib.adapters.storefront_admin.clients import admin_client

            client = admin_client(chosen, found.secrets)
            summary = found.catalogue_import.run(chosen, _counted(product_records(client)))
    except AdminApiError as exc:
        raise CliError(exc.message) from exc
    print_json(summary.model_dump())


def _from_file(found: Any, chosen: Any, file: Path, fmt: str) -> Any:
    from chalicelib.parsers.product_files import PLATFORM_OF, product_file

    if not file.is_file():
        raise CliError(f"{file}: no such file")
    wanted = PLATFORM_OF[fmt]
    if wanted != chosen.platform:
        raise CliError(f"{fmt} is a {wanted} export: source {chosen.source_id} is {chosen.platform}")
    records, parse = product_file(fmt, file.read_bytes())
    return found.catalogue_import.run(chosen, _counted(records), parse)


def _counted(records: Iterable[Any]) -> Iterator[Any]:
    """The records, counted on stderr while they are read (a live count, gone at the end)."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

    columns = (SpinnerColumn(), TextColumn("products read: {task.completed}"))
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("products", total=None)
        for record in records:
            yield record
            bar.advance(task)


COMMANDS = [imports]
