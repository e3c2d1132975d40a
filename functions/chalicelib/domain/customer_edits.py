"""Editing a customer through the API or the CLI: Patron's tags, notes and the consent an
operator sets, each request audited (who, when, each change's old and new value).

Every write is atomic or conditional (`CustomerEditStore`): tags are added and deleted as
sets, notes are items of their own, consent is set on its channel with the latest report
winning. Two consoles editing at once keep each other's changes. The consent is written
where the storefront's reports and Patron's withdrawals are, so sends, exports and
segments read it as they read those (docs/data-model.md, "Editing a customer").
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from chalicelib.domain import timemath
from chalicelib.domain.customer_edit_values import (
    MAX_TAGS,
    Change,
    CustomerAudit,
    EditRefused,
    Note,
    NoteView,
)
from chalicelib.domain.customer_profile import ChannelConsent, CustomerProfile
from chalicelib.domain.customers import CustomerDetail
from chalicelib.domain.edits.ports import CustomerEditStore
from chalicelib.domain.enrolment import Actor
from chalicelib.domain.errors import NotFound
from chalicelib.domain.ports import ConsentLists, ProfileReader

OPERATOR = "operator"  # the consent's `src`: set by an operator (docs/data-model.md)
NOTE_ID = r"^n_[0-9]{20}[0-9a-f]{6}$"
RESOLVE_TRIES = 3  # a profile merged away between its read and the write: resolved again


def normalize_tag(value: str) -> str:
    """Trimmed, inner spaces collapsed to one, lower case: `VIP  Gold ` is `vip gold`."""
    return " ".join(value.split()).lower()


Tag = Annotated[
    Annotated[str, StringConstraints(max_length=200)],
    AfterValidator(normalize_tag),
    StringConstraints(min_length=1, max_length=40),
]
NoteText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class EditableConsent(StrEnum):
    """The states an operator may set (the consent model's, less `pending` and `unknown`)."""

    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    NOT_SUBSCRIBED = "not_subscribed"


class ConsentEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EditableConsent | None = None
    sms: EditableConsent | None = None


class NoteEdit(BaseModel):
    """A note edited by its id: its new text, or `null` to delete it."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, StringConstraints(pattern=NOTE_ID)]
    text: NoteText | None


class CustomerEditIn(BaseModel):
    """`PATCH /customers/{id}`: any of Patron's tags to add or remove, a note to append,
    notes edited or deleted by id, the consent of each channel."""

    model_config = ConfigDict(extra="forbid")

    tags_add: list[Tag] = Field(default_factory=list, max_length=20)
    tags_remove: list[Tag] = Field(default_factory=list, max_length=20)
    note: NoteText | None = None
    notes: list[NoteEdit] = Field(default_factory=list, max_length=20)
    consent: ConsentEdit | None = None

    @model_validator(mode="after")
    def _one_change_each(self) -> CustomerEditIn:
        if not (self.tags_add or self.tags_remove or self.note or self.notes or self._consents()):
            raise ValueError("nothing to change")
        if set(self.tags_add) & set(self.tags_remove):
            raise ValueError("a tag is both added and removed")
        if len({n.id for n in self.notes}) != len(self.notes):
            raise ValueError("a note is edited twice")
        return self

    def _consents(self) -> dict[str, EditableConsent]:
        found = self.consent
        if found is None:
            return {}
        return {ch: state for ch, state in (("email", found.email), ("sms", found.sms)) if state is not None}


class ChangeView(BaseModel):
    field: str  # tags, email_consent, sms_consent, note:<id>
    old: Any
    new: Any


class AuditEntryView(BaseModel):
    at: str
    by: str
    changes: list[ChangeView]

    @classmethod
    def of(cls, audit: CustomerAudit) -> AuditEntryView:
        return cls(
            at=audit.at,
            by=audit.by,
            changes=[ChangeView(field=c.field, old=c.old, new=c.new) for c in audit.changes],
        )


class CustomerEditOut(BaseModel):
    """The edit's answer: the customer's tags now, and what changed (empty: nothing did)."""

    customer_id: str
    tags: list[str]
    edit: AuditEntryView


class CustomerAuditPage(BaseModel):
    customer_id: str
    entries: list[AuditEntryView]
    next_cursor: str | None


def _hex() -> str:
    return secrets.token_hex(3)


class CustomerEdits:
    def __init__(
        self,
        profiles: ProfileReader,
        store: CustomerEditStore,
        lists: ConsentLists | None = None,
        random_hex: Callable[[], str] = _hex,
    ) -> None:
        self.profiles = profiles
        self.store = store
        self.lists = lists  # opt-outs and suppressions: a subscription they would block is refused
        self.random_hex = random_hex  # 6 hex digits: note ids and audit entries

    def _may_subscribe(self, workspace_id: str, profile: CustomerProfile, body: CustomerEditIn) -> None:
        """409 when an operator subscribes a channel that the customer's own unsubscribe
        through Patron (`opted_out`) or a bounce or complaint (`suppressed`) still blocks:
        the consent would show on the profile while no message could go."""
        if self.lists is None:
            return
        ids = [profile.customer_id, *(profile.merged_ids or [])]
        for channel, state in body._consents().items():
            if state is not EditableConsent.SUBSCRIBED:
                continue
            address = profile.address(channel)
            opted, suppressed = self.lists.listed(workspace_id, channel, ids, [address] if address else [])
            if opted:
                raise EditRefused(f"the customer unsubscribed from {channel} through Patron", "opted_out")
            if suppressed:
                raise EditRefused(f"the customer's {channel} address is suppressed", "suppressed")

    def _profile(self, workspace_id: str, customer_id: str) -> CustomerProfile:
        profile = self.profiles.load(workspace_id, customer_id)
        if profile is None:
            raise NotFound("customer not found")
        return profile

    def edit(
        self, workspace_id: str, customer_id: str, body: CustomerEditIn, actor: Actor, now: datetime
    ) -> CustomerEditOut:
        """Apply the edit; one audit entry records what changed (none when nothing did)."""
        at = timemath.iso(now) or ""
        for _ in range(RESOLVE_TRIES):
            profile = self._profile(workspace_id, customer_id)
            self._may_subscribe(workspace_id, profile, body)
            done = self._profile_changes(workspace_id, profile, body, at)
            if done is not None:
                break
        else:
            raise NotFound("customer not found")
        tags, changes = done
        cid = profile.customer_id
        missing: list[str] = []
        changes += self._note_changes(workspace_id, cid, body, at, actor.by, missing)
        audit = CustomerAudit(workspace_id, cid, at, self.random_hex(), actor.by, tuple(changes))
        if changes:
            self.store.record(audit)  # what was done is audited, even when a note was missing
        if missing:
            raise NotFound("no such note", {"notes": missing})
        return CustomerEditOut(customer_id=cid, tags=sorted(tags), edit=AuditEntryView.of(audit))

    def _profile_changes(
        self, ws: str, profile: CustomerProfile, body: CustomerEditIn, at: str
    ) -> tuple[set[str], list[Change]] | None:
        """The profile's own edits (tags, consent); None when it was merged away meanwhile."""
        cid, changes, tags = profile.customer_id, [], set(profile.tags)
        old_tags: set[str] | None = None
        if body.tags_add:
            done = self.store.add_tags(ws, cid, set(body.tags_add), MAX_TAGS)
            if done is None:
                return None
            old_tags, tags = done
        if body.tags_remove:
            done = self.store.remove_tags(ws, cid, set(body.tags_remove))
            if done is None:
                return None
            old_tags = done[0] if old_tags is None else old_tags
            tags = done[1]
        if old_tags is not None and old_tags != tags:
            changes.append(Change("tags", sorted(old_tags), sorted(tags)))
        wanted = {ch: ChannelConsent(state.value, at, OPERATOR) for ch, state in body._consents().items()}
        if wanted:
            old = self.store.set_consent(ws, cid, wanted)
            if old is None:
                return None
            for ch, new in wanted.items():
                before = old.get(ch)
                if before is None or before.state != new.state:
                    changes.append(Change(f"{ch}_consent", before.state if before else None, new.state))
        return tags, changes

    def _note_changes(
        self, ws: str, cid: str, body: CustomerEditIn, at: str, by: str, missing: list[str]
    ) -> list[Change]:
        changes: list[Change] = []
        for edit in body.notes:
            if edit.text is None:
                old = self.store.delete_note(ws, cid, edit.id)
            else:
                old = self.store.edit_note(ws, cid, edit.id, edit.text, at, by)
            if old is None:
                missing.append(edit.id)
            elif old != edit.text:
                changes.append(Change(f"note:{edit.id}", old, edit.text))
        if body.note:
            stamp = at.replace("-", "").replace(":", "").replace("T", "").replace(".", "").rstrip("Z")
            note = Note(f"n_{stamp}{self.random_hex()}", body.note, at, by)
            self.store.add_note(ws, cid, note)
            changes.append(Change(f"note:{note.id}", None, note.text))
        return changes

    def with_notes(self, workspace_id: str, detail: CustomerDetail) -> CustomerDetail:
        """`GET /customers/{id}` with the profile's notes and those of the profiles merged
        into it, oldest first."""
        ids = [detail.customer_id, *detail.merged_from]
        return detail.model_copy(
            update={"notes": [NoteView.of(n) for n in self.store.notes(workspace_id, ids)]}
        )

    def audit(self, workspace_id: str, customer_id: str, limit: int, cursor: str | None) -> CustomerAuditPage:
        cid = self._profile(workspace_id, customer_id).customer_id
        entries, after = self.store.audit_page(workspace_id, cid, limit, cursor)
        return CustomerAuditPage(
            customer_id=cid, entries=[AuditEntryView.of(e) for e in entries], next_cursor=after
        )
