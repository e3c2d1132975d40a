"""`patron import products`: a connected source's catalogue, pulled through its Admin API."""

from __future__ import annotations

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
    """Bring a store's existing data into Patron: its catalogue through its Admin API, its
    orders from an export file."""


@imports.command("products")
@workspace_option()
@click.option("--source", "source_id", required=True, metavar="SRC", help="a connected source's id")
@stage_option
def products(workspace: str, source_id: str, stage: str | None) -> None:
    """Pull the source's whole catalogue into Patron's (titles, URLs, images, prices, variants).

    Idempotent: a product the store changed since (a later webhook) is kept, the same product
    again changes nothing. Prints a summary: read, stored, unchanged, kept newer, rejected.
    """
    from chalicelib.adapters.storefront_admin.catalogue import product_records
    from chalicelib.adapters.storefront_admin.clients import admin_client
    from chalicelib.domain.store_admin import AdminApiError
    from patron.operations import source_by_id

    found = container()
    existing_workspace(found, workspace)
    chosen = source_by_id(found, workspace, source_id)
    try:
        client = admin_client(chosen, found.secrets)
        summary = found.catalogue_import.run(chosen, product_records(client))
    except AdminApiError as exc:
        raise CliError(exc.message) from exc
    print_json(summary.model_dump())


COMMANDS = [imports]
