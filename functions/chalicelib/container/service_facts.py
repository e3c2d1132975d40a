"""The ticket facts of the composition root: a customer's tickets as segments, flows and the
marketing guardrail see them (docs/service.md#ticket-facts-in-segments-flows-and-campaigns).
Split from `__init__.py` (full); `Container` inherits them."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.container.adapters import Adapters

if TYPE_CHECKING:
    from chalicelib.adapters.ticket_facts import DynamoTicketFacts
    from chalicelib.domain.service.facts import TicketFacts


class TicketFactsServices(Adapters):
    @cached_property
    def ticket_fact_store(self) -> DynamoTicketFacts:
        from chalicelib.adapters.ticket_facts import DynamoTicketFacts

        return DynamoTicketFacts(self.crm)

    @cached_property
    def ticket_facts(self) -> TicketFacts:
        """Kept from the CRM stream's ticket heads (handlers/streams.py); read by segments,
        flows and the open-complaint guardrail."""
        from chalicelib.domain.service.facts import TicketFacts

        return TicketFacts(self.ticket_fact_store)
