"""The membership audit listing through the Admin API and the CLI, on the stage (moto):
`GET /customers/{id}/membership` and `patron customers membership`."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote

from patron.harness import Harness, Workspace
from tests.cli_runs import run
from tests.integration.test_enrolment import call, storefront_member


def listing(stage: Harness, ws: Workspace, path: str) -> tuple[int, Any]:
    answer = stage.get(ws, path)
    return answer.status_code, json.loads(answer.body)


def test_the_api_lists_the_membership_and_its_audit_newest_first_in_pages(stage, ws):
    # Given a storefront member who left, enrolled again, and left again through the API
    cid = storefront_member(stage, ws)
    for method, reason in (("delete", "asked by email"), ("post", None), ("delete", "moved away")):
        body = {"reason": reason} if reason else None
        assert call(stage, ws, method, f"/customers/{cid}/membership", body).status_code == 200
    # When the listing is read two entries at a time, following the cursor to the end
    pages: list[Any] = []
    cursor = ""
    while cursor is not None and len(pages) < 5:
        status, page = listing(stage, ws, f"/customers/{cid}/membership?limit=2&cursor={quote(cursor)}")
        assert status == 200, page
        pages.append(page)
        cursor = page["next_cursor"]
    # Then the membership as the profile shows it, and the entries newest first, two a page
    assert pages[0]["membership"]["member"] is False and pages[0]["membership"]["number"] == "M000001"
    assert [len(p["entries"]) for p in pages[:2]] == [2, 2] and cursor is None
    key = "key:" + hashlib.sha256(ws.api_key.encode()).hexdigest()[:12]
    entries = [e for p in pages for e in p["entries"]]
    assert [(e["kind"], e["reason"], e["by"]) for e in entries] == [
        ("leave", "moved away", key),
        ("enrol", None, key),
        ("leave", "asked by email", key),
        ("account", None, "storefront"),  # the number the CRM stream issued
    ]
    assert entries == sorted(entries, key=lambda e: e["at"], reverse=True)


def test_a_guest_without_changes_lists_no_entries_and_bad_requests_are_refused(stage, ws):
    cid = storefront_member(stage, ws)
    # When a storefront member never enrolled explicitly is listed, Then the number's entry only
    status, body = listing(stage, ws, f"/customers/{cid}/membership")
    assert (status, [e["kind"] for e in body["entries"]], body["membership"]["channel"]) == (
        200,
        ["account"],
        "storefront",
    )
    # When the customer is unknown, Then 404; a cursor it never gave or a bad limit, Then 400
    assert stage.get(ws, "/customers/c_missing/membership").status_code == 404
    assert stage.get(ws, f"/customers/{cid}/membership?cursor=E%23x").status_code == 400
    assert stage.get(ws, f"/customers/{cid}/membership?limit=many").status_code == 400


def test_the_cli_lists_the_audit(stage, ws, cli_on):
    # Given a member enrolled and then left through the CLI
    cid = storefront_member(stage, ws)
    run("customers", "leave", cid, "-w", ws.workspace_id, "--reason", "asked")
    run("customers", "enrol", cid, "-w", ws.workspace_id)
    # When the CLI lists the membership
    shown = run("customers", "membership", cid, "-w", ws.workspace_id, "--json")
    # Then the entries newest first, with the CLI as the actor
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.output)
    assert [(e["kind"], e["by"], e["reason"]) for e in body["entries"]] == [
        ("enrol", "cli", None),
        ("leave", "cli", "asked"),
        ("account", "storefront", None),
    ]
    assert body["membership"]["member"] is True
