"""The CLI on an in-process stage (moto): the new read commands, the sender, and the mistakes
that need the real stores (a conditional write on an unknown workspace, the secret's rules)."""

from __future__ import annotations

import json

from tests.cli_runs import run
from tests.conftest import event_bytes

JANE = "jane.doe@example.com"
SENDER = "orders@demo-brand.example"


def test_workspace_list_and_show_with_the_senders_state(cli_on, ws):
    # Given a workspace with a sender address not yet verified
    assert run("workspace", "messaging", "-w", ws.workspace_id, "--sender", SENDER).exit_code == 0
    before = json.loads(run("workspace", "show", "-w", ws.workspace_id, "--json").stdout)["sender"]
    # When the operator verifies it with the embedded SES
    verified = run("sender", "verify", SENDER)
    # Then `workspace show` says so, and `workspace list` lists the workspace
    after = json.loads(run("workspace", "show", "-w", ws.workspace_id, "--json").stdout)["sender"]
    assert before == {"email": SENDER, "state": "not verified"}
    assert verified.exit_code == 0 and verified.stdout.startswith(f"{SENDER} is verified")
    assert after == {"email": SENDER, "state": "verified"}
    assert f"sender: {SENDER} (verified)" in run("workspace", "show", "-w", ws.workspace_id).stdout
    listed = json.loads(run("workspace", "list", "--json").stdout)["workspaces"]
    assert {"workspace_id": ws.workspace_id, "name": "Demo Brand", "currency": "USD"} in listed


def test_campaign_list_gives_the_ids_every_campaign_command_takes(cli_on, ws):
    # Given a template and a campaign created from the command line
    saved = run(
        "template",
        "save",
        "-w",
        ws.workspace_id,
        "hello",
        "--name",
        "Hello",
        "--subject",
        "Hi",
        "--text",
        "Hi",
    )
    assert saved.exit_code == 0, saved.stderr
    create = ("campaign", "create", "-w", ws.workspace_id, "--name", "Spring",
              "--segment", "lifecycle:active", "--variant", "a=hello")  # fmt: skip
    # (an email campaign without a verified sender is refused in one line that names the fix)
    refused = run(*create)
    assert refused.exit_code != 0 and refused.stderr.count("\n") == 1
    assert refused.stderr.startswith(f"error: workspace {ws.workspace_id} has no verified sender")
    assert f"patron workspace messaging -w {ws.workspace_id} --sender EMAIL" in refused.stderr
    assert run("workspace", "messaging", "-w", ws.workspace_id, "--sender", SENDER).exit_code == 0
    assert run("sender", "verify", SENDER).exit_code == 0
    created = run(*create)
    assert created.exit_code == 0, created.stderr
    # When the campaigns are listed
    (listed,) = json.loads(run("campaign", "list", "-w", ws.workspace_id, "--json").stdout)["campaigns"]
    table = run("campaign", "list", "-w", ws.workspace_id).stdout
    # Then the listed id is the created one, and `show` and `stats` take it
    campaign_id = json.loads(created.stdout)["campaign_id"]
    assert (listed["campaign_id"], listed["name"], listed["status"]) == (campaign_id, "Spring", "draft")
    assert campaign_id in table and "Spring" in table
    shown = run("campaign", "show", "-w", ws.workspace_id, campaign_id)
    assert json.loads(shown.stdout)["status"] == "draft"
    stats = run("stats", "-w", ws.workspace_id, "--campaign", campaign_id, "--json")
    assert stats.stderr == f"error: no statistics for camp#{campaign_id}\n"  # its scope, nothing sent yet


def test_customers_show_looks_a_customer_up(cli_on, ws):
    # Given a customer from an order
    cli_on.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    cli_on.drain()
    # When looked up by email, then by the id found
    found = run("customers", "show", "-w", ws.workspace_id, "--email", JANE, "--json")
    (profile,) = json.loads(found.stdout)["customers"]
    shown = json.loads(run("customers", "show", "-w", ws.workspace_id, profile["customer_id"]).stdout)
    # Then both are the customer, the id with its timeline
    assert profile["email"] == JANE
    assert shown["customer_id"] == profile["customer_id"] and shown["timeline"]


def test_a_short_webhook_secret_is_one_line_and_help_says_the_rule(cli_on, ws):
    result = run(
        "source",
        "add",
        "-w",
        ws.workspace_id,
        "--platform",
        "shopify",
        "--shop-domain",
        "a.b",
        "--secret",
        "SHOPIFY_SECRET",
    )
    assert (result.exit_code, result.stderr) == (2, "error: webhook secret must be at least 16 characters\n")


def test_a_shop_added_twice_is_refused_in_one_line_naming_its_source(cli_on, ws):
    # Given a Shopify shop added to the workspace
    add = ("source", "add", "-w", ws.workspace_id, "--platform", "shopify",
           "--shop-domain", "twice.myshopify.com", "--secret", "a-secret-of-16-chars")  # fmt: skip
    first = run(*add)
    assert first.exit_code == 0, first.stderr
    source_id = json.loads(first.stdout)["source_id"]
    # When the same shop is added again
    again = run(*add)
    # Then it is refused in one line that names the source it already is, not a ClientError
    assert again.exit_code != 0 and again.stderr.count("\n") == 1
    assert again.stderr == (
        f"error: shopify shop twice.myshopify.com is already source {source_id} of this workspace\n"
    )


def test_set_rate_and_segment_create_on_an_unknown_workspace_write_nothing(cli_on):
    # When a rate is set and a segment created in a workspace that does not exist
    rate = run("workspace", "set-rate", "ws_doesnotexist", "EUR", "1.08")
    segment = run("segment", "create", "--workspace", "ws_doesnotexist", "vips", "orders_count >= 3")
    # Then each says so in one line, exit 1, and nothing was written
    line = "error: workspace ws_doesnotexist not found (patron workspace list)"
    assert (rate.exit_code, rate.stderr.splitlines()[-1]) == (1, line)
    assert (segment.exit_code, segment.stderr) == (1, line + "\n")
    assert cli_on.container.segments.list("ws_doesnotexist") == []
