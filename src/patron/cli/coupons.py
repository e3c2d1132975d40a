"""`patron coupons list`: the coupons flows issued, with their status (docs/messaging.md#flows)."""

from __future__ import annotations

import click

from patron.cli.base import (
    json_option,
    print_json,
    print_table,
    stage_option,
    workspace_container,
    workspace_option,
)

COLUMNS = ("code", "status", "customer_id", "flow", "step", "registered", "issued_at", "expires_at")
REDEEMED = ("redeemed_at", "order_key", "revenue")


@click.group("coupons")
def coupons() -> None:
    """Coupons issued by flows: issued, redeemed, expired."""


@coupons.command("list")
@workspace_option()
@click.option("--status", type=click.Choice(["issued", "redeemed", "expired"]), help="only these")
@click.option("--flow", "flow_id", metavar="FLOW", help="only the coupons of this flow")
@click.option(
    "--campaign", metavar="CAMPAIGN", help="only the coupons of this campaign (none issue codes yet)"
)
@click.option(
    "--limit", default=100, show_default=True, type=click.IntRange(1, 1000), help="coupons per page"
)
@click.option("--cursor", metavar="CODE", help="the page after this cursor (the last page's `cursor`)")
@json_option
@stage_option
def list_(
    workspace: str,
    status: str | None,
    flow_id: str | None,
    campaign: str | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
    stage: str | None,
) -> None:
    """One page of the workspace's coupons (as GET /coupons): code, status, customer, flow and
    step, registered in the store or not, issued and expiry times; once redeemed, when, the
    order and its net revenue."""
    from chalicelib.domain.models import now_utc

    found = workspace_container(workspace).coupon_queries.list(
        workspace, now_utc(), status=status, flow=flow_id, campaign=campaign, limit=limit, cursor=cursor
    )
    if as_json:
        print_json(found, compact=True)
        return
    columns = (*COLUMNS, *REDEEMED)
    print_table(None, columns, ([c[k] for k in columns] for c in found["coupons"]))
    if found["cursor"]:
        click.echo(f"more: --cursor {found['cursor']}")


COMMANDS = [coupons]
