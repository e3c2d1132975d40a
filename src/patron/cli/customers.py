"""`patron customers ...`: look a customer up, erase or export one (any source), enrol one in
the loyalty programme or record their leaving."""

from __future__ import annotations

import click

from patron.cli.base import (
    json_option,
    page_options,
    plain,
    print_json,
    stage_option,
    workspace_container,
    workspace_option,
)
from patron.cli.customer_edits import EDIT_COMMANDS
from patron.cli.loyalty import adjust_points, points, redeem
from patron.cli.loyalty_rules import award
from patron.cli.tiers import set_tier, tier


@click.group("customers")
def customers() -> None:
    """Look up, erase or export a customer of any source."""


@customers.command("show")
@workspace_option()
@click.argument("customer_id", required=False)
@click.option("--email", metavar="ADDRESS", help="find by email address instead of by id")
@json_option
@stage_option
def show(
    workspace: str, customer_id: str | None, email: str | None, as_json: bool, stage: str | None
) -> None:
    """A customer's profile and timeline (as GET /customers/ID), or the customers with --email."""
    from patron.cli.base import CliError

    if bool(customer_id) == bool(email):
        raise CliError("give a CUSTOMER_ID or --email ADDRESS", 2)
    found = workspace_container(workspace).customers
    if email:
        shown = {"customers": [plain(p) for p in found.find_by_email(workspace, email)]}
    else:
        edits = workspace_container(workspace).customer_edits
        shown = plain(edits.with_notes(workspace, found.get(workspace, customer_id)))
    print_json(shown, compact=as_json)


def _request(action: str, about: str) -> click.Command:
    request = {"erase": "customers_redact", "export": "customers_data_request"}[action]

    @click.command(action, help=about)
    @workspace_option()
    @click.argument("customer_id")
    @stage_option
    def run(workspace: str, customer_id: str, stage: str | None) -> None:
        request_id = workspace_container(workspace).privacy_requests.request(workspace, customer_id, request)
        print_json({"request_id": request_id, "request": request})

    return run


customers.add_command(
    _request("erase", "Erase the customer everywhere (as customers/redact); see `patron privacy list`.")
)
customers.add_command(
    _request("export", "Export the customer's data (as customers/data_request); see `patron privacy export`.")
)
customers.add_command(points)
customers.add_command(adjust_points)
customers.add_command(redeem)
customers.add_command(tier)
customers.add_command(set_tier)
customers.add_command(award)
for edit_command in EDIT_COMMANDS:  # tag, untag, note, consent, audit (cli/customer_edits.py)
    customers.add_command(edit_command)


def _membership(action: str, about: str) -> click.Command:
    @click.command(action, help=about)
    @workspace_option()
    @click.argument("customer_id")
    @click.option(
        "--reason", metavar="TEXT", help="why, kept in the enrolment audit (at most 200 characters)"
    )
    @stage_option
    def run(workspace: str, customer_id: str, reason: str | None, stage: str | None) -> None:
        from chalicelib.domain.enrolment import MAX_REASON, Actor
        from patron.cli.base import CliError

        if reason is not None and not 0 < len(reason) <= MAX_REASON:
            raise CliError(f"--reason takes 1 to {MAX_REASON} characters", 2)
        service = workspace_container(workspace).enrolments
        change = service.enrol if action == "enrol" else service.leave
        print_json(plain(change(workspace, customer_id, Actor("cli", "cli"), reason)))

    return run


customers.add_command(
    _membership(
        "enrol",
        "Enrol the customer in the loyalty programme (as POST /customers/ID/membership): a member number "
        "is issued once; a current member is refused.",
    )
)
customers.add_command(
    _membership(
        "leave",
        "Record that the customer leaves the loyalty programme (as DELETE /customers/ID/membership); "
        "their number is kept.",
    )
)


@customers.command("membership")
@workspace_option()
@click.argument("customer_id")
@page_options
@json_option
@stage_option
def membership(
    workspace: str, customer_id: str, limit: int, cursor: str | None, as_json: bool, stage: str | None
) -> None:
    """The customer's membership and its audit, newest first (as GET /customers/ID/membership)."""
    listing = workspace_container(workspace).membership_audit.listing(workspace, customer_id, limit, cursor)
    print_json(listing, compact=as_json)


@customers.command("list")
@workspace_option()
@click.option("--q", "q", metavar="TEXT", help="a name, email or phone prefix")
@click.option("--segment", metavar="SEGMENT_ID", help="a segment's members (built-ins too)")
@click.option("--tier", metavar="NAME", help="the customers in a tier")
@click.option("--tag", metavar="TAG", help="the customers with a tag")
@page_options
@json_option
@stage_option
def list_(
    workspace: str,
    q: str | None,
    segment: str | None,
    tier: str | None,
    tag: str | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
    stage: str | None,
) -> None:
    """A page of customers, one filter at a time (as GET /customers?q=|segment=|tier=|tag=)."""
    from chalicelib.domain.customer_list import CustomerQuery

    query = CustomerQuery(q=q or None, segment=segment or None, tier=tier or None, tag=tag or None)
    page = workspace_container(workspace).customer_list.page(workspace, query, limit, cursor)
    print_json(page.model_dump(mode="json"), compact=as_json)


@customers.command("reindex")
@workspace_option()
@click.option("--cursor", metavar="C", help="the cursor a cut-short run printed")
@click.option(
    "--pages", type=click.IntRange(min=1), metavar="N", help="stop after this many pages of 100 customers"
)
@json_option
@stage_option
def reindex(workspace: str, cursor: str | None, pages: int | None, as_json: bool, stage: str | None) -> None:
    """Writes the customer list's search entries of the workspace's profiles saved before them:
    a resumable walk of its customers (never a table scan); running it again changes nothing."""
    from patron.cli.base import CliError

    try:
        done = workspace_container(workspace).search_entries.reindex(workspace, cursor, pages)
    except (ValueError, KeyError, TypeError) as exc:
        raise CliError("--cursor is not one reindex printed", 2) from exc
    print_json({"profiles": done.profiles, "entries": done.written, "cursor": done.cursor}, compact=as_json)


COMMANDS = [customers]
