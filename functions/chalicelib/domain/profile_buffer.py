"""A write-behind ProfileStore: a history import's chunk writes each touched profile once.

The import applies each record with the same ProfileService as the stream consumer
(identity resolution, merges, moved entries: unchanged), over this buffer instead of the
table. Reads answer from the buffer first: a profile saved in the chunk is found by any
identity it holds, at the rev the buffer gave it; identities the buffer does not know go
to the inner store. `save` keeps the profile, the links it creates, the profiles it
retires and the entries it moves, in memory. `flush()` then writes each live profile
once, conditioned on the rev the inner store held when the chunk first read it, with
all of that: a customer with twenty orders in the chunk costs one profile write, not
twenty.

A flush that meets a Conflict (a webhook wrote that profile meanwhile) drops that
profile's buffered state and says so; the caller applies the chunk's records again
through the plain store. Application is idempotent (entries are versioned), so what was
flushed is `already_applied` the second time. The few shapes the buffer does not write
(a profile created in the chunk and then merged away in it: its pointer; entries moved
out of a profile that is then merged away) set `unbuffered`: the caller then applies the
whole chunk through the plain store instead, which is always correct, only slower.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry
from chalicelib.domain.errors import Conflict
from chalicelib.domain.ports import ProfileStore
from chalicelib.domain.profile_links import IdentityPointer, MergeRecord


@dataclass
class _Pending:
    state: CustomerProfile
    base: int | None  # the inner store's rev when the chunk first read it (None: new)
    extra: list[IdentityPointer | MergeRecord] = field(default_factory=list)
    retired: list[tuple[CustomerProfile, int]] = field(default_factory=list)
    moved: list[tuple[str, OrderEntry]] = field(default_factory=list)


class ProfileBuffer:
    """ProfileStore over an inner ProfileStore, writing behind (module docstring)."""

    def __init__(self, inner: ProfileStore) -> None:
        self.inner = inner
        self._live: dict[str, _Pending] = {}  # customer id -> its latest buffered state
        self._into: dict[str, str] = {}  # a profile retired in the chunk -> the one it joined
        self._held: dict[str, str] = {}  # identity key -> the buffered profile holding it
        self.unbuffered = False

    @property
    def touched(self) -> list[str]:
        """The live profiles the chunk changed."""
        return list(self._live)

    # -- reads ---------------------------------------------------------------------
    def find_profiles(self, workspace_id: str, salt: str, keys: list[str]) -> list[CustomerProfile]:
        """Buffered profiles holding any of the keys; the inner store only for keys no
        buffered profile holds (one that does was found, or made, with them already)."""
        ids = [self._follow(c) for k in keys if (c := self._held.get(k)) is not None]
        unknown = [k for k in keys if k not in self._held]
        found = self.inner.find_profiles(workspace_id, salt, unknown) if unknown else []
        out: dict[str, CustomerProfile] = {}
        for profile in found:
            cid = self._follow(profile.customer_id)
            if cid in self._live:
                ids.append(cid)
            else:
                out[cid] = profile
        for cid in ids:
            if cid in self._live:
                out[cid] = copy.deepcopy(self._live[cid].state)  # the caller changes it
        return list(out.values())

    def moved_entries(
        self, workspace_id: str, customer_ids: list[str], keys: list[str] | None = None
    ) -> dict[str, OrderEntry]:
        found = self.inner.moved_entries(workspace_id, customer_ids, keys)
        for cid in customer_ids:
            pending = self._live.get(cid)
            for key, entry in pending.moved if pending else ():
                if (keys is None or key in keys) and (key not in found or found[key].version < entry.version):
                    found[key] = entry
        return found

    def erased_at(self, workspace_id: str, customer_ids: list[str]) -> datetime | None:
        return self.inner.erased_at(workspace_id, customer_ids)

    # -- writes --------------------------------------------------------------------
    def save(
        self,
        profile: CustomerProfile,
        expected_rev: int | None,
        extra: Sequence[IdentityPointer | MergeRecord],
        retired: Sequence[tuple[CustomerProfile, int]],
        moved: Sequence[tuple[str, OrderEntry]] = (),
    ) -> None:
        cid = profile.customer_id
        pending = self._live.get(cid)
        if pending is not None:
            if pending.state.rev != expected_rev:
                raise Conflict("buffered profile changed")
        else:
            pending = self._live[cid] = _Pending(profile, expected_rev)
        pending.state = copy.deepcopy(profile)
        pending.extra.extend(extra)
        pending.moved.extend(moved)
        for old, rev in retired:
            gone = self._live.pop(old.customer_id, None)
            if gone is None:
                pending.retired.append((old, rev))  # as the inner store holds it
                continue
            if gone.base is None or gone.moved:
                self.unbuffered = True  # made or emptied in the chunk: see the module docstring
            pending.retired.append((old, gone.base or 0))
            pending.extra.extend(gone.extra)
            pending.retired.extend(gone.retired)
            self._into[old.customer_id] = cid
        for key in profile.identity_keys():
            self._held[key] = cid
        for key in [k for k, c in self._held.items() if c in self._into]:
            self._held[key] = self._follow(self._held[key])

    def flush(self) -> list[str]:
        """Write each live profile once at the inner rev; the customer ids that met a
        Conflict (not written: the caller applies their records again). The buffer is
        empty after."""
        conflicts = []
        for cid, p in self._live.items():
            try:
                self.inner.save(p.state, p.base, p.extra, p.retired, p.moved)
            except Conflict:
                conflicts.append(cid)
        self._live, self._into, self._held = {}, {}, {}
        return conflicts

    def _follow(self, customer_id: str) -> str:
        seen = 0
        while customer_id in self._into and seen < 64:
            customer_id, seen = self._into[customer_id], seen + 1
        return customer_id
