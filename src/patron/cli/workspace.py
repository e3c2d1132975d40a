"""`patron workspace ...`: create, list, show, set-rate; the settings commands (`messaging`,
`sending`) are in workspace_settings.py."""

from __future__ import annotations

import json
from typing import Any

import click

from patron.cli.base import (
    LegacyWorkspace,
    container,
    existing_workspace,
    json_option,
    print_json,
    print_table,
    stage_option,
    workspace_option,
)
from patron.cli.keys import keys
from patron.cli.loyalty import loyalty
from patron.cli.loyalty_rules import loyalty_dry_run, loyalty_rules
from patron.cli.tiers import tiers
from patron.cli.workspace_settings import messaging, sending


@click.group("workspace")
def workspace() -> None:
    """Workspaces (one brand each) and their settings."""


@workspace.command("create")
@click.argument("name")
@click.option(
    "--currency",
    metavar="CUR",
    help="the reporting currency (default: the currency of the first order processed)",
)
@json_option
@stage_option
def create(name: str, currency: str | None, as_json: bool, stage: str | None) -> None:
    """Create a workspace; prints its id and API key (shown once, stored hashed)."""
    created = container().tenancy.create_workspace(name, currency)
    if as_json:
        click.echo(json.dumps({"workspace_id": created.workspace_id, "api_key": created.api_key}))
    else:
        click.echo(f"workspace {created.workspace_id} created; API key (shown once): {created.api_key}")


@workspace.command("list")
@json_option
@stage_option
def list_(as_json: bool, stage: str | None) -> None:
    """Every workspace: id, name and currency."""
    found = container()
    rows = []
    for workspace_id in found.workspaces.workspace_ids():
        settings = found.workspaces.settings(workspace_id)
        if settings is not None:
            rows.append(
                {"workspace_id": workspace_id, "name": settings.name, "currency": settings.currency or None}
            )
    if as_json:
        print_json({"workspaces": rows}, compact=True)
        return
    if not rows:
        click.echo('no workspace yet: create one with `patron workspace create "My Brand"`')
        return
    print_table(
        None, ("workspace", "name", "currency"), ([r["workspace_id"], r["name"], r["currency"]] for r in rows)
    )


@workspace.command("set-rate", cls=LegacyWorkspace)
@workspace_option()
@click.argument("currency")
@click.argument("rate")
@stage_option
def set_rate(workspace: str, currency: str, rate: str, stage: str | None) -> None:
    """Set the rate into the workspace currency: 1 CURRENCY = RATE."""
    found = container()
    existing_workspace(found, workspace)
    found.tenancy.set_rate(workspace, currency, rate)
    click.echo(f"1 {currency.upper()} = {rate} (workspace currency) from now on")


@workspace.command("show", cls=LegacyWorkspace)
@workspace_option()
@json_option
@stage_option
def show(workspace: str, as_json: bool, stage: str | None) -> None:
    """Currency, rates, orders in currencies without a rate, sending rules and the sender."""
    from chalicelib.domain.messaging.sending import shown as sending_shown
    from chalicelib.domain.workspace_analytics import currency_warnings

    found = container()
    settings = existing_workspace(found, workspace)
    unconverted = found.analytics.unconverted(workspace)
    shown = {
        "workspace_id": settings.workspace_id,
        "name": settings.name,
        "currency": settings.currency or None,
        "rates": {k: str(v) for k, v in sorted(settings.rates.items())},
        "warnings": currency_warnings(unconverted, settings.workspace_id, settings.currency),
        "sending": sending_shown(settings),
        "sender": sender_state(found, settings.sender_email),
    }
    if as_json:
        click.echo(json.dumps(shown))
        return
    click.echo(f"{shown['name']} ({shown['workspace_id']}), currency {shown['currency'] or 'pending'}")
    for cur, rate in shown["rates"].items():
        click.echo(f"  rate: 1 {cur} = {rate} {settings.currency}")
    for warning in shown["warnings"]:
        click.echo(f"  warning: {warning['message']}; set a rate with: {warning['command']}")
    rules = shown["sending"]
    click.echo(
        f"  sending: quiet hours {rules['quiet_hours']}, caps {rules['daily_caps']}, low: one in "
        f"{rules['low_every_days']} days, default zone {rules['default_timezone']}"
    )
    sender = shown["sender"]
    if sender["email"]:
        click.echo(f"  sender: {sender['email']} ({sender['state']})")
    else:
        click.echo(
            f"  sender: none; set one with: patron workspace messaging -w {workspace} --sender ADDRESS"
        )


def sender_state(found: Any, email: str) -> dict[str, Any]:
    """The workspace's sender address and its SES verification state (`patron sender verify`)."""
    if not email:
        return {"email": None, "state": None}
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = found.client("ses").get_identity_verification_attributes(Identities=[email])
    except (BotoCoreError, ClientError):  # shown, not needed: without the permission, the rest shows
        return {"email": email, "state": "unknown"}
    state = answer.get("VerificationAttributes", {}).get(email, {}).get("VerificationStatus")
    shown = {"Success": "verified", None: "not verified"}.get(state) or str(state).lower()
    return {"email": email, "state": shown}


workspace.add_command(sending)
workspace.add_command(messaging)
workspace.add_command(loyalty)
workspace.add_command(loyalty_rules)
workspace.add_command(loyalty_dry_run)
workspace.add_command(tiers)
workspace.add_command(keys)

COMMANDS = [workspace]
