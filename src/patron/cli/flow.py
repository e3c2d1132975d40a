"""`patron flow ...`: automated flows as data (docs/messaging.md#flows)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from patron.cli.base import (
    CliError,
    json_option,
    print_json,
    read_file,
    stage_option,
    workspace_container,
    workspace_option,
)

COUPON_FIGURES = (
    "codes_issued",
    "codes_registered",
    "codes_unregistered",
    "codes_redeemed",
    "redemption_rate",
    "coupon_revenue",
    "codes_note",
)


@click.group("flow")
def flow() -> None:
    """Automated flows (docs/messaging.md)."""


def flow_files(paths: tuple[str, ...] | list[str]) -> list[Path]:
    """JSON flow files, a directory standing for the `*.json` files in it."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(path.glob("*.json")))
        elif path.exists():
            found.append(path)
        else:
            raise CliError(f"{raw}: no such file or directory")
    return found


@flow.command("apply")
@workspace_option()
@click.argument("files", nargs=-1, required=True, metavar="FILE_OR_DIR...")
@stage_option
def apply(workspace: str, files: tuple[str, ...], stage: str | None) -> None:
    """Create or update flows from JSON files (or directories of them)."""
    paths = flow_files(files)  # every file is checked before anything is applied
    bodies = []
    for path in paths:
        try:
            bodies.append((path, json.loads(read_file(path))))
        except json.JSONDecodeError as exc:
            raise CliError(f"{path}: not JSON: {exc}", 2) from None
    service = workspace_container(workspace).flows
    applied = []
    for path, body in bodies:
        view = service.apply(workspace, body)
        applied.append(
            {
                "file": str(path),
                "flow_id": view["flow_id"],
                "version": view["version"],
                "changed": not view.get("unchanged"),
            }
        )
    print_json({"applied": applied})


@flow.command("list")
@workspace_option()
@json_option
@stage_option
def list_(workspace: str, as_json: bool, stage: str | None) -> None:
    """The workspace's flows: id, name, version, enabled, trigger; for a flow with coupons,
    codes issued, registered in the store and not (`codes_unregistered`, with `codes_note`:
    codes not registered in the store), redeemed, the redemption rate and revenue."""
    flows = workspace_container(workspace).flows.all(workspace)
    keys = ("flow_id", "name", "version", "enabled", "trigger", *COUPON_FIGURES)
    print_json({"flows": [{k: f[k] for k in keys if k in f} for f in flows]}, compact=as_json)


@flow.command("dry-run")
@workspace_option()
@click.argument("flow_id")
@click.option("--customer", required=True, metavar="ID", help="the customer the flow would run for")
@click.option("--at", metavar="TIME", help="trigger time (ISO with offset); default now")
@json_option
@stage_option
def dry_run(
    workspace: str, flow_id: str, customer: str, at: str | None, as_json: bool, stage: str | None
) -> None:
    """What the flow would send a customer, and when."""
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.timemath import parse_iso

    when = parse_iso(at) if at else now_utc()
    if when is None or when.tzinfo is None:
        raise CliError("--at needs a time zone offset, e.g. 2026-11-23T10:00:00Z", 2)
    found = workspace_container(workspace)
    print_json(found.flows.dry_run(workspace, flow_id, customer, when), compact=as_json)


@flow.command("runs")
@workspace_option()
@click.option("--customer", required=True, metavar="ID", help="whose flow runs to show")
@json_option
@stage_option
def runs(workspace: str, customer: str, as_json: bool, stage: str | None) -> None:
    """A customer's flow runs and what each step did."""
    print_json({"runs": workspace_container(workspace).flows.runs(workspace, customer)}, compact=as_json)


COMMANDS = [flow]
