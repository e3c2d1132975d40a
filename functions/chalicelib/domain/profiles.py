"""Customer profiles: identity resolution and exactly-once aggregates.

A profile keeps one entry per recent order (version, time, counted flag, converted
amounts, products), at most RECENT_ORDERS of them; older entries move to their own
items, and what they add up to stays in the profile as a summary
(chalicelib.domain.order_entries). Aggregates are derived from the summary and the
recent entries, never incremented, so applying the same stream record twice,
replaying an order or cancelling and refunding after payment all leave them exactly
right: an entry is only replaced by a newer version of the same order.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from chalicelib.domain import timemath
from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import customer_id_for, identity_keys, identity_kind
from chalicelib.domain.ingest_images import (
    CheckoutImage,
    CustomerImage,
    IngestChange,
    OrderImage,
    PrivacyRequestImage,
)
from chalicelib.domain.models import Person, now_utc
from chalicelib.domain.order_snapshot import OrderSnapshot, public_order_id
from chalicelib.domain.outcomes import ApplyResult
from chalicelib.domain.ports import PrivacyHandler, ProfileStore, WorkspaceReader
from chalicelib.domain.profile_links import IdentityPointer, MergeRecord
from chalicelib.domain.profile_model import (  # noqa: F401 - also read from here by the CLI and benches
    RECENT_ORDERS,
    Profile,
)
from chalicelib.domain.workspace_settings import WorkspaceSettings

MAX_ATTEMPTS = 8


class ProfileService:
    def __init__(
        self, store: ProfileStore, workspaces: WorkspaceReader, privacy: PrivacyHandler | None = None
    ) -> None:
        self.store = store
        self.workspaces = workspaces
        self.privacy = privacy

    def _settings(self, workspace_id: str) -> WorkspaceSettings:
        ws = self.workspaces.settings(workspace_id)
        if ws is None:
            raise LookupError(f"workspace {workspace_id} not found")
        return ws

    def apply_change(self, change: IngestChange) -> ApplyResult:
        """Apply one ingest-table change (a stream record's images, decoded)."""
        new = change.after  # None: deleted (deletions carry no purchase information), or no kind of ours
        if isinstance(new, OrderImage):
            return self.apply_order(change.order_before, new)
        if isinstance(new, CustomerImage):
            return self.apply_customer(new)
        if isinstance(new, PrivacyRequestImage) and self.privacy is not None:
            return self.privacy.handle(new)
        if isinstance(new, CheckoutImage) and self.privacy is not None:
            old = change.before if isinstance(change.before, CheckoutImage) else None
            return self.privacy.index_checkout(old, new)  # reachable by an erasure
        return ApplyResult(None, "skipped")

    def apply_order(self, old: OrderImage | None, new: OrderImage) -> ApplyResult:
        if new.redacted:
            return ApplyResult(None, "redacted")  # erased on request: never re-attributed
        snap = new.snapshot
        # The old image's identities belong to the same order, hence the same person.
        persons = [snap.person] + ([old.person] if old else [])
        keys = _keys(persons)
        if not keys:
            return ApplyResult(None, "no_identity")
        ws = self._settings(snap.workspace_id)
        if not ws.currency and snap.currency:  # created without one: the first order's
            ws = self.workspaces.adopt_currency(ws.workspace_id, snap.currency)
        key = public_order_id(snap.source_id, snap.order_id)
        at = new.updated_at or snap.created_at

        def change(profile: Profile) -> list[str] | None:
            profile.pinned.add(key)
            profile.state.imported = new.imported  # a history import's write: quiet triggers
            if key not in profile.state.orders and profile.state.moved is not None:
                return self._change_moved(profile, key, snap, ws, at)
            if profile.order_version(key) >= snap.version:
                return None
            before = copy.deepcopy(profile.state) if key in profile.state.orders else None
            profile.set_order(key, snap, ws)
            added = profile.absorb(snap.person, at) if snap.is_order else []
            if before is not None and not added and _moves_nothing(before, profile.state, key):
                return None  # a later state that moves no figure (fulfilled, tagged): no write
            return added

        return self._upsert(ws, keys, change, snap.created_at or now_utc(), made_at=snap.created_at)

    def _change_moved(
        self,
        profile: Profile,
        key: str,
        snap: OrderSnapshot,
        ws: WorkspaceSettings,
        at: datetime | None,
    ) -> list[str] | None:
        """An order not among the recent ones of a profile that has moved entries: it may be
        one of them."""
        partitions = profile.state.entry_partitions()
        moved = self.store.moved_entries(ws.workspace_id, partitions, [key]).get(key)
        if moved is not None and moved.version >= snap.version:
            return None
        before = copy.deepcopy(profile.state)
        profile.set_order(key, snap, ws)
        added = profile.absorb(snap.person, at) if snap.is_order else []
        if moved is None:
            return added  # a new order
        if _same_figures(moved, profile.state.orders[key]):
            # A later state that moves no figure: the entry stays moved, at its version.
            del profile.state.orders[key]
            return added if added or _without_stamp(before) != _without_stamp(profile.state) else None
        profile.rebuild = True  # it comes back to the recent ones; the summary is rebuilt without it
        return added

    def apply_customer(self, new: CustomerImage) -> ApplyResult:
        if new.redacted:
            return ApplyResult(None, "redacted")
        person = new.person
        keys = _keys([person])
        if not keys:
            return ApplyResult(None, "no_identity")
        ws = self._settings(new.workspace_id)
        at = new.updated_at

        def change(profile: Profile) -> list[str] | None:
            profile.state.imported = new.imported  # a history import's write: quiet triggers
            before = copy.deepcopy(profile.state)
            added = profile.absorb(person, at)
            if profile.state.erased_sources is None:
                profile.state.erased_sources = set()
            profile.state.erased_sources.add(new.source_id)
            return added if profile.state != before or added else None

        made_at = at or new.created_at
        return self._upsert(ws, keys, change, new.created_at or now_utc(), made_at=made_at)

    def _upsert(
        self,
        ws: WorkspaceSettings,
        keys: list[str],
        change: Callable[[Profile], list[str] | None],
        created_at: datetime,
        made_at: datetime | None = None,
    ) -> ApplyResult:
        """`made_at`: when the store made this data (an order's creation, a customer's last
        update); data made before the person was erased never makes a profile again."""
        for _ in range(MAX_ATTEMPTS):
            found = [Profile.load(p) for p in self.store.find_profiles(ws.workspace_id, ws.id_salt, keys)]
            merged: list[str] = []
            retired: list[tuple[CustomerProfile, int]] = []
            extra: list[IdentityPointer | MergeRecord] = []
            if not found and made_at is not None:
                # Only a new profile reads the marks (one read per new customer): an erased
                # person has no profile, so an order that finds one cannot be theirs.
                erased = self.store.erased_at(ws.workspace_id, [customer_id_for(ws.id_salt, k) for k in keys])
                if erased is not None and made_at <= erased:
                    return ApplyResult(None, "redacted")
            if not found:
                profile = Profile.new(ws.workspace_id, customer_id_for(ws.id_salt, keys[0]), created_at)
                expected: int | None = None
            else:
                found.sort(key=lambda p: (p.created_at, p.customer_id))
                profile, others = found[0], found[1:]
                expected = profile.rev
                for other in others:
                    profile.merge_from(other)
                    retired.append((other.state, other.rev))
                    merged.append(other.customer_id)
                    extra.append(_merge_record(profile, other, keys))
            added = change(profile)
            earlier = bool(found) and _began_earlier(profile, created_at)
            if added is None and not merged and not earlier:
                return ApplyResult(profile.customer_id, "already_applied")
            if profile.rebuild:
                profile.rebuild_moved(
                    self.store.moved_entries(ws.workspace_id, profile.state.entry_partitions())
                )
            moved_out = profile.move_out()
            profile.recompute(ws)
            indexed = profile.indexed_keys(ws.id_salt)
            # New identities that nothing finds yet get a pointer item (rare: a second email).
            # Identities of a retired profile stay findable through it: it becomes a pointer.
            pointer_keys = sorted(set(added or []) - indexed)
            for k in pointer_keys:
                pointer_id = customer_id_for(ws.id_salt, k)
                if pointer_id in merged:
                    continue  # the retired profile itself becomes the pointer
                extra.append(IdentityPointer(pointer_id, profile.customer_id, identity_kind(k)))
            profile.rev += 1
            profile.state.rev = profile.rev
            profile.state.updated_at = timemath.iso(now_utc())
            try:
                self.store.save(profile.state, expected, extra, retired, moved_out)
            except Conflict:
                continue
            return ApplyResult(profile.customer_id, "applied", merged)
        raise Conflict("profile kept changing under concurrent updates; retry the record")


def _began_earlier(profile: Profile, created_at: datetime) -> bool:
    """A profile began when the earliest of its records was made, whatever the order they
    are processed in (a merge keeps the older of two): True when this record moves it back."""
    stamp = timemath.iso(created_at) or ""
    created = profile.state.created_at
    if not stamp or stamp >= (created if created is not None else "~"):
        return False
    profile.state.created_at = stamp
    return True


def _moves_nothing(before: CustomerProfile, after: CustomerProfile, key: str) -> bool:
    """True when a later state of a known order changed nothing but its version and the
    stamp of the person data (`person_at`): a fulfilment, a tag, a note. The profile is then left
    as it is; a retry of the record compares again and skips again. (The stamp not moving
    means a customer record dated between the two order states can still update names and
    addresses, which the skipped state repeated unchanged.)"""

    def figures(profile: CustomerProfile) -> CustomerProfile:
        orders = dict(profile.orders)
        orders[key] = replace(orders[key], version=0)
        return replace(_without_stamp(profile), orders=orders)

    return figures(before) == figures(after)


def _same_figures(a: OrderEntry, b: OrderEntry) -> bool:
    return replace(a, version=0) == replace(b, version=0)


def _without_stamp(profile: CustomerProfile) -> CustomerProfile:
    return replace(profile, person_at=None)


def _keys(persons: list[Person]) -> list[str]:
    keys: list[str] = []
    for person in persons:
        for k in identity_keys(person.email, person.phone, person.ext):
            if k not in keys:
                keys.append(k)
    return keys


def _merge_record(into: Profile, other: Profile, keys: list[str]) -> MergeRecord:
    shared = sorted({identity_kind(k) for k in other.identity_keys() & set(keys)}) or ["order"]
    held = other.state.orders_held()
    reason = "shared " + "+".join(shared)
    return MergeRecord(into.customer_id, other.customer_id, reason, timemath.iso(now_utc()) or "", held)
