"""`patron segment ...`: segments in the segment language (docs/segments.md)."""

from __future__ import annotations

import click

from patron.cli.base import json_option, print_json, stage_option, workspace_container, workspace_option


@click.group("segment")
def segment() -> None:
    """Segments in the segment language (docs/segments.md)."""


@segment.command("create")
@workspace_option()
@click.argument("name")
@click.argument("definition")
@stage_option
def create(workspace: str, name: str, definition: str, stage: str | None) -> None:
    """Create a segment NAME from DEFINITION, e.g. "orders_count >= 3 AND last_order_days <= 90"."""
    print_json(workspace_container(workspace).segments.create(workspace, name, definition))


@segment.command("list")
@workspace_option()
@json_option
@stage_option
def list_(workspace: str, as_json: bool, stage: str | None) -> None:
    """The workspace's segments."""
    segments = workspace_container(workspace).segments.list(workspace)
    print_json({"segments": [s.model_dump() for s in segments]}, compact=as_json)


@segment.command("show")
@workspace_option()
@click.argument("segment_id")
@json_option
@stage_option
def show(workspace: str, segment_id: str, as_json: bool, stage: str | None) -> None:
    """Size, sample and backfill state of a segment."""
    from chalicelib.domain.membership import segment_detail

    found = workspace_container(workspace)
    print_json(segment_detail(found.membership, workspace, segment_id), compact=as_json)


@segment.command("members")
@workspace_option()
@click.argument("segment_id")
@click.option(
    "--limit", type=click.IntRange(min=1), default=100, show_default=True, help="customers per page"
)
@click.option("--cursor", metavar="C", help="the cursor the previous page returned")
@click.option(
    "--csv",
    "as_csv",
    is_flag=True,
    help="every member from the cursor on, as CSV (the API's members.csv)",
)
@json_option
@stage_option
def members(
    workspace: str,
    segment_id: str,
    limit: int,
    cursor: str | None,
    as_csv: bool,
    as_json: bool,
    stage: str | None,
) -> None:
    """A page of member customer ids (built-ins too: lifecycle:at_risk)."""
    from chalicelib.domain.membership import segment_members

    found = workspace_container(workspace)
    if as_csv:
        from chalicelib.domain.segment_csv import MOST, members_csv

        while True:
            text, cursor = members_csv(found.membership, workspace, segment_id, MOST, cursor)
            click.echo(text, nl=False)
            if cursor is None:
                return
    print_json(segment_members(found.membership, workspace, segment_id, limit, cursor), compact=as_json)


@segment.command("export")
@workspace_option()
@click.argument("segment_id")
@click.option(
    "--format",
    "fmt",
    default="customer-match",
    type=click.Choice(["customer-match"]),
    help="the file's format",
)
@stage_option
def export(workspace: str, segment_id: str, fmt: str, stage: str | None) -> None:
    """Hashed emails/phones of consenting members, to S3."""
    print_json(workspace_container(workspace).audience.export(workspace, segment_id, fmt))


COMMANDS = [segment]
