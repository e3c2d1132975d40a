"""`patron customers tag|untag|note|consent|audit`: the CLI twins of `PATCH /customers/{id}`
and `GET /customers/{id}/audit`, recorded in the audit as `cli`."""

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

STATES = click.Choice(["subscribed", "unsubscribed", "not_subscribed"])


def _edit(workspace: str, customer_id: str, body: dict[str, Any]) -> None:
    from pydantic import ValidationError

    from chalicelib.domain.customer_edits import CustomerEditIn
    from chalicelib.domain.enrolment import Actor
    from chalicelib.domain.models import now_utc
    from chalicelib.parsers import field_errors

    try:
        edit = CustomerEditIn.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(f"{e['field'] or 'edit'}: {e['error']}" for e in field_errors(exc))
        raise CliError(f"invalid edit ({problems})", 2) from exc
    done = workspace_container(workspace).customer_edits.edit(
        workspace, customer_id, edit, Actor("cli", "cli"), now_utc()
    )
    print_json(done)


@click.command("tag")
@workspace_option()
@click.argument("customer_id")
@click.argument("tags", nargs=-1, required=True)
@stage_option
def tag(workspace: str, customer_id: str, tags: tuple[str, ...], stage: str | None) -> None:
    """Add Patron's TAGS to the customer (as PATCH /customers/ID with tags_add), audited."""
    _edit(workspace, customer_id, {"tags_add": list(tags)})


@click.command("untag")
@workspace_option()
@click.argument("customer_id")
@click.argument("tags", nargs=-1, required=True)
@stage_option
def untag(workspace: str, customer_id: str, tags: tuple[str, ...], stage: str | None) -> None:
    """Remove TAGS from the customer (as PATCH /customers/ID with tags_remove), audited."""
    _edit(workspace, customer_id, {"tags_remove": list(tags)})


@click.command("note")
@workspace_option()
@click.argument("customer_id")
@click.argument("text", required=False)
@click.option("--edit", "note_id", metavar="NOTE_ID", help="replace this note's text with TEXT")
@click.option("--delete", "delete_id", metavar="NOTE_ID", help="delete this note")
@stage_option
def note(
    workspace: str,
    customer_id: str,
    text: str | None,
    note_id: str | None,
    delete_id: str | None,
    stage: str | None,
) -> None:
    """Append a note (TEXT), edit one (--edit NOTE_ID TEXT) or delete one (--delete NOTE_ID),
    as PATCH /customers/ID; audited."""
    if delete_id:
        if text or note_id:
            raise CliError("--delete takes no TEXT and no --edit", 2)
        _edit(workspace, customer_id, {"notes": [{"id": delete_id, "text": None}]})
    elif not text:
        raise CliError("give the note's TEXT", 2)
    elif note_id:
        _edit(workspace, customer_id, {"notes": [{"id": note_id, "text": text}]})
    else:
        _edit(workspace, customer_id, {"note": text})


@click.command("consent")
@workspace_option()
@click.argument("customer_id")
@click.option("--email", type=STATES, help="the email marketing consent to set")
@click.option("--sms", type=STATES, help="the SMS marketing consent to set")
@stage_option
def consent(workspace: str, customer_id: str, email: str | None, sms: str | None, stage: str | None) -> None:
    """Set the customer's marketing consent per channel (as PATCH /customers/ID with consent),
    audited; an unsubscribe or a suppression recorded by Patron still holds at send time."""
    if not (email or sms):
        raise CliError("give --email STATE, --sms STATE or both", 2)
    _edit(workspace, customer_id, {"consent": {"email": email, "sms": sms}})


@click.command("audit")
@workspace_option()
@click.argument("customer_id")
@page_options
@json_option
@stage_option
def audit(
    workspace: str, customer_id: str, limit: int, cursor: str | None, as_json: bool, stage: str | None
) -> None:
    """The customer's edits (tags, notes, consent), newest first (as GET /customers/ID/audit)."""
    page = workspace_container(workspace).customer_edits.audit(workspace, customer_id, limit, cursor)
    print_json(page, compact=as_json)


EDIT_COMMANDS = [tag, untag, note, consent, audit]  # under `patron customers` (cli/customers.py)
