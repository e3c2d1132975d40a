"""`patron customers ...`: look a customer up, erase or export one (any source)."""

from __future__ import annotations

import click

from patron.cli.base import (
    json_option,
    plain,
    print_json,
    stage_option,
    workspace_container,
    workspace_option,
)
from patron.cli.loyalty import points


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
        shown = plain(found.get(workspace, customer_id))
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

COMMANDS = [customers]
