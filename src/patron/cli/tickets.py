"""`patron tickets create|list|show|reply|note|status|return|deliver|facts-rebuild`: the CLI
twins of the tickets API (docs/service.md), recorded in a ticket's log as `cli`."""

from __future__ import annotations

from typing import Any

import click

from patron.cli.base import (
    CliError,
    json_option,
    page_options,
    print_json,
    stage_option,
    workspace_container,
    workspace_option,
)

KINDS = click.Choice(["pre_sale", "order_issue", "complaint", "suggestion", "return_request"])
STATUSES = click.Choice(["open", "pending", "on_hold", "solved", "closed"])
PRIORITIES = click.Choice(["low", "normal", "high", "urgent"])
RETURN_STATUSES = click.Choice(["open", "declined", "cancelled", "closed"])


def _valid(model: Any, body: dict[str, Any], what: str) -> Any:
    from pydantic import ValidationError

    from chalicelib.parsers import field_errors

    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(f"{e['field'] or what}: {e['error']}" for e in field_errors(exc))
        raise CliError(f"invalid {what} ({problems})", 2) from exc


def _change(workspace: str, ticket_id: str, body: dict[str, Any], as_json: bool) -> None:
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.service.views import TicketEventIn

    change = _valid(TicketEventIn, body, "change")
    done = workspace_container(workspace).desk.record(workspace, ticket_id, change, "cli", now_utc())
    print_json(done, compact=as_json)


@click.group("tickets")
def tickets() -> None:
    """The service desk's tickets (as /tickets in the API)."""


@tickets.command("create")
@workspace_option()
@click.argument("customer")
@click.argument("subject")
@click.option("--kind", type=KINDS, required=True, help="the ticket's kind")
@click.option("--name", help="a guest's name (when CUSTOMER is an email or phone no profile holds)")
@click.option("--body", default="", help="the customer's message")
@click.option("--priority", type=PRIORITIES, default="normal", show_default=True, help="the priority")
@click.option("--assignee", help="the agent who takes it")
@click.option("--tag", "tags", multiple=True, help="a tag (repeatable)")
@click.option("--order", "order_id", help="the order it is about")
@click.option(
    "--line", "line_ids", multiple=True, help="an order line it is about (repeatable; needs --order)"
)
@json_option
@stage_option
def create(
    workspace: str,
    customer: str,
    subject: str,
    kind: str,
    name: str | None,
    body: str,
    priority: str,
    assignee: str | None,
    tags: tuple[str, ...],
    order_id: str | None,
    line_ids: tuple[str, ...],
    as_json: bool,
    stage: str | None,
) -> None:
    """Open a ticket for CUSTOMER (as POST /tickets, channel `cli`): a customer id, an email
    (with `@`) or a phone (`+` and digits); an email or phone no profile holds makes one."""
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.service.views import TicketIn

    who = "email" if "@" in customer else "phone" if customer.startswith("+") else "customer_id"
    values: dict[str, Any] = {
        who: customer,
        "name": name,
        "subject": subject,
        "kind": kind,
        "body": body,
        "priority": priority,
    }
    values |= {"channel": "cli", "assignee": assignee, "tags": list(tags), "order_id": order_id}
    made = workspace_container(workspace).desk.create(
        workspace, _valid(TicketIn, values | {"line_ids": list(line_ids)}, "ticket"), "cli", now_utc()
    )
    print_json(made, compact=as_json)


@tickets.command("list")
@workspace_option()
@click.option("--status", type=STATUSES, default="open", show_default=True, help="the queue's status")
@click.option("--assignee", help="only this agent's tickets")
@click.option("--kind", type=KINDS, help="only this kind of ticket")
@click.option("--customer", "customer_id", help="this customer's tickets instead (newest first)")
@page_options
@json_option
@stage_option
def list_tickets(
    workspace: str,
    status: str,
    assignee: str | None,
    kind: str | None,
    customer_id: str | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
    stage: str | None,
) -> None:
    """The queue of one status, oldest first (as GET /tickets), or a customer's tickets."""
    from chalicelib.domain.service.model import TicketKind, TicketStatus

    desk = workspace_container(workspace).tickets
    if customer_id:
        page = desk.of_customer(workspace, customer_id, limit, cursor)
    else:
        page = desk.queue(workspace, TicketStatus(status), limit, cursor, assignee, kind and TicketKind(kind))
    print_json(page, compact=as_json)


@tickets.command("show")
@workspace_option()
@click.argument("ticket_id")
@json_option
@stage_option
def show(workspace: str, ticket_id: str, as_json: bool, stage: str | None) -> None:
    """The ticket, its events and its SLA as of now (as GET /tickets/ID)."""
    from chalicelib.domain.models import now_utc

    print_json(workspace_container(workspace).sla.show(workspace, ticket_id, now_utc()), compact=as_json)


@tickets.command("reply")
@workspace_option()
@click.argument("ticket_id")
@click.argument("text")
@json_option
@stage_option
def reply(workspace: str, ticket_id: str, text: str, as_json: bool, stage: str | None) -> None:
    """A public reply to the customer (queued for sending)."""
    _change(workspace, ticket_id, {"type": "reply", "body": text}, as_json)


@tickets.command("note")
@workspace_option()
@click.argument("ticket_id")
@click.argument("text")
@json_option
@stage_option
def note(workspace: str, ticket_id: str, text: str, as_json: bool, stage: str | None) -> None:
    """An internal note (never sent to the customer)."""
    _change(workspace, ticket_id, {"type": "note", "body": text}, as_json)


@tickets.command("status")
@workspace_option()
@click.argument("ticket_id")
@click.argument("status", type=STATUSES)
@json_option
@stage_option
def status(workspace: str, ticket_id: str, status: str, as_json: bool, stage: str | None) -> None:
    """Move the ticket to STATUS (closed is final; solved may reopen)."""
    _change(workspace, ticket_id, {"type": "status", "to": status}, as_json)


@tickets.command("deliver")
@workspace_option()
@click.argument("ticket_id")
@click.argument("reply_seq", type=click.IntRange(min=2))
@json_option
@stage_option
def deliver(workspace: str, ticket_id: str, reply_seq: int, as_json: bool, stage: str | None) -> None:
    """Send the public reply at event REPLY_SEQ again (after a `failed` delivery): once, a
    reply sent already is not sent twice; its outcome is appended as `reply_delivery`."""
    from chalicelib.domain.models import now_utc

    done = workspace_container(workspace).desk.deliver(workspace, ticket_id, reply_seq, now_utc())
    print_json(done, compact=as_json)


@tickets.command("return")
@workspace_option()
@click.argument("ticket_id")
@click.argument("status", type=RETURN_STATUSES)
@json_option
@stage_option
def return_status(workspace: str, ticket_id: str, status: str, as_json: bool, stage: str | None) -> None:
    """Move the return of a return_request ticket with no storefront return behind it
    (WooCommerce, Patron) to STATUS (docs/service.md#returns-and-exchanges)."""
    from chalicelib.domain.models import now_utc

    container = workspace_container(workspace)
    container.returns.by_hand(workspace, ticket_id, status, "cli", now_utc())
    print_json(container.sla.show(workspace, ticket_id, now_utc()), compact=as_json)


@tickets.command("facts-rebuild")
@workspace_option()
@click.option("--cursor", help="resume a cut-short run from its next_cursor")
@click.option("--pages", type=click.IntRange(min=1), help="stop after N queue pages of 100 tickets")
@json_option
@stage_option
def facts_rebuild(
    workspace: str, cursor: str | None, pages: int | None, as_json: bool, stage: str | None
) -> None:
    """Write the ticket facts (segments, flows, the open-complaint hold) of every ticket of the
    workspace from its head: for tickets last written before the facts existed. Walks the
    status queues (no scan); running it again writes nothing."""
    from chalicelib.domain.models import now_utc

    found = workspace_container(workspace)
    done = found.ticket_facts_rebuild.run(workspace, now_utc(), cursor, pages)
    print_json(done.as_dict(), compact=as_json)


COMMANDS = [tickets]
