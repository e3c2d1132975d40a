"""`patron privacy ...`: privacy requests (redactions, data exports) and source erasures."""

from __future__ import annotations

import click

from patron.cli.base import (
    CliError,
    LegacyWorkspace,
    json_option,
    print_json,
    stage_option,
    workspace_container,
    workspace_option,
)


@click.group("privacy")
def privacy() -> None:
    """Privacy requests: redactions and data exports."""


@privacy.command("list")
@workspace_option()
@json_option
@stage_option
def list_(workspace: str, as_json: bool, stage: str | None) -> None:
    """Privacy requests and their outcome, with counts per kind of item removed."""
    print_json(
        {"requests": workspace_container(workspace).privacy_store.requests(workspace)}, compact=as_json
    )


@privacy.command("export", cls=LegacyWorkspace)
@workspace_option()
@click.argument("request_id")
@json_option
@stage_option
def export(workspace: str, request_id: str, as_json: bool, stage: str | None) -> None:
    """Print the export made for a customers/data_request or `customers export`."""
    made = workspace_container(workspace).privacy_store.export(workspace, request_id)
    if made is None:
        raise CliError(f"no export for request {request_id} (yet: the stream makes it within seconds)")
    print_json(made, compact=as_json)


@privacy.command("erase-source")
@workspace_option()
@click.argument("source_id")
@click.option("--start", is_flag=True, help="start one if none is under way (any platform)")
@click.option("--status", is_flag=True, help="only show how far it got and what it removed")
@click.option("--pages", type=int, metavar="N", help="stop after this many pages of 100 customers")
@stage_option
def erase_source(
    workspace: str, source_id: str, start: bool, status: bool, pages: int | None, stage: str | None
) -> None:
    """Erase everything that came from a source (shop/redact starts it): resume, --status, --start."""
    from chalicelib.domain.errors import NotFound
    from chalicelib.domain.models import now_utc

    found = workspace_container(workspace)
    erasure = found.source_erasure
    try:
        if status:
            print_json(erasure.status(workspace, source_id))
            return
        request_id = f"operator-{now_utc():%Y%m%dT%H%M%SZ}" if start else None
        shown = erasure.run(workspace, source_id, request_id, pages)
        bucket = found.settings.export_bucket
        if shown["state"] == "source_erased" and bucket:
            # audience exports (every source mixed, hashed) made before: the operator's rights
            from chalicelib.adapters.source_erasure_store import S3ExportPurge

            if erasure.purge_exports(workspace, source_id, S3ExportPurge(found.client("s3"), bucket)):
                shown = erasure.status(workspace, source_id)
        print_json(shown)
    except NotFound:
        raise CliError(f"no erasure of source {source_id} (start one with --start)") from None


COMMANDS = [privacy]
