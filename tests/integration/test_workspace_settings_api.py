"""A workspace's settings through the Admin API, on the stage (moto): read with their
version (ETag), changed by PATCH with If-Match, refused (409 `stale_version`) for an editor
holding an older version, validated as the CLI validates them; secrets never shown."""

from __future__ import annotations

import json
from typing import Any

from patron.harness import Harness, Workspace
from tests.cli_runs import run
from tests.integration.conftest import SECRET


def get(stage: Harness, ws: Workspace) -> Any:
    return stage.get(ws, "/workspace/settings")


def patch(stage: Harness, ws: Workspace, body: Any, version: Any) -> Any:
    headers = {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"}
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return stage.http.http.patch("/workspace/settings", headers=headers, body=json.dumps(body))


def test_the_settings_are_read_with_their_version_and_no_secret(stage, ws):
    # Given a workspace with three sources (each with a webhook secret)
    # When its settings are read
    answer = get(stage, ws)
    # Then they show the defaults, the version as the ETag, and each source's secret masked
    assert answer.status_code == 200, answer.body
    shown = json.loads(answer.body)
    assert answer.headers["ETag"] == f'"{shown["version"]}"'
    assert (shown["quiet_hours"], shown["daily_caps"], shown["currency"]) == (
        "21-09",
        {"high": 2, "medium": 1},
        "USD",
    )
    assert {s["platform"] for s in shown["sources"]} == {"shopify", "woocommerce", "generic"}
    assert {s["webhook_secret"] for s in shown["sources"]} == {"********"}
    assert SECRET not in answer.body.decode() and ws.api_key not in answer.body.decode()


def test_a_patch_at_the_version_read_changes_the_settings_and_a_stale_one_is_refused(stage, ws, cli_on):
    # Given two editors who read the settings at the same version
    version = json.loads(get(stage, ws).body)["version"]
    # When the first changes the quiet hours, the caps and the sender
    first = patch(
        stage,
        ws,
        {"quiet_hours": "22-7", "daily_caps": {"high": 3}, "sender_email": "hello@demo-books.example"},
        version,
    )
    # Then they are changed (the domain reads them) and the version moved
    assert first.status_code == 200, first.body
    shown = json.loads(first.body)
    assert (shown["quiet_hours"], shown["daily_caps"]["high"], shown["version"]) == ("22-07", 3, version + 1)
    settings = stage.container.workspaces.settings(ws.workspace_id)
    assert (settings.quiet_start, settings.quiet_end, settings.sender_email) == (
        22,
        7,
        "hello@demo-books.example",
    )
    # When the second patches from the version it read
    second = patch(stage, ws, {"low_every_days": 5}, version)
    # Then it is refused with a reason, and the first editor's change stands
    body = json.loads(second.body)
    assert (second.status_code, body["details"]["reason"]) == (409, "stale_version")
    assert json.loads(get(stage, ws).body)["low_every_days"] == 3
    # And a change by the CLI moves the version too, so an editor holding the older one is refused
    assert run("workspace", "sending", "-w", ws.workspace_id, "--low-every-days", "4").exit_code == 0
    assert patch(stage, ws, {"low_every_days": 6}, version + 1).status_code == 409


def test_a_patch_is_validated_as_the_cli_validates_it(stage, ws, cli_on):
    # Given the settings' version
    version = json.loads(get(stage, ws).body)["version"]
    bad = [
        {"quiet_hours": "25-7"},
        {"daily_caps": {"low": 2}},
        {"default_timezone": "Mars/Base"},
        {"notifications": ["fax"]},
        {"engagement": {"high_opens": 3}},
        {"attribution_days": 0},
        {"webhook_secret": "x" * 20},
    ]
    # When each bad change is sent, Then each is 400, and nothing moved
    for body in bad:
        answer = patch(stage, ws, body, version)
        assert answer.status_code == 400, (body, answer.body)
    assert json.loads(get(stage, ws).body)["version"] == version
    # And the CLI refuses the same quiet hours with exit code 2, through the same service
    assert run("workspace", "sending", "-w", ws.workspace_id, "--quiet-hours", "25-7").exit_code == 2
    # And a patch without If-Match is 400, without a key 401
    assert patch(stage, ws, {"low_every_days": 5}, None).status_code == 400
    assert stage.http.http.get("/workspace/settings").status_code == 401


def test_the_open_complaint_hold_is_on_by_default_and_switched_by_the_api_and_the_cli(stage, ws, cli_on):
    # Given a new workspace: the hold is on
    shown = json.loads(get(stage, ws).body)
    assert shown["no_marketing_on_open_complaint"] is True
    # When the API switches it off
    answer = patch(stage, ws, {"no_marketing_on_open_complaint": False}, shown["version"])
    # Then it reads off, and the sending policy follows
    assert answer.status_code == 200, answer.body
    assert json.loads(get(stage, ws).body)["no_marketing_on_open_complaint"] is False
    assert stage.container.workspaces.settings(ws.workspace_id).no_marketing_on_open_complaint is False
    # When the CLI switches it on again, Then it prints and reads on
    ran = run("workspace", "sending", "-w", ws.workspace_id, "--open-complaint-hold")
    assert ran.exit_code == 0 and json.loads(ran.output)["no_marketing_on_open_complaint"] is True
    assert json.loads(get(stage, ws).body)["no_marketing_on_open_complaint"] is True
