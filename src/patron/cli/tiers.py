"""`patron workspace tiers` (a workspace's tier rules: shown, set from a JSON file, or a
preview of who would move), `patron customers tier` and `patron customers set-tier` (as
GET and POST /customers/ID/tier). docs/loyalty.md#tiers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from patron.cli.base import (
    CliError,
    container,
    existing_workspace,
    print_json,
    stage_option,
    workspace_container,
    workspace_option,
)

if TYPE_CHECKING:
    from chalicelib.domain.loyalty.tiers import TierRules


def _rules_file(path: str, option: str) -> TierRules:
    from chalicelib.domain.loyalty.tiers import rules_from_json

    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
        if not isinstance(raw, dict):
            raise ValueError("the file holds one JSON object")
        return rules_from_json(raw)
    except (OSError, ValueError, TypeError) as exc:
        raise CliError(f"{option}: {exc}", 2) from exc


@click.command("tiers")
@workspace_option()
@click.option("--set", "set_file", metavar="FILE", help="replace the tier rules with this JSON file's")
@click.option("--preview", "preview_file", metavar="FILE", help="who would move under this file's rules")
@stage_option
def tiers(workspace: str, set_file: str | None, preview_file: str | None, stage: str | None) -> None:
    """The workspace's tier rules: shown, set from a JSON file, or previewed (nothing written)."""
    from chalicelib.domain.loyalty.tiers import rules_json
    from chalicelib.domain.models import now_utc

    if set_file and preview_file:
        raise CliError("--set and --preview go one at a time", 2)
    found = container()
    rules = existing_workspace(found, workspace).tiers
    if preview_file:
        print_json(
            workspace_container(workspace).tiers.preview(
                workspace, _rules_file(preview_file, "--preview"), now_utc()
            )
        )
        return
    if set_file:
        rules = _rules_file(set_file, "--set")
        found.workspaces.set_tiers(workspace, rules)
    print_json(rules_json(rules))


@click.command("tier")
@workspace_option()
@click.argument("customer_id")
@stage_option
def tier(workspace: str, customer_id: str, stage: str | None) -> None:
    """A customer's tier, since, benefits and progress to the next (as GET /customers/ID/tier)."""
    from chalicelib.domain.loyalty.tier_service import view_json
    from chalicelib.domain.models import now_utc

    print_json(view_json(workspace_container(workspace).tiers.view(workspace, customer_id, now_utc())))


@click.command("set-tier")
@workspace_option()
@click.argument("customer_id")
@click.option("--tier", "tier_name", required=True, metavar="NAME", help="the tier (`none`: no tier)")
@click.option("--reason", required=True, metavar="TEXT", help="why, kept in the audit (1 to 200 characters)")
@click.option("--hold-days", type=click.IntRange(1, 366), help="hold the tier against downgrades this long")
@stage_option
def set_tier(
    workspace: str, customer_id: str, tier_name: str, reason: str, hold_days: int | None, stage: str | None
) -> None:
    """Move a customer to a tier by hand, either way (as POST /customers/ID/tier), audited."""
    from pydantic import ValidationError

    from chalicelib.domain.loyalty.tier_service import TierMoveIn, view_json
    from chalicelib.domain.models import now_utc

    try:
        body = TierMoveIn(tier=None if tier_name == "none" else tier_name, reason=reason, hold_days=hold_days)
    except ValidationError as exc:
        raise CliError("--tier is at most 32 characters; --reason 1 to 200 characters", 2) from exc
    service = workspace_container(workspace).tiers
    print_json(view_json(service.move(workspace, customer_id, body, "cli", now_utc())))
