"""The profile model: one customer's stored profile, its identities and its order entries.

A profile keeps one entry per recent order (version, time, counted flag, converted
amounts, products), at most RECENT_ORDERS of them; older entries move to their own
items, and what they add up to stays in the profile as a summary
(chalicelib.domain.order_entries). The service that applies records to profiles is
chalicelib.domain.profiles.ProfileService.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain import order_entries, timemath
from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.models import Consent, ConsentState, Person
from chalicelib.domain.order_snapshot import OrderSnapshot
from chalicelib.domain.workspace_settings import WorkspaceSettings

# Order entries kept in the profile item; older ones move to their own items. A profile
# stays near 2 KB however many orders the customer places (docs/data-model.md).
RECENT_ORDERS = 8


def profile_pk(workspace_id: str, customer_id: str) -> str:
    return f"W#{workspace_id}#P#{customer_id}"


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

    def set_order(self, key: str, snap: OrderSnapshot, ws: WorkspaceSettings) -> None:
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
