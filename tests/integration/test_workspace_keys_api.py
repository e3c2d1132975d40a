"""A workspace's API keys through the Admin API, on the stage (moto): created with a name
(the secret shown once), listed without secrets, rotated (the old secret refused at once),
revoked (refused at once), never the last live key; a key made before keys had ids still works."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from click.testing import CliRunner

import patron.cli
from patron.harness import Harness, Workspace
from tests.cli_runs import run


def call(stage: Harness, key: str, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    raw = None if body is None else json.dumps(body)
    return getattr(stage.http.http, method)(path, headers=headers, body=raw)


def listing(stage: Harness, key: str) -> list[dict[str, Any]]:
    answer = call(stage, key, "get", "/workspace/keys")
    assert answer.status_code == 200, answer.body
    return list(json.loads(answer.body)["keys"])


def refusal(answer: Any) -> tuple[int, str | None]:
    return answer.status_code, (json.loads(answer.body).get("details") or {}).get("reason")


def test_a_key_is_created_named_shown_once_and_listed_without_its_secret(stage, ws):
    # Given a workspace with the key it was created with
    (first,) = listing(stage, ws.api_key)
    assert (first["name"], first["status"], first["last4"]) == ("default", "active", ws.api_key[-4:])
    # When it creates a key named "shop sync"
    created = call(stage, ws.api_key, "post", "/workspace/keys", {"name": "shop sync"})
    # Then the answer is 201 with the secret, which works at once
    assert created.status_code == 201, created.body
    shown = json.loads(created.body)
    secret, key = shown["api_key"], shown["key"]
    assert secret.startswith("pk_") and key["last4"] == secret[-4:]
    assert key["name"] == "shop sync" and key["created_by"] == f"key:{first['key_id']}"
    assert call(stage, secret, "get", "/workspace/keys").status_code == 200
    # And the listing shows both keys, oldest first, never a secret nor a hash
    keys = listing(stage, secret)
    assert [k["key_id"] for k in keys] == [first["key_id"], key["key_id"]]
    text = json.dumps(keys)
    assert secret not in text and ws.api_key not in text
    assert hashlib.sha256(secret.encode()).hexdigest() not in text
    # And a key of another workspace does not see them
    other = stage.create_workspace("Other Brand")
    assert [k["name"] for k in listing(stage, other.api_key)] == ["default"]


def test_a_rotated_key_keeps_its_id_and_its_old_secret_is_refused_at_once(stage, ws):
    # Given a second key, used once (so a warm lookup could remember it)
    made = json.loads(call(stage, ws.api_key, "post", "/workspace/keys", {"name": "etl"}).body)
    old, key_id = made["api_key"], made["key"]["key_id"]
    assert call(stage, old, "get", "/workspace/keys").status_code == 200
    # When it is rotated by the first key
    rotated = call(stage, ws.api_key, "post", f"/workspace/keys/{key_id}/rotate")
    # Then the new secret works for the same key id, and the old one is 401 at once
    assert rotated.status_code == 200, rotated.body
    shown = json.loads(rotated.body)
    new = shown["api_key"]
    assert new != old and shown["key"]["key_id"] == key_id and shown["key"]["last4"] == new[-4:]
    assert call(stage, old, "get", "/workspace/keys").status_code == 401
    assert call(stage, new, "get", "/workspace/keys").status_code == 200
    # And the listing says who rotated it, when
    (listed,) = [k for k in listing(stage, new) if k["key_id"] == key_id]
    assert listed["rotated_by"].startswith("key:key_") and listed["rotated_at"] == shown["key"]["rotated_at"]


def test_a_revoked_key_is_refused_at_once_and_the_last_key_cannot_be_revoked(stage, ws):
    # Given the workspace's first key and a second one
    (first,) = listing(stage, ws.api_key)
    made = json.loads(call(stage, ws.api_key, "post", "/workspace/keys", {"name": "old"}).body)
    second, second_id = made["api_key"], made["key"]["key_id"]
    # When the second revokes the first
    revoked = call(stage, second, "delete", f"/workspace/keys/{first['key_id']}")
    # Then the first is refused at once, and listed as revoked by the second
    assert revoked.status_code == 200, revoked.body
    assert call(stage, ws.api_key, "get", "/workspace/keys").status_code == 401
    listed = {k["key_id"]: k for k in listing(stage, second)}
    assert listed[first["key_id"]]["status"] == "revoked"
    assert listed[first["key_id"]]["revoked_by"] == f"key:{second_id}"
    # When the second, now the last live key, revokes itself, or rotates the revoked one
    last = call(stage, second, "delete", f"/workspace/keys/{second_id}")
    again = call(stage, second, "post", f"/workspace/keys/{first['key_id']}/rotate")
    # Then both are 409 with a reason, and the second still works
    assert refusal(last) == (409, "last_key")
    assert refusal(again) == (409, "revoked")
    assert call(stage, second, "get", "/workspace/keys").status_code == 200
    # And an unknown key id is 404
    assert call(stage, second, "delete", "/workspace/keys/key_000000000000").status_code == 404


def test_every_key_route_wants_a_key_and_a_name(stage, ws):
    # Given no key, a wrong key, and a body without a name
    routes = [
        ("get", "/workspace/keys"),
        ("post", "/workspace/keys"),
        ("post", "/workspace/keys/key_x/rotate"),
        ("delete", "/workspace/keys/key_x"),
    ]
    # When each route is called without a valid key, Then each is 401
    for method, path in routes:
        assert call(stage, "pk_wrong", method, path, {"name": "x"}).status_code == 401, path
    # And a key without a name, or with an unknown field, is 400
    assert call(stage, ws.api_key, "post", "/workspace/keys", {}).status_code == 400
    assert call(stage, ws.api_key, "post", "/workspace/keys", {"name": "x", "secret": "y"}).status_code == 400


def test_a_key_made_before_keys_had_ids_keeps_working(stage):
    # Given a workspace whose key is stored as before this change (a lookup item alone)
    ws: Workspace = stage.create_workspace("Legacy Brand")
    legacy = "pk_legacy_key_made_by_an_older_release"
    stage.container.crm.put(
        {
            "pk": "KEY#" + hashlib.sha256(legacy.encode()).hexdigest(),
            "sk": "KEY",
            "t": "api_key",
            "ws": ws.workspace_id,
            "ca": "2026-01-01T00:00:00.000000Z",
        }
    )
    # When it lists the keys and creates one
    made = call(stage, legacy, "post", "/workspace/keys", {"name": "new"})
    # Then it is served, and the audit names it by its hash's first 12 hex digits
    assert made.status_code == 201, made.body
    by = "key:" + hashlib.sha256(legacy.encode()).hexdigest()[:12]
    assert json.loads(made.body)["key"]["created_by"] == by
    assert [k["name"] for k in listing(stage, legacy)] == ["default", "new"]


def test_the_cli_creates_lists_rotates_and_revokes_keys_as_the_api_does(stage, ws, cli_on):
    # Given a workspace
    w = ws.workspace_id
    # When the CLI creates a key, lists the keys, rotates the new one and revokes the first
    created = run("workspace", "keys", "create", "-w", w, "--name", "backup", "--json")
    assert created.exit_code == 0, created.output
    made = json.loads(created.output)
    listed = json.loads(run("workspace", "keys", "list", "-w", w, "--json").output)["keys"]
    rotated = json.loads(run("workspace", "keys", "rotate", "-w", w, made["key"]["key_id"], "--json").output)
    first = listed[0]["key_id"]
    revoked = run("workspace", "keys", "revoke", "-w", w, first)
    # Then the secret was printed once, never listed; the rotation took the old secret away
    assert made["key"]["created_by"] == "cli" and made["api_key"] not in json.dumps(listed)
    assert [k["name"] for k in listed] == ["default", "backup"]
    assert call(stage, made["api_key"], "get", "/workspace/keys").status_code == 401
    assert call(stage, rotated["api_key"], "get", "/workspace/keys").status_code == 200
    # And the first key is revoked by `cli`, refused at once
    assert revoked.exit_code == 0, revoked.output
    assert call(stage, ws.api_key, "get", "/workspace/keys").status_code == 401
    shown = {k["key_id"]: k for k in listing(stage, rotated["api_key"])}
    assert shown[first]["revoked_by"] == "cli"
    # When the CLI revokes the last live key, Then it is refused in one line, exit 2
    last = run("workspace", "keys", "revoke", "-w", w, made["key"]["key_id"])
    assert last.exit_code != 0 and "last live key" in last.output


def test_the_cli_adopts_a_key_made_before_keys_had_ids_so_it_can_be_revoked(stage, cli_on):
    # Given a workspace whose old key is stored as before keys had ids
    ws: Workspace = stage.create_workspace("Legacy Brand")
    legacy = "pk_legacy_key_made_by_an_older_release"
    stage.container.crm.put(
        {
            "pk": "KEY#" + hashlib.sha256(legacy.encode()).hexdigest(),
            "sk": "KEY",
            "t": "api_key",
            "ws": ws.workspace_id,
            "ca": "2026-01-01T00:00:00.000000Z",
        }
    )
    # When the CLI adopts it (the secret typed at the hidden prompt)
    adopted = CliRunner().invoke(
        patron.cli.cli, ["workspace", "keys", "adopt", "-w", ws.workspace_id, "--json"], input=legacy + "\n"
    )
    # Then it is listed by its tail, still works, and can now be revoked by id
    assert adopted.exit_code == 0, adopted.output
    key = json.loads(adopted.output.splitlines()[-1])
    assert (key["name"], key["last4"]) == ("legacy", legacy[-4:]) and legacy not in adopted.output
    assert call(stage, legacy, "get", "/workspace/keys").status_code == 200
    assert call(stage, ws.api_key, "delete", f"/workspace/keys/{key['key_id']}").status_code == 200
    assert call(stage, legacy, "get", "/workspace/keys").status_code == 401
    # And adopting a key again is refused
    again = CliRunner().invoke(
        patron.cli.cli, ["workspace", "keys", "adopt", "-w", ws.workspace_id], input=ws.api_key + "\n"
    )
    assert again.exit_code != 0 and "not_adoptable" in again.output
