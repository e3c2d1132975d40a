"""The open-complaint guardrail through a campaign on moto: a subscribed customer with an
open complaint is dropped from the bulk send and counted as `open_complaint` in the
campaign's stats; one whose complaint is solved gets it (docs/service.md)."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.domain.service.facts import TicketFact
from patron.bench.campaign import START, bulk_destinations, customer, put_customers
from tests.integration.test_campaigns import create, post, progress, world

__all__ = ["world"]


def test_a_campaign_skips_the_customer_with_an_open_complaint_and_counts_it(world):
    stage, ws, _ = world
    # Given three subscribed customers: one with an open complaint, one whose complaint is solved
    people = [customer(n) for n in range(3)]
    put_customers(stage, ws.workspace_id, people)
    opened = START - timedelta(days=1)
    facts = stage.container.ticket_fact_store
    facts.put(TicketFact(ws.workspace_id, people[0]["cid"], "tk_a", 1, True, True, opened))
    facts.put(TicketFact(ws.workspace_id, people[1]["cid"], "tk_b", 4, False, True, opened))
    # When a campaign is created, started and its batch sent (every message delivered twice)
    campaign_id = create(stage, ws)
    assert post(stage, ws, f"/campaigns/{campaign_id}/start").status_code == 200
    stage.container.campaigns.dispatch()
    stage.drain_campaigns()
    # Then SES got the two others, once each
    assert sorted(d["to"] for d in bulk_destinations(stage)) == sorted(p["e"] for p in people[1:])
    # And the campaign counts the drop as an open complaint
    view = progress(stage, ws, campaign_id)
    assert (view["sent"], view["dropped"]) == (2, 1)
    assert view["stats"]["open_complaint"] == 1 and view["variant_stats"]["a"]["open_complaint"] == 1
