"""`patron sales create|list|show|update|from-ticket|pipeline|stages|targets|rules`: the CLI
twins of the pipeline API (docs/sales.md), recorded in an opportunity's log as `cli`."""

from __future__ import annotations

import json
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
from patron.cli.tickets import _valid


@click.group("sales")
def sales() -> None:
    """The sales pipeline's opportunities, stages, targets and rules (as /opportunities, /pipeline)."""


@sales.command("create")
@workspace_option()
@click.argument("customer_id")
@click.argument("title")
@click.option("--owner", help="who works it")
@click.option("--in", "stage_name", help="its pipeline stage (default: the first)")
@click.option("--value", default="0", show_default=True, help="its value")
@click.option("--currency", help="the value's currency (default: the workspace's)")
@click.option("--close", "expected_close", help="the expected close date, YYYY-MM-DD")
@click.option("--notes", default="", help="free notes")
@json_option
@stage_option
def create(
    workspace: str,
    customer_id: str,
    title: str,
    owner: str | None,
    stage_name: str | None,
    value: str,
    currency: str | None,
    expected_close: str | None,
    notes: str,
    as_json: bool,
    stage: str | None,
) -> None:
    """Open an opportunity for CUSTOMER_ID (as POST /opportunities)."""
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.sales.views import OpportunityIn

    values = {"customer_id": customer_id, "title": title, "owner": owner, "stage": stage_name, "value": value}
    values |= {"currency": currency, "expected_close": expected_close, "notes": notes}
    body = _valid(OpportunityIn, {k: v for k, v in values.items() if v is not None}, "opportunity")
    print_json(
        workspace_container(workspace).sales.create(workspace, body, "cli", now_utc()), compact=as_json
    )


@sales.command("list")
@workspace_option()
@click.option("--in", "stage_name", help="only those in this pipeline stage")
@click.option("--owner", help="only this owner's")
@click.option("--stale", is_flag=True, help="only the stale ones")
@json_option
@stage_option
def list_opportunities(
    workspace: str, stage_name: str | None, owner: str | None, stale: bool, as_json: bool, stage: str | None
) -> None:
    """The opportunities, newest first (as GET /opportunities)."""
    from chalicelib.domain.models import now_utc

    found = workspace_container(workspace).sales.listing(
        workspace, now_utc(), stage_name, owner, True if stale else None
    )
    print_json(found, compact=as_json)


@sales.command("show")
@workspace_option()
@click.argument("opportunity_id")
@json_option
@stage_option
def show(workspace: str, opportunity_id: str, as_json: bool, stage: str | None) -> None:
    """The opportunity and its events (as GET /opportunities/ID)."""
    from chalicelib.domain.models import now_utc

    print_json(
        workspace_container(workspace).sales.show(workspace, opportunity_id, now_utc()), compact=as_json
    )


@sales.command("update")
@workspace_option()
@click.argument("opportunity_id")
@click.option("--to", "stage_name", help="move it to this pipeline stage")
@click.option("--owner", help="give it to this owner")
@click.option("--value", help="its new value")
@click.option("--currency", help="the value's currency")
@click.option("--close", "expected_close", help="the expected close date, YYYY-MM-DD")
@click.option("--note", help="a note")
@json_option
@stage_option
def update(
    workspace: str,
    opportunity_id: str,
    stage_name: str | None,
    owner: str | None,
    value: str | None,
    currency: str | None,
    expected_close: str | None,
    note: str | None,
    as_json: bool,
    stage: str | None,
) -> None:
    """Change an opportunity, one event per option (as PATCH /opportunities/ID)."""
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.sales.views import OpportunityPatch

    values = {"stage": stage_name, "owner": owner, "value": value, "currency": currency, "note": note}
    values |= {"expected_close": expected_close}
    body = _valid(OpportunityPatch, {k: v for k, v in values.items() if v is not None}, "change")
    done = workspace_container(workspace).sales.update(workspace, opportunity_id, body, "cli", now_utc())
    print_json(done, compact=as_json)


@sales.command("from-ticket")
@workspace_option()
@click.argument("ticket_id")
@click.option("--value", default="0", show_default=True, help="its value")
@click.option("--owner", help="who works it (default: the ticket's assignee)")
@json_option
@stage_option
def from_ticket(
    workspace: str, ticket_id: str, value: str, owner: str | None, as_json: bool, stage: str | None
) -> None:
    """Open the opportunity of a pre-sale ticket (as POST /tickets/ID/opportunity)."""
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.sales.views import FromTicketIn

    body = _valid(FromTicketIn, {"value": value} | ({"owner": owner} if owner else {}), "opportunity")
    made = workspace_container(workspace).sales.from_ticket(workspace, ticket_id, body, "cli", now_utc())
    print_json(made, compact=as_json)


@sales.command("pipeline")
@workspace_option()
@click.option("--period", help="YYYY-MM or YYYY-Qn (default: this month)")
@json_option
@stage_option
def pipeline(workspace: str, period: str | None, as_json: bool, stage: str | None) -> None:
    """Per stage count, value and weighted forecast; per owner won vs target (as GET /pipeline)."""
    from chalicelib.domain.models import now_utc

    print_json(workspace_container(workspace).sales.pipeline(workspace, period, now_utc()), compact=as_json)


def _settings_command(name: str, model: str, what: str) -> click.Command:
    @click.command(name)
    @workspace_option()
    @click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), help="a JSON body to set")
    @json_option
    @stage_option
    def command(workspace: str, path: str | None, as_json: bool, stage: str | None) -> None:
        from importlib import import_module

        service = workspace_container(workspace).sales
        if path is None:
            print_json(getattr(service, what)(workspace), compact=as_json)
            return
        with open(path, encoding="utf-8") as handle:
            try:
                body = json.load(handle)
            except json.JSONDecodeError as exc:
                raise CliError(f"{path} is not JSON: {exc}", 2) from exc
        cls: Any = getattr(import_module("chalicelib.domain.sales.settings"), model)
        print_json(getattr(service, f"put_{what}")(workspace, _valid(cls, body, what)), compact=as_json)

    command.help = f"Show the pipeline's {what}, or set them from --file (as GET/PUT /pipeline/{what})."
    return command


for _name, _model in (("stages", "StagesIn"), ("targets", "TargetsIn"), ("rules", "RulesIn")):
    sales.add_command(_settings_command(_name, _model, _name))

COMMANDS = [sales]
