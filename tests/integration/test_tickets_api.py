"""Tickets through the Admin API, on the stage (moto): a ticket opened for a customer,
changed through its events, in the queue and on the customer's tickets; 409 with a reason
when the ticket's state refuses a change (docs/service.md)."""

from __future__ import annotations

import json
from typing import Any

from patron.harness import Harness, Workspace
from tests.integration.test_consent import jane

__all__ = ["jane"]


def post(stage: Harness, ws: Workspace, path: str, body: Any) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {ws.api_key}"}
    answer = stage.http.http.post(path, headers=headers, body=json.dumps(body))
    return answer.status_code, json.loads(answer.body)


def get(stage: Harness, ws: Workspace, path: str) -> tuple[int, Any]:
    answer = stage.get(ws, path)
    return answer.status_code, json.loads(answer.body)


def jane_order(stage: Harness, ws: Workspace, cid: str) -> tuple[str, str]:
    """Jane's order's public id and one of its lines' product id (or SKU)."""
    shown = get(stage, ws, f"/customers/{cid}")[1]
    (order_id,) = [e["order_id"] for e in shown["timeline"] if e["type"] == "order_placed"]
    (order,) = stage.container.order_reader.order_details(ws.workspace_id, [order_id])
    return order_id, order.lines[0].product_id or order.lines[0].sku or ""


def test_a_ticket_is_opened_worked_and_closed_through_the_api(stage, ws, jane):
    cid = jane["cid"]
    order_id, line = jane_order(stage, ws, cid)
    # When the desk opens an order issue for Jane about one line of her order
    body = {"customer_id": cid, "subject": "Parcel late", "kind": "order_issue", "order_id": order_id}
    status, made = post(stage, ws, "/tickets", body | {"line_ids": [line]})
    # Then it is open, hers, with its `created` event by the key
    assert status == 201, made
    assert (made["status"], made["customer_id"], made["line_ids"]) == ("open", cid, [line])
    assert [e["kind"] for e in made["events"]] == ["created"] and made["events"][0]["by"].startswith("key:")
    tid = made["id"]
    # When an agent takes it, replies and solves it
    for change in ({"type": "assign", "to": "ana"}, {"type": "reply", "body": "On its way"}):
        status, after = post(stage, ws, f"/tickets/{tid}/events", change)
        assert status == 200, after
    # Then ana's open queue holds it, and the complaints' does not
    assert [t["id"] for t in get(stage, ws, "/tickets?assignee=ana")[1]["tickets"]] == [tid]
    assert get(stage, ws, "/tickets?status=open&kind=complaint")[1]["tickets"] == []
    # When it is solved then closed, and an agent replies again
    post(stage, ws, f"/tickets/{tid}/events", {"type": "status", "to": "solved"})
    post(stage, ws, f"/tickets/{tid}/events", {"type": "status", "to": "closed"})
    status, refused = post(stage, ws, f"/tickets/{tid}/events", {"type": "reply", "body": "Anything else?"})
    # Then 409 ticket_closed; the ticket shows five events, in the closed queue and on Jane's tickets
    assert (status, refused["error"], refused["details"]) == (409, "conflict", {"reason": "ticket_closed"})
    status, shown = get(stage, ws, f"/tickets/{tid}")
    assert status == 200
    assert [e["kind"] for e in shown["events"]] == [
        "created", "assigned", "public_reply", "reply_delivery", "status_changed", "status_changed",
    ]  # fmt: skip
    assert [t["id"] for t in get(stage, ws, "/tickets?status=closed")[1]["tickets"]] == [tid]
    assert [(t["id"], t["status"]) for t in get(stage, ws, f"/customers/{cid}/tickets")[1]["tickets"]] == [
        (tid, "closed")
    ]


def test_unknown_tickets_customers_and_values_are_refused_in_the_error_shape(stage, ws, jane):
    # When a ticket names an unknown customer, a queue an unknown status, a change an unknown ticket
    unknown_customer = post(
        stage, ws, "/tickets", {"customer_id": "c_none", "subject": "x", "kind": "complaint"}
    )
    bad_kind = post(stage, ws, "/tickets", {"customer_id": jane["cid"], "subject": "x", "kind": "rant"})
    bad_status = get(stage, ws, "/tickets?status=done")
    unknown_ticket = post(stage, ws, "/tickets/tk_none/events", {"type": "note", "body": "x"})
    # And when a ticket names an order not hers, or a line not in her order: 409 with the reason
    order_id, _ = jane_order(stage, ws, jane["cid"])
    about = {"customer_id": jane["cid"], "subject": "x", "kind": "order_issue"}
    not_hers = post(stage, ws, "/tickets", about | {"order_id": "shop.999"})
    no_such_line = post(stage, ws, "/tickets", about | {"order_id": order_id, "line_ids": ["nope"]})
    assert (not_hers[0], not_hers[1]["details"]) == (409, {"reason": "not_the_customers_order"})
    assert (no_such_line[0], no_such_line[1]["details"]) == (409, {"reason": "unknown_line"})
    # Then 404, 400, 400, 404, each in the one error shape
    assert [(s, b["error"]) for s, b in (unknown_customer, bad_kind, bad_status, unknown_ticket)] == [
        (404, "not_found"), (400, "bad_request"), (400, "bad_request"), (404, "not_found"),
    ]  # fmt: skip


def test_the_cli_twins_open_list_reply_note_and_solve_a_ticket(stage, ws, jane, cli_on):
    from tests.cli_runs import run

    cid, w = jane["cid"], ws.workspace_id
    # When the CLI opens a complaint for Jane, replies, notes and solves it
    made = run(
        "tickets", "create", cid, "Broken zip", "--kind", "complaint", "--tag", "Zip", "--json", "-w", w
    )
    assert made.exit_code == 0, made.output
    tid = json.loads(made.output)["id"]
    for args in (("reply", tid, "Sorry!"), ("note", tid, "sent a new one"), ("status", tid, "solved")):
        done = run("tickets", *args, "-w", w)
        assert done.exit_code == 0, done.output
    # Then its log holds each change by `cli`, it sits in the solved queue, and on Jane's tickets
    shown = json.loads(run("tickets", "show", tid, "--json", "-w", w).output)
    assert [(e["kind"], e["by"]) for e in shown["events"]] == [
        ("created", "cli"), ("public_reply", "cli"), ("reply_delivery", "patron"), ("internal_note", "cli"),
        ("status_changed", "cli"),
    ]  # fmt: skip
    assert (shown["channel"], shown["tags"]) == ("cli", ["zip"])
    solved = json.loads(run("tickets", "list", "--status", "solved", "--json", "-w", w).output)
    assert [t["id"] for t in solved["tickets"]] == [tid]
    hers = json.loads(run("tickets", "list", "--customer", cid, "--json", "-w", w).output)
    assert [t["status"] for t in hers["tickets"]] == ["solved"]
    # And a change the ticket refuses exits non-zero, with the reason
    again = run("tickets", "status", tid, "solved", "-w", w)
    assert again.exit_code != 0


def test_erasing_the_customer_erases_their_tickets_free_text(stage, ws, jane):
    cid = jane["cid"]
    # Given a ticket of Jane's with a message, a reply and a note
    made = post(
        stage,
        ws,
        "/tickets",
        {"customer_id": cid, "subject": "My address", "kind": "pre_sale", "body": "12 Elm St"},
    )[1]
    post(stage, ws, f"/tickets/{made['id']}/events", {"type": "reply", "body": "Dear Jane"})
    post(stage, ws, f"/tickets/{made['id']}/events", {"type": "note", "body": "Jane called"})
    # When she is erased
    answer = stage.http.http.delete(f"/customers/{cid}", headers={"Authorization": f"Bearer {ws.api_key}"})
    assert answer.status_code == 202
    stage.drain()
    # Then the ticket keeps its events (who, when, what) without subject or bodies, and is not hers any more
    status, shown = get(stage, ws, f"/tickets/{made['id']}")
    assert status == 200
    assert shown["subject"] == ""
    assert [(e["kind"], sorted(e["data"])) for e in shown["events"]] == [
        (
            "created",
            ["assignee", "channel", "customer_id", "kind", "line_ids", "order_id", "priority", "tags"],
        ),
        ("public_reply", ["delivery"]),
        ("reply_delivery", ["channel", "delivery", "reason", "reply_seq"]),
        ("internal_note", []),
    ]
    assert "Jane" not in json.dumps(shown) and "Elm" not in json.dumps(shown)
    assert stage.container.ticket_store.of_customer(ws.workspace_id, cid, 10, None) == ([], None)


def test_the_tickets_events_are_on_the_customers_timeline(stage, ws, jane):
    cid = jane["cid"]
    # Given a ticket of Jane's, replied to
    made = post(stage, ws, "/tickets", {"customer_id": cid, "subject": "Gift wrap?", "kind": "pre_sale"})[1]
    post(stage, ws, f"/tickets/{made['id']}/events", {"type": "reply", "body": "Yes"})
    # When her profile is read
    status, shown = get(stage, ws, f"/customers/{cid}")
    # Then her timeline holds the ticket's events (the reply's delivery too), newest first, beside her order
    assert status == 200
    tickets = [(e["type"], e["ticket_id"]) for e in shown["timeline"] if e.get("ticket_id")]
    tid = made["id"]
    assert tickets == [("ticket_public_reply", tid), ("ticket_reply_delivery", tid), ("ticket_created", tid)]
    assert any(e["type"] == "order_placed" for e in shown["timeline"])


def test_a_ticket_finds_its_customer_by_email_or_phone_as_orders_do(stage, ws, jane):
    # When tickets name Jane by her email (any case), her phone (international, any spacing), an unknown email
    about = {"subject": "Hello", "kind": "suggestion"}
    by_email = post(stage, ws, "/tickets", about | {"email": " Jane.Doe@Example.com"})
    by_phone = post(stage, ws, "/tickets", about | {"phone": "+1 (212) 555-0147"})
    stranger = post(stage, ws, "/tickets", about | {"email": "nobody@example.com"})
    nobody = post(stage, ws, "/tickets", about)
    # Then the first two are hers, the unknown email a new profile's (a guest), no customer at all is 400
    assert (by_email[0], by_email[1]["customer_id"]) == (201, jane["cid"])
    assert (by_phone[0], by_phone[1]["customer_id"]) == (201, jane["cid"])
    assert (stranger[0], nobody[0]) == (201, 400)
    assert stranger[1]["customer_id"] not in (jane["cid"], None)
