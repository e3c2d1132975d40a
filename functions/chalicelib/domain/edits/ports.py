"""The port of a customer's edits: Patron's tags, notes, consent set by an operator, and
their audit (domain/customer_edits.py; docs/data-model.md, "Editing a customer")."""

from __future__ import annotations

from typing import Protocol

from chalicelib.domain.customer_edit_values import CustomerAudit, Note
from chalicelib.domain.customer_profile import ChannelConsent


class CustomerEditStore(Protocol):
    """Every write is atomic or conditional, never a read then a write: each returns what
    it replaced (for the audit) from the write itself. A profile write answers None when
    the id holds no live profile (gone, or merged away since it was resolved)."""

    def add_tags(
        self, workspace_id: str, customer_id: str, tags: set[str], most: int
    ) -> tuple[set[str], set[str]] | None:
        """Add to Patron's tags (old, new); `TooManyTags` when more than `most` would be held."""
        ...

    def remove_tags(
        self, workspace_id: str, customer_id: str, tags: set[str]
    ) -> tuple[set[str], set[str]] | None:
        """Take tags away (old, new); absent tags are no change."""
        ...

    def set_consent(
        self, workspace_id: str, customer_id: str, consents: dict[str, ChannelConsent]
    ) -> dict[str, ChannelConsent | None] | None:
        """Set the consent of each channel (`email`, `sms`), latest report wins: the old
        consents; `NewerConsent` when a channel holds a report later than the new one."""
        ...

    def add_note(self, workspace_id: str, customer_id: str, note: Note) -> None: ...

    def edit_note(
        self, workspace_id: str, customer_id: str, note_id: str, text: str, at: str, by: str
    ) -> str | None:
        """The note's old text; None when the customer has no such note."""
        ...

    def delete_note(self, workspace_id: str, customer_id: str, note_id: str) -> str | None:
        """The deleted note's text; None when the customer has no such note."""
        ...

    def notes(self, workspace_id: str, customer_ids: list[str]) -> list[Note]:
        """The notes under these ids (a profile's and those merged into it), oldest first."""
        ...

    def record(self, audit: CustomerAudit) -> None: ...

    def audit_page(
        self, workspace_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[CustomerAudit], str | None]:
        """A page of the customer's edits, newest first; the cursor continues after it."""
        ...
