"""Messaging results and the senders: `patron stats` (per campaign and flow), `patron outbox`
(what the local stack sent), `patron sender verify` (the embedded SES). A workspace's messaging
settings are `patron workspace messaging` and `patron workspace sending`."""

from __future__ import annotations

import json
from typing import Any

import click

from patron.cli.base import (
    CliError,
    container,
    json_option,
    print_json,
    print_table,
    stage_option,
    workspace_container,
    workspace_option,
)
from patron.cli.campaign import campaign_id


def _scope(scope: str | None, campaign: str | None, flow: str | None) -> str | None:
    if sum(x is not None for x in (scope, campaign, flow)) > 1:
        raise CliError("give one of --campaign, --flow or --scope", 2)
    if campaign:
        return f"camp#{campaign_id(campaign)}"
    if flow:
        return f"flow#{flow.removeprefix('flow#')}"
    if scope and scope.startswith("cmp"):
        return f"camp#{scope}"  # a campaign id as `campaign list` shows it
    return scope


def _stats_options(f: Any) -> Any:
    for decorate in reversed(
        (
            workspace_option(),
            click.option(
                "--campaign", metavar="CAMPAIGN_ID", help="one campaign (its id in `campaign list`)"
            ),
            click.option("--flow", metavar="FLOW_ID", help="one flow (its id in `flow list`)"),
            click.option(
                "--scope", metavar="SCOPE", help="one scope: camp#<id>, flow#<id>, camp#<id>#v#<variant>"
            ),
            json_option,
            stage_option,
        )
    ):
        f = decorate(f)
    return f


def _stats(workspace: str, scope: str | None, campaign: str | None, flow: str | None, as_json: bool) -> None:
    report = workspace_container(workspace).messaging_stats.report(workspace, _scope(scope, campaign, flow))
    if as_json:
        print_json(report, compact=True)
        return

    if not report.scopes:
        click.echo("no statistics yet: they start with the first campaign or flow message sent")
        return

    def pct(rate: float | None) -> str:
        return "-" if rate is None else f"{100 * rate:.1f}"

    rows = [
        (
            row.scope,
            row.sent,
            row.delivered,
            pct(row.open_rate),
            pct(row.click_rate),
            pct(row.bounce_rate),
            pct(row.unsubscribe_rate),
            row.orders,
            f"{row.revenue} {report.currency}",
        )
        for row in report.scopes
    ]
    header = ("scope", "sent", "deliv", "open%", "click%", "bnc%", "unsub%", "orders", "revenue")
    print_table(None, header, rows)
    coupons = [
        (
            row.scope,
            row.codes_issued,
            row.codes_registered,
            row.codes_redeemed,
            pct(row.redemption_rate),
            f"{row.coupon_revenue} {report.currency}",
            row.codes_note or "",
        )
        for row in report.scopes
        if row.codes_issued or row.codes_redeemed
    ]
    if coupons:
        columns = ("scope", "codes", "in store", "redeemed", "redeem%", "coupon revenue", "note")
        print_table("coupons", columns, coupons)


@click.command("stats")
@_stats_options
def stats(
    workspace: str,
    campaign: str | None,
    flow: str | None,
    scope: str | None,
    as_json: bool,
    stage: str | None,
) -> None:
    """Each campaign's and flow's counters, rates, attributed orders and revenue."""
    _stats(workspace, scope, campaign, flow, as_json)


@click.group("messaging", hidden=True)
def messaging() -> None:
    """Deprecated: `patron messaging stats` is `patron stats`."""


@messaging.command("stats", hidden=True)
@_stats_options
def messaging_stats(
    workspace: str,
    campaign: str | None,
    flow: str | None,
    scope: str | None,
    as_json: bool,
    stage: str | None,
) -> None:
    """Deprecated name of `patron stats`."""
    click.echo("note: `patron messaging stats` is now `patron stats`", err=True)
    _stats(workspace, scope, campaign, flow, as_json)


@click.command("outbox")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="messages shown")
@json_option
def outbox(limit: int, as_json: bool) -> None:
    """The email and SMS the local stack sent (its embedded SES and SNS), newest first."""
    from patron.local import attach
    from patron.outbox import fetch, render

    messages = fetch(attach()["aws_url"], limit)
    if as_json:
        click.echo(json.dumps([m.as_dict() for m in messages]))
    else:
        click.echo(render(messages))


@click.group("sender")
def sender() -> None:
    """Sender addresses in SES."""


@sender.command("verify")
@click.argument("email")
@stage_option
def verify(email: str, stage: str | None) -> None:
    """Ask SES to verify EMAIL as a sender (the local stack's embedded SES verifies it at once;
    in a region, SES mails a link to the address)."""
    ses = container().client("ses")
    ses.verify_email_identity(EmailAddress=email)
    answer = ses.get_identity_verification_attributes(Identities=[email])
    state = answer.get("VerificationAttributes", {}).get(email, {}).get("VerificationStatus", "Pending")
    if state == "Success":
        click.echo(f"{email} is verified: campaigns and notifications can send from it")
    else:
        click.echo(f"{email}: verification {state.lower()}; SES mailed a link to the address")


COMMANDS = [stats, messaging, outbox, sender]
