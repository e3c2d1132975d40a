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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from chalicelib.domain import order_entries, records, timemath
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import customer_id_for, identity_keys, identity_kind
from chalicelib.domain.models import Consent, ConsentState, Person, now_utc
from chalicelib.domain.money import round_money
from chalicelib.domain.order_entries import entry_partitions
from chalicelib.domain.predict import ModelParams
from chalicelib.domain.scoring import RfmEdges

MAX_ATTEMPTS = 8
# Order entries kept in the profile item; older ones move to their own items. A profile
# stays near 2 KB however many orders the customer places (docs/data-model.md).
RECENT_ORDERS = 8


def profile_pk(workspace_id: str, customer_id: str) -> str:
    return f"W#{workspace_id}#P#{customer_id}"


entry_source = order_entries.entry_source


def bought(item: dict[str, Any], attribute: str) -> list[str]:
    """Products ('p') or categories ('k') of the orders that count, moved entries included."""
    moved = set((item.get("so") or {}).get(attribute) or ())
    recent = {v for e in (item.get("o") or {}).values() if not e.get("x") for v in e.get(attribute, [])}
    return sorted(moved | recent)


def order_sources(item: dict[str, Any]) -> set[str]:
    """Sources of every order entry of a profile (moved ones included)."""
    moved = set((item.get("so") or {}).get("src") or ())
    return moved | {entry_source(k) for k in item.get("o") or {}}


def order_channels(item: dict[str, Any]) -> set[str]:
    """Channels of the orders that count (moved ones included)."""
    moved = set((item.get("so") or {}).get("ch") or ())
    return moved | {e.get("ch", "web") for e in (item.get("o") or {}).values() if not e.get("x")}


def orders_held(item: dict[str, Any]) -> int:
    """Order entries of a profile: the recent ones and the moved ones."""
    return len(item.get("o") or {}) + int((item.get("so") or {}).get("c", 0))


@dataclass(frozen=True)
class WorkspaceSettings:
    workspace_id: str
    currency: str  # "": pending, the first order processed sets it (ProfileService.apply_order)
    id_salt: str
    rates: dict[str, Decimal] = field(default_factory=dict)  # 1 unit of key = rate x currency
    # Set nightly (chalicelib.domain.nightly.ScoringService): RFM quintile edges, store rhythm.
    rfm_edges: RfmEdges | None = None
    rhythm_days: float | None = None
    # Set nightly: the fitted BG/NBD + Gamma-Gamma parameters (chalicelib.domain.predict).
    model: ModelParams | None = None
    # Messaging: the workspace's name, the transactional notifications switched on, senders.
    name: str = ""
    notifications: frozenset[str] = frozenset()
    sender_email: str = ""
    sms_sender_id: str = ""
    # Engagement tiers' thresholds (chalicelib.domain.messaging.engagement.Rules; empty:
    # the defaults) and the days after a click an order is attributed to it.
    engagement_rules: dict[str, int] = field(default_factory=dict)
    attribution_days: int = 5
    # Sending rules (chalicelib.domain.messaging.service.Policy; `patron workspace sending`):
    # quiet hours in the customer's local time, daily caps by engagement tier (empty: the
    # defaults), a low-engagement customer's spacing, the zone of customers without one.
    quiet_start: int = 21
    quiet_end: int = 9
    daily_caps: dict[str, int] = field(default_factory=dict)
    low_every_days: int = 3
    default_timezone: str = "UTC"

    def convert(self, amount: Decimal, currency: str | None) -> Decimal | None:
        if currency is None or currency == self.currency:
            return amount
        rate = self.rates.get(currency)
        if rate is None:
            return None
        return round_money(amount * rate, self.currency)


class WorkspaceReader(Protocol):
    def settings(self, workspace_id: str) -> WorkspaceSettings | None: ...

    def adopt_currency(self, workspace_id: str, currency: str) -> WorkspaceSettings:
        """Set a pending (empty) workspace currency, only if still unset; the settings after."""
        ...


class ProfileStore(Protocol):
    def find(self, workspace_id: str, salt: str, keys: list[str]) -> list[dict[str, Any]]:
        """Live profile items holding any of the identity keys (pointers followed)."""
        ...

    def moved_entries(
        self, workspace_id: str, customer_ids: list[str], keys: list[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Moved order entries under those customers' partitions (consistent reads), the
        newest version of each order key; only `keys` when given, else all of them."""
        ...

    def erased_at(self, workspace_id: str, customer_ids: list[str]) -> datetime | None:
        """The latest erasure mark under these ids (PrivacyStore.mark_erased), if any."""
        ...

    def save(
        self,
        profile: dict[str, Any],
        expected_rev: int | None,
        extra: list[dict[str, Any]],
        retired: list[tuple[dict[str, Any], int]],
        moved: Sequence[tuple[str, dict[str, Any]]] = (),
    ) -> None:
        """Write the profile if its rev is unchanged; raise Conflict otherwise.

        `moved` entries (order key, entry) are first written to their own items, each
        only over an older version; the profile write that drops them from `o` decides.
        `extra` items (identity pointers, merge records) are created with the profile,
        and `retired` profiles become pointers to it, atomically.
        """
        ...


@dataclass
class Profile:
    workspace_id: str
    customer_id: str
    rev: int = 0
    created_at: str = ""
    item: dict[str, Any] = field(default_factory=dict)
    # Entry keys in `o` as stored (only those may move out: their moved item is shadowed
    # by `o` until the profile write commits), keys this write must keep in `o`, and
    # whether the moved entries' summary must be rebuilt from their items.
    committed: frozenset[str] = frozenset()
    pinned: set[str] = field(default_factory=set)
    rebuild: bool = False

    @classmethod
    def new(cls, workspace_id: str, customer_id: str, at: datetime) -> Profile:
        stamp = timemath.iso(at) or ""
        return cls(
            workspace_id,
            customer_id,
            0,
            stamp,
            {
                "pk": profile_pk(workspace_id, customer_id),
                "sk": "P",
                "t": "profile",
                "ws": workspace_id,
                "cid": customer_id,
                "ca": stamp,
                "o": {},
            },
        )

    @classmethod
    def load(cls, item: dict[str, Any]) -> Profile:
        item.setdefault("o", {})
        return cls(
            item["ws"], item["cid"], int(item.get("rev", 0)), item.get("ca", ""), item, frozenset(item["o"])
        )

    # -- identity -----------------------------------------------------------------
    def identity_keys(self) -> set[str]:
        return (
            {"email:" + e for e in self.item.get("ems", set())}
            | {"phone:" + p for p in self.item.get("phs", set())}
            | {"ext:" + x for x in self.item.get("xs", set())}
        )

    def absorb(self, person: Person, at: datetime | None) -> list[str]:
        """Take identities, names, membership and consent from a record.

        Returns the identity keys this profile did not have before.
        """
        item = self.item
        stamp = timemath.iso(at) or ""
        before = self.identity_keys()
        newer = stamp >= item.get("pat", "")
        for attr, value in (("ems", person.email), ("phs", person.phone), ("xs", person.ext)):
            if value:
                item.setdefault(attr, set()).add(value)
        if newer:
            item["pat"] = stamp
            for attr, value in (
                ("e", person.email),
                ("ph", person.phone),
                ("fn", person.first_name),
                ("ln", person.last_name),
                ("bd", person.birthday),
                ("tz", person.timezone),
            ):
                if value:
                    item[attr] = value
        if item.get("e") is None and person.email:
            item["e"] = person.email
        if item.get("ph") is None and person.phone:
            item["ph"] = person.phone
        if person.phone_invalid and (newer or not item.get("phx")):
            item["phx"] = person.phone_invalid  # kept as written and flagged; never a key nor a target
        elif person.phone and newer:
            item.pop("phx", None)
        if person.is_member:
            item["m"] = True
        else:
            item.setdefault("m", False)
        for attr, consent in (("ce", person.email_consent), ("cs", person.sms_consent)):
            if consent is not None:
                self._consent(attr, consent, stamp)
        return sorted(self.identity_keys() - before)

    def _consent(self, attr: str, consent: Consent, fallback_at: str) -> None:
        """The latest report wins, except over a withdrawal Patron recorded (`src`: an
        unsubscribe, STOP, bounce or complaint): that gives way only to a report with a
        consent time of its own (not the record's time) after it."""
        own = None if consent.record_time else timemath.iso(consent.updated_at)
        at = timemath.iso(consent.updated_at) or fallback_at
        current = self.item.get(attr)
        if consent.state is ConsentState.UNKNOWN:
            return
        if current is not None and current.get("src") and (own is None or own <= current.get("at", "")):
            return
        if current is None or at >= current.get("at", ""):
            self.item[attr] = {"s": consent.state.value, "at": at}

    # -- orders -------------------------------------------------------------------
    def order_version(self, key: str) -> int:
        entry = self.item["o"].get(key)
        return int(entry["v"]) if entry else -1

    def set_order(self, key: str, snap: records.OrderSnapshot, ws: WorkspaceSettings) -> None:
        """Record one order version. Entries are compact: a profile stays near 1 KB.

        v: version, t: placed at (epoch seconds), x: present when the order does not
        count (cancelled, or only a refund seen so far), a/r: amount and refunds in the
        workspace currency, cur/oa/or: original currency and amounts when they differ,
        ch: channel when not web, p/k: products and categories.
        """
        entry: dict[str, Any] = {"v": snap.version}
        if snap.created_at:
            entry["t"] = int(snap.created_at.timestamp())
            latest = self.item.get("lpt")
            # (0 is an order placed at the epoch, not "no order": compare with None)
            if snap.counted and snap.titles and (latest is None or entry["t"] >= int(latest["t"])):
                self.item["lpt"] = {"t": entry["t"], "n": list(snap.titles)}  # the latest order's titles
        if not snap.counted:
            entry["x"] = True
        if snap.is_order:
            if snap.channel and snap.channel != "web":
                entry["ch"] = snap.channel
            if snap.currency and snap.currency != ws.currency:
                entry["cur"] = snap.currency
                entry["oa"] = snap.total
                if snap.refunded:
                    entry["or"] = snap.refunded
            total = ws.convert(snap.total, snap.currency)
            refunded = ws.convert(snap.refunded, snap.currency)
            if total is not None and refunded is not None:
                entry["a"] = total
                if refunded:
                    entry["r"] = refunded
            if snap.products:
                entry["p"] = list(snap.products)
            if snap.categories:
                entry["k"] = list(snap.categories)
        self.item["o"][key] = entry

    def merge_from(self, other: Profile) -> None:
        """Fold another profile of the same person into this one.

        Its recent entries join `o` (they move out on later writes); its moved entries
        stay in its partition, listed through `mrg`, and the summary is rebuilt.
        """
        mine, theirs = self.item, other.item
        for key, entry in theirs.get("o", {}).items():
            if key not in mine["o"] or int(mine["o"][key]["v"]) < int(entry["v"]):
                mine["o"][key] = entry
        if mine.get("so") or theirs.get("so"):
            self.rebuild = True
        for attr in ("ems", "phs", "xs"):
            if theirs.get(attr):
                mine.setdefault(attr, set()).update(theirs[attr])
        if theirs.get("m"):
            mine["m"] = True
        if theirs.get("pat", "") > mine.get("pat", ""):
            for attr in ("e", "ph", "fn", "ln", "pat"):
                if theirs.get(attr):
                    mine[attr] = theirs[attr]
        for attr in ("e", "ph", "phx", "fn", "ln"):
            if not mine.get(attr) and theirs.get(attr):
                mine[attr] = theirs[attr]
        if theirs.get("lpt") and (not mine.get("lpt") or int(theirs["lpt"]["t"]) > int(mine["lpt"]["t"])):
            mine["lpt"] = theirs["lpt"]
        for attr in ("ce", "cs"):
            if theirs.get(attr) and (
                not mine.get(attr) or theirs[attr].get("at", "") > mine[attr].get("at", "")
            ):
                mine[attr] = theirs[attr]
        mine.setdefault("mrg", []).append(other.customer_id)
        mine["mrg"].extend(theirs.get("mrg", []))
        if theirs.get("ca", "") and theirs["ca"] < mine.get("ca", "~"):
            mine["ca"] = theirs["ca"]

    def rebuild_moved(self, moved: dict[str, dict[str, Any]]) -> None:
        """Rebuild the moved entries' summary from their items (all of them, as read).

        A moved entry that is also in `o` is shadowed by it, unless the moved one is newer
        (a merge can bring an older copy of an order): then `o` takes the newer one.
        """
        o = self.item["o"]
        for key, entry in moved.items():
            if key in o and int(o[key]["v"]) < int(entry["v"]):
                o[key] = entry
        summary = order_entries.summarize({k: e for k, e in moved.items() if k not in o})
        self.item["so"] = summary.to_item()
        self.rebuild = False

    def move_out(self, limit: int | None = None) -> list[tuple[str, dict[str, Any]]]:
        """Move the oldest entries beyond `limit` out of `o`, into the summary.

        Only entries `o` held when it was read may move (their items are written before
        the profile, and `o` shadows them until it commits), never a pinned one.
        """
        o = self.item["o"]
        excess = len(o) - (RECENT_ORDERS if limit is None else limit)
        if excess <= 0:
            return []
        movable = sorted(
            (k for k in o if k in self.committed and k not in self.pinned),
            key=lambda k: (int(o[k].get("t", 0)), k),
        )[:excess]
        if not movable:
            return []
        out = [(k, o.pop(k)) for k in movable]
        summary = order_entries.Summary.of_item(self.item.get("so"))
        self.item["so"] = summary.combine(order_entries.summarize(dict(out))).to_item()
        return out

    def recompute(self, ws: WorkspaceSettings) -> None:
        """Derive every aggregate from the moved entries' summary and the recent entries."""
        item = self.item
        summary = order_entries.of_profile(item)
        item.update(order_entries.aggregates(summary, ws.currency))
        item["srcs"] = summary.sources | set(item.get("srcx", set())) or None
        # Sparse GSI keys: the first phone and platform id are findable without pointers.
        phones, exts = sorted(item.get("phs", set())), sorted(item.get("xs", set()))
        if phones and not item.get("phone_k"):
            item["phone_k"] = f"{self.workspace_id}#{item.get('ph') or phones[0]}"
        if exts and not item.get("ext_k"):
            item["ext_k"] = f"{self.workspace_id}#{exts[0]}"

    def indexed_keys(self, salt: str) -> set[str]:
        """Identity keys that find this profile without a pointer item."""
        found = set()
        for key in self.identity_keys():
            if customer_id_for(salt, key) == self.customer_id:
                found.add(key)
        if self.item.get("phone_k"):
            found.add("phone:" + self.item["phone_k"].split("#", 1)[1])
        if self.item.get("ext_k"):
            found.add("ext:" + self.item["ext_k"].split("#", 1)[1])
        return found


class PrivacyHandler(Protocol):
    def handle(self, item: dict[str, Any]) -> ApplyResult: ...
    def index_checkout(self, old: dict[str, Any] | None, new: dict[str, Any]) -> ApplyResult: ...


@dataclass
class ApplyResult:
    customer_id: str | None
    outcome: str  # applied | already_applied | no_identity | skipped | redacted
    merged: list[str] = field(default_factory=list)


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

    def apply_change(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> ApplyResult:
        """Apply one ingest-table change (a stream record's images)."""
        current = new or old
        if current is None:
            return ApplyResult(None, "skipped")
        kind = current.get("t")
        if new is None:
            return ApplyResult(None, "skipped")  # deletions carry no purchase information
        if kind == "order":
            return self.apply_order(old, new)
        if kind == "customer":
            return self.apply_customer(new)
        if kind == "privacy" and self.privacy is not None:
            return self.privacy.handle(new)
        if kind == "checkout" and self.privacy is not None:
            return self.privacy.index_checkout(old, new)  # reachable by an erasure
        return ApplyResult(None, "skipped")

    def apply_order(self, old: dict[str, Any] | None, new: dict[str, Any]) -> ApplyResult:
        if new.get("rdx"):
            return ApplyResult(None, "redacted")  # erased on request: never re-attributed
        snap = records.snapshot(new)
        # The old image's identities belong to the same order, hence the same person.
        persons = [snap.person] + ([records.person_from(old.get("p"))] if old else [])
        keys = _keys(persons)
        if not keys:
            return ApplyResult(None, "no_identity")
        ws = self._settings(snap.workspace_id)
        if not ws.currency and snap.currency:  # created without one: the first order's
            ws = self.workspaces.adopt_currency(ws.workspace_id, snap.currency)
        key = records.public_order_id(snap.source_id, snap.order_id)
        at = timemath.parse_iso(new.get("ua")) or snap.created_at

        def change(profile: Profile) -> list[str] | None:
            profile.pinned.add(key)
            if key not in profile.item["o"] and profile.item.get("so"):
                return self._change_moved(profile, key, snap, ws, at)
            if profile.order_version(key) >= snap.version:
                return None
            before = copy.deepcopy(profile.item) if key in profile.item["o"] else None
            profile.set_order(key, snap, ws)
            added = profile.absorb(snap.person, at) if snap.is_order else []
            if before is not None and not added and _moves_nothing(before, profile.item, key):
                return None  # a later state that moves no figure (fulfilled, tagged): no write
            return added

        return self._upsert(ws, keys, change, snap.created_at or now_utc(), made_at=snap.created_at)

    def _change_moved(
        self,
        profile: Profile,
        key: str,
        snap: records.OrderSnapshot,
        ws: WorkspaceSettings,
        at: datetime | None,
    ) -> list[str] | None:
        """An order not in `o` of a profile that has moved entries: it may be one of them."""
        moved = self.store.moved_entries(ws.workspace_id, entry_partitions(profile.item), [key]).get(key)
        if moved is not None and int(moved["v"]) >= snap.version:
            return None
        before = copy.deepcopy(profile.item)
        profile.set_order(key, snap, ws)
        added = profile.absorb(snap.person, at) if snap.is_order else []
        if moved is None:
            return added  # a new order
        if _same_figures(moved, profile.item["o"][key]):
            # A later state that moves no figure: the entry stays moved, at its version.
            del profile.item["o"][key]
            return added if added or _without_stamp(before) != _without_stamp(profile.item) else None
        profile.rebuild = True  # it comes back to `o`, and the summary is rebuilt without it
        return added

    def apply_customer(self, new: dict[str, Any]) -> ApplyResult:
        if new.get("rdx"):
            return ApplyResult(None, "redacted")
        person = records.person_from(new.get("p"))
        keys = _keys([person])
        if not keys:
            return ApplyResult(None, "no_identity")
        ws = self._settings(new["ws"])
        at = timemath.parse_iso(new.get("ua"))

        def change(profile: Profile) -> list[str] | None:
            before = copy.deepcopy(profile.item)
            added = profile.absorb(person, at)
            profile.item.setdefault("srcx", set()).add(new["src"])
            return added if profile.item != before or added else None

        made_at = at or timemath.parse_iso(new.get("ca"))
        return self._upsert(ws, keys, change, timemath.parse_iso(new.get("ca")) or now_utc(), made_at=made_at)

    def _upsert(
        self,
        ws: WorkspaceSettings,
        keys: list[str],
        change: Any,
        created_at: datetime,
        made_at: datetime | None = None,
    ) -> ApplyResult:
        """`made_at`: when the store made this data (an order's creation, a customer's last
        update); data made before the person was erased never makes a profile again."""
        for _ in range(MAX_ATTEMPTS):
            found = [Profile.load(i) for i in self.store.find(ws.workspace_id, ws.id_salt, keys)]
            merged: list[str] = []
            retired: list[tuple[dict[str, Any], int]] = []
            extra: list[dict[str, Any]] = []
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
                    retired.append((other.item, other.rev))
                    merged.append(other.customer_id)
                    extra.append(_merge_record(ws.workspace_id, profile, other, keys))
            added = change(profile)
            earlier = bool(found) and _began_earlier(profile, created_at)
            if added is None and not merged and not earlier:
                return ApplyResult(profile.customer_id, "already_applied")
            if profile.rebuild:
                profile.rebuild_moved(
                    self.store.moved_entries(ws.workspace_id, entry_partitions(profile.item))
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
                extra.append(
                    {
                        "pk": profile_pk(ws.workspace_id, pointer_id),
                        "sk": "P",
                        "t": "pointer",
                        "ws": ws.workspace_id,
                        "cid": pointer_id,
                        "into": profile.customer_id,
                        "kind": identity_kind(k),
                    }
                )
            profile.rev += 1
            profile.item["rev"] = profile.rev
            profile.item["ua"] = timemath.iso(now_utc())
            try:
                self.store.save(profile.item, expected, extra, retired, moved_out)
            except Conflict:
                continue
            return ApplyResult(profile.customer_id, "applied", merged)
        raise Conflict("profile kept changing under concurrent updates; retry the record")


def _began_earlier(profile: Profile, created_at: datetime) -> bool:
    """A profile began when the earliest of its records was made, whatever the order they
    are processed in (a merge keeps the older of two): True when this record moves it back."""
    stamp = timemath.iso(created_at) or ""
    if not stamp or stamp >= profile.item.get("ca", "~"):
        return False
    profile.item["ca"] = profile.created_at = stamp
    return True


def _moves_nothing(before: dict[str, Any], after: dict[str, Any], key: str) -> bool:
    """True when a later state of a known order changed nothing but its version and the
    stamp of the person data (`pat`): a fulfilment, a tag, a note. The profile is then left
    as it is; a retry of the record compares again and skips again. (The stamp not moving
    means a customer record dated between the two order states can still update names and
    addresses, which the skipped state repeated unchanged.)"""

    def figures(item: dict[str, Any]) -> dict[str, Any]:
        orders = dict(item["o"])
        orders[key] = {k: v for k, v in orders[key].items() if k != "v"}
        return {k: v for k, v in item.items() if k != "pat"} | {"o": orders}

    return figures(before) == figures(after)


def _same_figures(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return {k: v for k, v in a.items() if k != "v"} == {k: v for k, v in b.items() if k != "v"}


def _without_stamp(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "pat"}


def _keys(persons: list[Person]) -> list[str]:
    keys: list[str] = []
    for person in persons:
        for k in identity_keys(person.email, person.phone, person.ext):
            if k not in keys:
                keys.append(k)
    return keys


def _merge_record(ws: str, into: Profile, other: Profile, keys: list[str]) -> dict[str, Any]:
    shared = sorted({identity_kind(k) for k in other.identity_keys() & set(keys)}) or ["order"]
    at = timemath.iso(now_utc()) or ""
    return {
        "pk": f"W#{ws}#MERGE",
        "sk": f"{at}#{other.customer_id}",
        "t": "merge",
        "ws": ws,
        "into": into.customer_id,
        "from": other.customer_id,
        "reason": "shared " + "+".join(shared),
        "at": at,
        "orders_moved": orders_held(other.item),
    }
