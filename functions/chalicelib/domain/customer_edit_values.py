"""The value types of a customer's edits: a note, a change and the audit entry that records
a request's changes (docs/data-model.md, "Editing a customer")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from chalicelib.domain.errors import Conflict

MAX_TAGS = 100  # Patron's tags a customer holds at most


@dataclass(frozen=True)
class Note:
    """A free-text note about a customer, kept next to their profile."""

    id: str  # `n_` + creation time (YYYYMMDDHHMMSSffffff) + 6 hex digits: sorts oldest first
    text: str
    created_at: str  # ISO UTC text
    created_by: str  # `cli`, or `key:` and the first 12 hex digits of the API key's SHA-256
    updated_at: str | None = None
    updated_by: str | None = None


@dataclass(frozen=True)
class Change:
    """One field's change: `tags` (sorted lists), `email_consent`/`sms_consent` (states, None:
    none reported), `note:<id>` (texts, None: no note)."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class CustomerAudit:
    """One request's changes to a customer: who, when, what (old and new)."""

    workspace_id: str
    customer_id: str
    at: str  # ISO UTC text
    ref: str  # 6 hex digits: two edits in the same microsecond stay apart
    by: str
    changes: tuple[Change, ...]


class EditRefused(Conflict):
    """A business rule refuses the edit (409 with its `reason`)."""

    code = "edit_refused"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, {"reason": reason})
        self.reason = reason


class TooManyTags(EditRefused):
    def __init__(self) -> None:
        super().__init__(f"a customer holds at most {MAX_TAGS} tags", "too_many_tags")


class NewerConsent(EditRefused):
    def __init__(self) -> None:
        super().__init__("the customer's consent was reported after this edit", "newer_consent")


class NoteView(BaseModel):
    id: str
    text: str
    created_at: str
    created_by: str
    updated_at: str | None = None
    updated_by: str | None = None

    @classmethod
    def of(cls, note: Note) -> NoteView:
        return cls(**note.__dict__)
