"""Loyalty membership through the Admin API and the CLI, on the stage (moto): enrol, leave,
numbers, refusals, the audit, and no storefront record flipping an explicit state back."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from chalicelib.adapters.enrolment_store import DynamoEnrolmentStore
from patron.harness import Harness, Workspace
from tests.cli_runs import run
from tests.conftest import event_bytes


def call(stage: Harness, ws: Workspace, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    headers = {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"}
    raw = json.dumps(body) if body is not None else ""
    return getattr(stage.http.http, method)(path, headers=headers, body=raw)


def storefront_member(stage: Harness, ws: Workspace) -> str:
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    (found,) = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    return str(found["customer_id"])


def membership(stage: Harness, ws: Workspace, cid: str) -> dict[str, Any]:
    detail = json.loads(stage.get(ws, f"/customers/{cid}").body)
    assert detail["is_member"] == detail["membership"]["member"]
    return dict(detail["membership"])


def test_a_member_leaves_stays_a_guest_through_later_orders_and_enrols_again(stage, ws):
    # Given a storefront member (the order's customer has an account), numbered by the CRM stream
    cid = storefront_member(stage, ws)
    first = membership(stage, ws, cid)
    assert first | {"since": None} == {
        "member": True,
        "number": "M000001",
        "since": None,
        "channel": "storefront",
        "left_at": None,
    }
    assert first["since"] is not None
    # When they leave through the API
    left = call(stage, ws, "delete", f"/customers/{cid}/membership", {"reason": "asked by email"})
    assert left.status_code == 200, left.body
    # And later records of the account arrive (an update and a cancellation with state enabled)
    stage.send(ws, "shopify", "orders/updated", event_bytes("shopify/orders_updated_paid.json"))
    stage.send(ws, "shopify", "orders/cancelled", event_bytes("shopify/orders_cancelled.json"))
    stage.drain()
    # Then they are still a guest, in the profile and in the built-in segments
    after = membership(stage, ws, cid)
    assert (after["member"], after["left_at"]) == (False, json.loads(left.body)["left_at"])
    sizes = [json.loads(stage.get(ws, f"/segments/account:{s}").body)["size"] for s in ("member", "guest")]
    assert sizes == [0, 1]
    # When they leave again, Then 409 with the reason, in the project's error shape
    again = call(stage, ws, "delete", f"/customers/{cid}/membership")
    assert again.status_code == 409
    assert json.loads(again.body)["error"] == "membership_refused"
    assert json.loads(again.body)["details"] == {"reason": "not_a_member"}
    # When they enrol through the API, Then a member with the workspace's first number
    back = call(stage, ws, "post", f"/customers/{cid}/membership")
    assert back.status_code == 200, back.body
    assert membership(stage, ws, cid) | {"since": None} == {
        "member": True,
        "number": "M000001",
        "since": None,
        "channel": "api",
        "left_at": None,
    }
    assert call(stage, ws, "post", f"/customers/{cid}/membership").status_code == 409
    # And the audit names the key by its hash, never the key, with the reasons
    key = "key:" + hashlib.sha256(ws.api_key.encode()).hexdigest()[:12]
    trail = DynamoEnrolmentStore(stage.container.crm).audit(ws.workspace_id, cid)
    assert [(a.kind, a.by, a.number, a.reason) for a in trail] == [
        ("account", "storefront", "M000001", None),
        ("leave", key, "M000001", "asked by email"),
        ("enrol", key, "M000001", None),
    ]


def test_bad_requests_and_unknown_customers(stage, ws):
    cid = storefront_member(stage, ws)
    # When the body has an unknown field or a reason too long, Then 400
    assert call(stage, ws, "post", f"/customers/{cid}/membership", {"why": "x"}).status_code == 400
    assert call(stage, ws, "post", f"/customers/{cid}/membership", {"reason": "x" * 201}).status_code == 400
    # When the customer does not exist, Then 404
    assert call(stage, ws, "post", "/customers/c_missing/membership").status_code == 404
    # And nothing was recorded beyond the storefront member's number
    assert membership(stage, ws, cid)["number"] == "M000001"
    assert [a.kind for a in DynamoEnrolmentStore(stage.container.crm).audit(ws.workspace_id, cid)] == [
        "account"
    ]


def test_the_cli_enrols_and_records_leaving(stage, ws, cli_on):
    cid = storefront_member(stage, ws)
    # When the CLI enrols the storefront member (numbered by the CRM stream), Then refused
    refused_enrol = run("customers", "enrol", cid, "-w", ws.workspace_id, "--reason", "VIP list")
    assert refused_enrol.exit_code == 2 and "already_member" in refused_enrol.output
    # When the CLI records the leaving, twice
    left = run("customers", "leave", cid, "-w", ws.workspace_id)
    refused = run("customers", "leave", cid, "-w", ws.workspace_id)
    # Then the first is recorded, the second refused in one line with a non-zero exit
    assert left.exit_code == 0 and json.loads(left.output)["member"] is False
    assert refused.exit_code == 2 and "not a member" in refused.output and "not_a_member" in refused.output
    trail = DynamoEnrolmentStore(stage.container.crm).audit(ws.workspace_id, cid)
    assert [(a.kind, a.by, a.reason) for a in trail] == [
        ("account", "storefront", None),
        ("leave", "cli", None),
    ]
    # When the CLI enrols them again, Then the same number, channel cli
    back = json.loads(run("customers", "enrol", cid, "-w", ws.workspace_id, "--reason", "VIP list").output)
    assert (back["number"], back["channel"]) == ("M000001", "cli")


def test_erasing_a_customer_erases_their_enrolment_audit(stage, ws):
    # Given a member enrolled with a reason (free text) in the audit
    cid = storefront_member(stage, ws)
    call(stage, ws, "delete", f"/customers/{cid}/membership", {"reason": "moved to Lyon"})
    audits = DynamoEnrolmentStore(stage.container.crm)
    assert len(audits.audit(ws.workspace_id, cid)) == 2  # the storefront number's, the leaving
    # When the customer is erased
    assert call(stage, ws, "delete", f"/customers/{cid}").status_code == 202
    stage.drain()
    # Then the profile and its audit entries are gone
    assert stage.get(ws, f"/customers/{cid}").status_code == 404
    assert audits.audit(ws.workspace_id, cid) == []
