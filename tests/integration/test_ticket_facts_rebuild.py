"""`patron tickets facts-rebuild` on the stage (moto): a customer whose complaint was written
before the facts existed (its facts item absent) gets the facts from the ticket queues, and
enters the segment that reads them; a second run writes nothing (docs/service.md)."""

from __future__ import annotations

import json

from chalicelib.domain.models import now_utc
from tests.cli_runs import run
from tests.integration.test_consent import jane
from tests.integration.test_membership import create_segment
from tests.integration.test_ticket_facts_stream import count_fact_writes, segments_of
from tests.integration.test_tickets_api import post

__all__ = ["jane"]


def test_the_rebuild_writes_the_facts_of_tickets_from_before_them_once(stage, ws, jane, cli_on):
    cid, w = jane["cid"], ws.workspace_id
    upset = create_segment(stage, ws, "Open complaint", "open_complaints > 0")
    # Given Jane's open complaint and a solved question, then her facts item gone (as before
    # the facts existed) and her memberships evaluated without it
    complaint = post(stage, ws, "/tickets", {"customer_id": cid, "subject": "Broken", "kind": "complaint"})[1]
    question = post(stage, ws, "/tickets", {"customer_id": cid, "subject": "Size?", "kind": "pre_sale"})[1]
    post(stage, ws, f"/tickets/{question['id']}/events", {"type": "status", "to": "solved"})
    stage.drain()
    crm = stage.container.crm
    crm.client.delete_item(TableName=crm.table, Key={"pk": {"S": f"W#{w}#TF#{cid}"}, "sk": {"S": "F"}})
    stage.container.membership.on_ticket_change(w, cid, now_utc())
    assert upset not in segments_of(stage, ws, cid)
    writes = count_fact_writes(stage)
    # When the rebuild runs, then again
    first = run("tickets", "facts-rebuild", "-w", w, "--json")
    second = run("tickets", "facts-rebuild", "-w", w, "--json")
    # Then both tickets got their facts (the first run only), and Jane is back in the segment
    assert (first.exit_code, second.exit_code) == (0, 0), first.output
    done, again = json.loads(first.output), json.loads(second.output)
    assert (done["tickets_read"], done["facts_written"], done["customers_reevaluated"]) == (2, 2, 1)
    assert (again["tickets_read"], again["facts_written"], again["next_cursor"]) == (2, 0, None)
    summary = stage.container.ticket_facts.summary(w, cid, [], now_utc())
    assert (summary.open_tickets, summary.open_complaints) == (1, 1)
    assert upset in segments_of(stage, ws, cid)
    assert complaint["id"] in {f.ticket_id for f in stage.container.ticket_fact_store.of_customers(w, [cid])}
    # And the writes were conditional: the first an update refused for want of the item, then
    # the item's put, the second ticket's update; the second run's two updates refused
    assert writes == ["UpdateItem", "PutItem", "UpdateItem", "UpdateItem", "UpdateItem"]
