"""The pipeline's ports (domain/sales/service.py; docs/data-model.md, "Sales pipeline")."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry
from chalicelib.domain.sales.model import Opportunity, OpportunityEvent
from chalicelib.domain.sales.settings import SalesSettings


class OpportunityStore(Protocol):
    """Opportunities and their append-only logs. Each write is one transaction; an append
    is conditioned on the head's `seq` it was checked against."""

    def create(self, opportunity: Opportunity, event: OpportunityEvent, guard: str | None = None) -> bool:
        """The head and its `created` event, and, with `guard` (a source key: `ticket:<id>`,
        `rule:<id>:checkout:<id>`, `rule:<id>:customer:<id>`), the guard naming it, only
        while no guard of that key is there: False when it is (nothing written)."""
        ...

    def guarded(self, workspace_id: str, guard: str) -> str | None:
        """The opportunity id a guard names, or None."""
        ...

    def append(
        self,
        before: Opportunity,
        events: list[OpportunityEvent],
        after: Opportunity,
        release: str | None = None,
        wait: bool | None = None,
    ) -> bool:
        """Append the events and set the head to `after`, only while the head is still at
        `before.seq`: False when another append came first. `release` deletes that guard
        (an opportunity a rule opened is closed: the rule may open another); `wait` True
        puts the customer's won-awaiting-an-order mark, False deletes it."""
        ...

    def load(
        self, workspace_id: str, opportunity_id: str
    ) -> tuple[Opportunity, list[OpportunityEvent]] | None:
        """The opportunity and its events, oldest first; None when there is none."""
        ...

    def all(self, workspace_id: str) -> list[Opportunity]:
        """The workspace's opportunities (their heads), newest first."""
        ...

    def waiting(self, workspace_id: str, customer_id: str) -> list[str]:
        """The ids of the customer's won opportunities awaiting their first order."""
        ...


class SalesSettingsStore(Protocol):
    def sales_settings(self, workspace_id: str, fresh: bool = False) -> SalesSettings:
        """The workspace's settings (the defaults, version None, when it set none); cached
        a short while unless `fresh` (read before a write)."""
        ...

    def save_sales_settings(self, workspace_id: str, settings: SalesSettings) -> None:
        """Write them over the version they were read at (Conflict when it moved)."""
        ...


class CustomerResolver(Protocol):
    """A customer by id (merges followed) or by email or phone, as tickets resolve them."""

    def resolve(
        self,
        workspace_id: str,
        customer_id: str | None,
        email: str | None,
        phone: str | None,
        at: datetime,
    ) -> str:
        """The surviving profile's id; a guest no profile holds becomes one (as of `at`)."""
        ...


class CustomerOrders(Protocol):
    """The profile (merges followed) and its moved order entries (domain/order_entries.py)."""

    def load(self, workspace_id: str, customer_id: str) -> CustomerProfile | None: ...

    def moved_entries(
        self, workspace_id: str, customer_ids: list[str], keys: list[str] | None = None
    ) -> dict[str, OrderEntry]: ...
