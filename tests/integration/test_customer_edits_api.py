"""Editing a customer through the Admin API, on the stage (moto): `PATCH /customers/{id}`
(tags, notes, consent), the edits on `GET /customers/{id}` and in `GET /customers/{id}/audit`,
and the consent reaching segments, exports and sends as a storefront's or an unsubscribe's does."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest

from chalicelib.adapters.profile_items import profile_pk
from chalicelib.domain.errors import Conflict
from chalicelib.domain.messaging.model import Channel, Purpose
from chalicelib.domain.messaging.unsubscribe import make_token
from chalicelib.domain.models import now_utc
from patron.harness import Harness, Workspace
from tests.cli_runs import run
from tests.integration.test_consent import (
    _policy,
    exported,
    jane,
    jane_orders_again,
    members,
    sha,
)
from tests.integration.test_unsubscribe import one_click

__all__ = ["jane"]


def patch(stage: Harness, ws: Workspace, cid: str, body: Any, key: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if key is not False:
        headers["Authorization"] = f"Bearer {key or ws.api_key}"
    raw = body if isinstance(body, str) else json.dumps(body)
    answer = stage.http.http.patch(f"/customers/{cid}", headers=headers, body=raw)
    return answer.status_code, json.loads(answer.body)


def detail(stage: Harness, ws: Workspace, cid: str) -> Any:
    answer = stage.get(ws, f"/customers/{cid}")
    assert answer.status_code == 200, answer.body
    return json.loads(answer.body)


def key_actor(ws: Workspace) -> str:
    return "key:" + hashlib.sha256(ws.api_key.encode()).hexdigest()[:12]


def test_tags_notes_and_consent_are_edited_shown_and_audited(stage, ws, jane):
    cid = jane["cid"]
    # When the console tags Jane (any case and spacing), notes a call and unsubscribes her SMS
    status, body = patch(
        stage,
        ws,
        cid,
        {
            "tags_add": ["VIP ", "wholesale  buyer"],
            "note": "called about a refund",
            "consent": {"sms": "unsubscribed"},
        },
    )
    # Then the answer lists her tags and what changed
    assert status == 200, body
    assert body["tags"] == ["vip", "wholesale buyer"]
    fields = {c["field"]: (c["old"], c["new"]) for c in body["edit"]["changes"]}
    (note_field,) = [f for f in fields if f.startswith("note:")]
    note_id = note_field.removeprefix("note:")
    assert fields == {
        "tags": ([], ["vip", "wholesale buyer"]),
        "sms_consent": ("subscribed", "unsubscribed"),
        note_field: (None, "called about a refund"),
    }
    # And the profile shows them
    shown = detail(stage, ws, cid)
    assert shown["tags"] == ["vip", "wholesale buyer"]
    assert shown["sms_consent"]["state"] == "unsubscribed"
    assert [(n["id"], n["text"], n["created_by"]) for n in shown["notes"]] == [
        (note_id, "called about a refund", key_actor(ws))
    ]
    # When a tag is removed and the note edited
    status, body = patch(
        stage,
        ws,
        cid,
        {"tags_remove": ["wholesale buyer"], "notes": [{"id": note_id, "text": "refund sent"}]},
    )
    assert status == 200, body
    # Then the audit lists both edits, newest first, with who, old and new
    answer = stage.get(ws, f"/customers/{cid}/audit?limit=1")
    page = json.loads(answer.body)
    assert answer.status_code == 200 and page["next_cursor"]
    rest = json.loads(stage.get(ws, f"/customers/{cid}/audit?cursor={quote(page['next_cursor'])}").body)
    entries = page["entries"] + rest["entries"]
    assert [e["by"] for e in entries] == [key_actor(ws)] * 2
    assert entries[0]["changes"] == [
        {"field": "tags", "old": ["vip", "wholesale buyer"], "new": ["vip"]},
        {"field": f"note:{note_id}", "old": "called about a refund", "new": "refund sent"},
    ]
    assert entries[0]["at"] >= entries[1]["at"] and rest["next_cursor"] is None
    # When a note is deleted (text null), Then it is no longer shown
    assert patch(stage, ws, cid, {"notes": [{"id": note_id, "text": None}]})[0] == 200
    assert detail(stage, ws, cid)["notes"] == []


def test_a_repeated_edit_changes_nothing_and_records_nothing(stage, ws, jane):
    # Given Jane tagged vip
    assert patch(stage, ws, jane["cid"], {"tags_add": ["vip"]})[0] == 200
    # When the same tag is added again (a retry, a second console)
    status, body = patch(stage, ws, jane["cid"], {"tags_add": ["vip"], "tags_remove": ["absent"]})
    # Then nothing changed and the audit holds one entry
    assert (status, body["tags"], body["edit"]["changes"]) == (200, ["vip"], [])
    assert len(json.loads(stage.get(ws, f"/customers/{jane['cid']}/audit").body)["entries"]) == 1


def test_the_operator_consent_reaches_segments_exports_and_sends(stage, ws, jane):
    # When an operator unsubscribes Jane's email
    assert patch(stage, ws, jane["cid"], {"consent": {"email": "unsubscribed"}})[0] == 200
    stage.drain()
    # Then the email segment drops her, the export keeps only her phone, no marketing email goes
    assert members(stage, ws, jane["email"]) == []
    assert members(stage, ws, jane["sms"]) == [jane["cid"]]
    assert exported(stage, ws, jane["everyone"]) == [["", sha("+12125550147")]]
    profile = stage.container.profile_store.load(ws.workspace_id, jane["cid"])
    decision = stage.container.messaging.check(
        Channel.EMAIL, Purpose.MARKETING, ws.workspace_id, jane["cid"], profile, _policy(), now_utc()
    )
    assert decision.status == "dropped"
    # When she orders again, the order saying only `accepts_marketing` (no consent time)
    after = now_utc() + timedelta(minutes=1)
    stage.send(ws, "shopify", "orders/create", jane_orders_again(2001, after.isoformat()))
    stage.drain()
    # Then the operator's choice holds, and the order's write kept her tags' attribute untouched
    shown = detail(stage, ws, jane["cid"])
    assert (shown["orders_count"], shown["email_consent"]["state"]) == (2, "unsubscribed")
    # When the operator subscribes her again, Then segments and exports take her back
    assert patch(stage, ws, jane["cid"], {"consent": {"email": "subscribed"}})[0] == 200
    stage.drain()
    assert members(stage, ws, jane["email"]) == [jane["cid"]]
    assert exported(stage, ws, jane["everyone"]) == [[sha("jane.doe@example.com"), sha("+12125550147")]]


def test_an_order_written_after_an_edit_keeps_the_tags_and_one_read_before_it_retries(stage, ws, jane):
    # Given the ingest read Jane's profile, then the console tagged her
    read = stage.container.profile_store.load(ws.workspace_id, jane["cid"])
    assert patch(stage, ws, jane["cid"], {"tags_add": ["vip"]})[0] == 200
    # When the ingest writes what it read (its revision is now stale), Then the write is refused
    with pytest.raises(Conflict):
        stage.container.profile_store.save(read, read.rev, (), ())
    # When a later order is processed (the ingest reads again), Then her tags stay
    later = now_utc() + timedelta(minutes=1)
    stage.send(ws, "shopify", "orders/create", jane_orders_again(2002, later.isoformat()))
    stage.drain()
    shown = detail(stage, ws, jane["cid"])
    assert (shown["orders_count"], shown["tags"]) == (2, ["vip"])


def test_refusals_in_the_one_error_shape(stage, ws, jane):
    cid = jane["cid"]
    # When the body is invalid, Then 400 naming the field
    status, body = patch(stage, ws, cid, {"tags_add": [""], "consent": {"email": "pending"}})
    assert status == 400 and body["error"] == "bad_request"
    assert {d["field"] for d in body["details"]} >= {"tags_add.0", "consent.email"}
    # When nothing is asked, or a tag is both added and removed, Then 400
    assert patch(stage, ws, cid, {})[0] == 400
    assert patch(stage, ws, cid, {"tags_add": ["a"], "tags_remove": ["A"]})[0] == 400
    # When the body is not JSON, Then 400 invalid_json
    assert patch(stage, ws, cid, "{nope")[1]["error"] == "invalid_json"
    # When no key is given, Then 401 before any validation
    status, body = patch(stage, ws, cid, {"tags_add": [""]}, key=False)
    assert (status, body["error"], "details" in body) == (401, "unauthorized", False)
    # When the customer is unknown, Then 404; a note it never had, Then 404
    assert patch(stage, ws, "c_missing", {"tags_add": ["vip"]})[0] == 404
    assert patch(stage, ws, cid, {"notes": [{"id": "n_20990101000000000000abcdef", "text": "x"}]})[0] == 404
    # When more tags than a customer holds are added, Then 409 too_many_tags
    for n in range(5):
        assert patch(stage, ws, cid, {"tags_add": [f"t{n}-{i}" for i in range(20)]})[0] == 200
    status, body = patch(stage, ws, cid, {"tags_add": ["one more"]})
    assert (status, body["details"]["reason"]) == (409, "too_many_tags")
    # And the audit's own refusals: a cursor it never gave, an unknown customer
    assert stage.get(ws, f"/customers/{cid}/audit?cursor=MS%23x").status_code == 400
    assert stage.get(ws, "/customers/c_missing/audit").status_code == 404


def test_erasing_the_customer_erases_notes_and_audit(stage, ws, jane):
    # Given a note and its audit entry
    assert patch(stage, ws, jane["cid"], {"note": "lives next door"})[0] == 200
    # When the customer is erased
    answer = stage.http.http.delete(
        f"/customers/{jane['cid']}", headers={"Authorization": f"Bearer {ws.api_key}"}
    )
    assert answer.status_code == 202
    stage.drain()
    # Then nothing is left under the customer's partition
    left = stage.client("dynamodb").query(
        TableName=stage.info.crm_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": profile_pk(ws.workspace_id, jane["cid"])}},
    )["Items"]
    assert [i["sk"]["S"] for i in left if i["sk"]["S"][:3] in ("NT#", "CE#")] == []


def test_the_cli_twins_edit_and_list_the_audit(stage, ws, jane, cli_on):
    cid, w = jane["cid"], ws.workspace_id
    # When the CLI tags, untags, notes, edits the note and sets consent
    assert run("customers", "tag", cid, "VIP", "gold", "-w", w).exit_code == 0
    assert run("customers", "untag", cid, "gold", "-w", w).exit_code == 0
    noted = run("customers", "note", cid, "prefers SMS", "-w", w)
    assert noted.exit_code == 0, noted.output
    (field,) = [c["field"] for c in json.loads(noted.output)["edit"]["changes"]]
    note_id = field.removeprefix("note:")
    assert run("customers", "note", cid, "prefers email", "--edit", note_id, "-w", w).exit_code == 0
    assert run("customers", "consent", cid, "--email", "not_subscribed", "-w", w).exit_code == 0
    # Then the profile shows them (as the API does), and the audit lists five edits by `cli`
    shown = json.loads(run("customers", "show", cid, "-w", w).output)
    assert (shown["tags"], [n["text"] for n in shown["notes"]]) == (["vip"], ["prefers email"])
    assert shown["email_consent"]["state"] == "not_subscribed"
    listed = json.loads(run("customers", "audit", cid, "-w", w, "--json").output)
    assert [e["by"] for e in listed["entries"]] == ["cli"] * 5
    assert listed["entries"][0]["changes"] == [
        {"field": "email_consent", "old": "subscribed", "new": "not_subscribed"}
    ]
    # When an edit is invalid or empty, Then one line and exit code 2
    bad = run("customers", "tag", cid, " ", "-w", w)
    assert bad.exit_code == 2 and "invalid edit" in bad.output
    assert run("customers", "consent", cid, "-w", w).exit_code == 2


def test_subscribing_after_an_unsubscribe_through_patron_is_refused(stage, ws, jane):
    # Given Jane unsubscribed from email with one click
    token = make_token(ws.workspace_id, jane["cid"], "email", jane["salt"])
    assert one_click(stage, token).status_code == 200
    # When an operator subscribes her email again
    status, body = patch(stage, ws, jane["cid"], {"consent": {"email": "subscribed"}})
    # Then 409 opted_out, and the profile stays unsubscribed
    assert (status, body["details"]["reason"]) == (409, "opted_out")
    assert detail(stage, ws, jane["cid"])["email_consent"]["state"] == "unsubscribed"
