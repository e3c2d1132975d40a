"""The profile model: how one customer's profile changes, its identities and order entries.

A profile keeps one entry per recent order (version, time, counted flag, converted
amounts, products), at most RECENT_ORDERS of them; older entries move to their own
items, and what they add up to stays in the profile as a summary
(chalicelib.domain.order_entries). The service that applies records to profiles is
chalicelib.domain.profiles.ProfileService. A `Profile` is the writer's view of a
`CustomerProfile` (its `state`); how that is stored is the adapters' business.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain import enrolment, order_entries, timemath
from chalicelib.domain.customer_profile import ChannelConsent, CustomerProfile, OrderEntry
from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.models import Consent, ConsentState, Person
from chalicelib.domain.order_snapshot import OrderSnapshot
from chalicelib.domain.workspace_settings import WorkspaceSettings

# Order entries kept in the profile item; older ones move to their own items. A profile
# stays near 2 KB however many orders the customer places (docs/data-model.md).
RECENT_ORDERS = 8


@dataclass
class Profile:
    state: CustomerProfile
    rev: int = 0
    # Recent entry keys as stored (only those may move out: their moved item is shadowed
    # by the recent entry until the profile write commits), keys this write must keep
    # recent, and whether the moved entries' summary must be rebuilt from their items.
    committed: frozenset[str] = frozenset()
    pinned: set[str] = field(default_factory=set)
    rebuild: bool = False

    @property
    def workspace_id(self) -> str:
        return self.state.workspace_id

    @property
    def customer_id(self) -> str:
        return self.state.customer_id

    @property
    def created_at(self) -> str:
        return self.state.created_at or ""

    @classmethod
    def new(cls, workspace_id: str, customer_id: str, at: datetime) -> Profile:
        return cls(CustomerProfile(workspace_id, customer_id, created_at=timemath.iso(at) or ""))

    @classmethod
    def load(cls, state: CustomerProfile) -> Profile:
        return cls(state, state.rev or 0, frozenset(state.orders))

    # -- identity -----------------------------------------------------------------
    def identity_keys(self) -> set[str]:
        return self.state.identity_keys()

    def absorb(self, person: Person, at: datetime | None) -> list[str]:
        """Take identities, names, membership and consent from a record.

        Returns the identity keys this profile did not have before.
        """
        s = self.state
        stamp = timemath.iso(at) or ""
        before = self.identity_keys()
        newer = stamp >= (s.person_at or "")
        for values, value in (
            (s.emails, person.email),
            (s.phones, person.phone),
            (s.external_ids, person.ext),
        ):
            if value:
                values.add(value)
        if newer:
            s.person_at = stamp
            for name, value in (
                ("email", person.email),
                ("phone", person.phone),
                ("first_name", person.first_name),
                ("last_name", person.last_name),
                ("birthday", person.birthday),
                ("timezone", person.timezone),
            ):
                if value:
                    setattr(s, name, value)
        if s.email is None and person.email:
            s.email = person.email
        if s.phone is None and person.phone:
            s.phone = person.phone
        if person.phone_invalid and (newer or not s.phone_as_written):
            s.phone_as_written = person.phone_invalid  # kept as written and flagged; never a key nor a target
        elif person.phone and newer:
            s.phone_as_written = None
        if person.is_member:
            s.member = True
        elif s.member is None:
            s.member = False
        for channel, consent in (("email", person.email_consent), ("sms", person.sms_consent)):
            if consent is not None:
                self._consent(channel, consent, stamp)
        return sorted(self.identity_keys() - before)

    def _consent(self, channel: str, consent: Consent, fallback_at: str) -> None:
        """The latest report wins, except over a withdrawal Patron recorded (an
        unsubscribe, STOP, bounce or complaint): that gives way only to a report with a
        consent time of its own (not the record's time) after it."""
        own = None if consent.record_time else timemath.iso(consent.updated_at)
        at = timemath.iso(consent.updated_at) or fallback_at
        current = self.state.consent(channel)
        if consent.state is ConsentState.UNKNOWN:
            return
        if current is not None and current.withdrawn_by and (own is None or own <= current.at):
            return
        if current is None or at >= current.at:
            reported = ChannelConsent(consent.state.value, at)
            if channel == "email":
                self.state.email_consent = reported
            else:
                self.state.sms_consent = reported

    # -- orders -------------------------------------------------------------------
    def order_version(self, key: str) -> int:
        entry = self.state.orders.get(key)
        return entry.version if entry else -1

    def set_order(self, key: str, snap: OrderSnapshot, ws: WorkspaceSettings) -> None:
        """Record one order version. Entries are compact: a profile stays near 1 KB.

        Its time, whether it counts (not when cancelled, or only a refund seen so far),
        amount and refunds in the workspace currency, the original currency and amounts
        when they differ, its channel, products and categories, and the products its
        refunds took back.
        """
        entry = OrderEntry(snap.version, counted=snap.counted)
        if snap.created_at:
            entry.placed_at = int(snap.created_at.timestamp())
        if snap.counted and snap.titles:
            entry.title = snap.titles[0]  # `last_product` is derived from the entries
        if snap.is_order:
            if snap.channel and snap.channel != "web":
                entry.channel = snap.channel
            if snap.currency and snap.currency != ws.currency:
                entry.currency = snap.currency
                entry.original_amount = snap.total
                if snap.refunded:
                    entry.original_refunded = snap.refunded
            total = ws.convert(snap.total, snap.currency)
            refunded = ws.convert(snap.refunded, snap.currency)
            if total is not None and refunded is not None:
                entry.amount = total
                if refunded:
                    entry.refunded = refunded
            if snap.products:
                entry.products = list(snap.products)
            if snap.categories:
                entry.categories = list(snap.categories)
            if snap.counted and snap.refunded_products:
                entry.refunded_products = list(snap.refunded_products)
            if snap.products and snap.item_count < len(snap.products):
                entry.item_count = snap.item_count
        self.state.orders[key] = entry

    def merge_from(self, other: Profile) -> None:
        """Fold another profile of the same person into this one.

        Its recent entries join this one's (they move out on later writes); its moved
        entries stay in its partition, listed through `merged_ids`, and the summary is
        rebuilt.
        """
        mine, theirs = self.state, deepcopy(other.state)
        for key, entry in theirs.orders.items():
            if key not in mine.orders or mine.orders[key].version < entry.version:
                mine.orders[key] = entry
        if mine.moved is not None or theirs.moved is not None:
            self.rebuild = True
        mine.emails |= theirs.emails
        mine.phones |= theirs.phones
        mine.external_ids |= theirs.external_ids
        mine.tags |= theirs.tags  # Patron's tags: both profiles' (customer_edits)
        if theirs.member:
            mine.member = True
        mine.enrolment = enrolment.join(mine.enrolment, theirs.enrolment)
        if (theirs.person_at or "") > (mine.person_at or ""):
            for name in ("email", "phone", "first_name", "last_name", "person_at"):
                if getattr(theirs, name):
                    setattr(mine, name, getattr(theirs, name))
        for name in ("email", "phone", "phone_as_written", "first_name", "last_name"):
            if not getattr(mine, name) and getattr(theirs, name):
                setattr(mine, name, getattr(theirs, name))
        latest = theirs.latest_titles
        if latest is not None and (
            mine.latest_titles is None or latest.placed_at > mine.latest_titles.placed_at
        ):
            mine.latest_titles = latest
        for channel in ("email", "sms"):
            ours, its = mine.consent(channel), theirs.consent(channel)
            if its is not None and (ours is None or its.at > ours.at):
                if channel == "email":
                    mine.email_consent = its
                else:
                    mine.sms_consent = its
        mine.merged_ids = [*(mine.merged_ids or ()), other.customer_id, *(theirs.merged_ids or ())]
        if theirs.created_at and theirs.created_at < (
            mine.created_at if mine.created_at is not None else "~"
        ):
            mine.created_at = theirs.created_at

    def rebuild_moved(self, moved: dict[str, OrderEntry]) -> None:
        """Rebuild the moved entries' summary from their items (all of them, as read).

        A moved entry that is also recent is shadowed by it, unless the moved one is newer
        (a merge can bring an older copy of an order): then the recent one becomes it.
        """
        recent = self.state.orders
        for key, entry in moved.items():
            if key in recent and recent[key].version < entry.version:
                recent[key] = entry
        self._set_moved(order_entries.summarize({k: e for k, e in moved.items() if k not in recent}))
        self.rebuild = False

    def move_out(self, limit: int | None = None) -> list[tuple[str, OrderEntry]]:
        """Move the oldest recent entries beyond `limit` out, into the summary.

        Only entries held as recent when the profile was read may move (their items are
        written before the profile, and the recent entry shadows them until it commits),
        never a pinned one.
        """
        recent = self.state.orders
        excess = len(recent) - (RECENT_ORDERS if limit is None else limit)
        if excess <= 0:
            return []
        movable = sorted(
            (k for k in recent if k in self.committed and k not in self.pinned),
            key=lambda k: (recent[k].placed_at or 0, k),
        )[:excess]
        if not movable:
            return []
        out = [(k, recent.pop(k)) for k in movable]
        summary = self.state.moved or order_entries.Summary()
        self._set_moved(summary.combine(order_entries.summarize(dict(out))))
        return out

    def _set_moved(self, summary: order_entries.Summary) -> None:
        """A summary of no entry is no summary (nothing stored)."""
        self.state.moved = summary if summary.entries else None

    def recompute(self, ws: WorkspaceSettings) -> None:
        """Derive every aggregate from the moved entries' summary and the recent entries."""
        s = self.state
        summary = order_entries.of_profile(s)
        s.figures = order_entries.aggregates(summary, ws.currency)
        s.figures.sources = summary.sources | (s.erased_sources or set()) or None
        self._drop_superseded_titles()
        # Sparse index keys: the first phone and platform id are findable without pointers.
        phones, exts = sorted(s.phones), sorted(s.external_ids)
        if phones and s.indexed_phone is None:
            s.indexed_phone = s.phone or phones[0]
        if exts and s.indexed_external_id is None:
            s.indexed_external_id = exts[0]

    def _drop_superseded_titles(self) -> None:
        """An older release's `latest_titles` goes once an entry's title is as late, or once
        the order placed at its time is held with its title or no longer counts."""
        s, legacy = self.state, self.state.latest_titles
        if legacy is None:
            return
        found = s.latest_titled()
        held = [e for e in s.orders.values() if e.placed_at == legacy.placed_at]
        if (found is not None and found[0] >= legacy.placed_at) or any(
            e.title is not None or not e.counted for e in held
        ):
            s.latest_titles = None

    def indexed_keys(self, salt: str) -> set[str]:
        """Identity keys that find this profile without a pointer item."""
        found = set()
        for key in self.identity_keys():
            if customer_id_for(salt, key) == self.customer_id:
                found.add(key)
        if self.state.indexed_phone is not None:
            found.add("phone:" + self.state.indexed_phone)
        if self.state.indexed_external_id is not None:
            found.add("ext:" + self.state.indexed_external_id)
        return found
