"""An in-memory CustomerEditStore (chalicelib.domain.edits.ports): profiles kept as
their stored items, notes and the audit through the adapter's mapping, like the DynamoDB one.
It also loads profiles (pointers followed), so a service can take it as its ProfileReader."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from chalicelib.adapters.customer_edits import audit_item, audit_of, note_item, note_of
from chalicelib.adapters.profile_items import profile_item, profile_of
from chalicelib.domain.customer_edit_values import CustomerAudit, NewerConsent, Note, TooManyTags
from chalicelib.domain.customer_profile import ChannelConsent, CustomerProfile

CONSENT = {"email": "ce", "sms": "cs"}


class FakeCustomerEdits:
    def __init__(self) -> None:
        self.profiles: dict[tuple[str, str], dict[str, Any]] = {}
        self.items: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)  # notes, audit

    # -- Given-steps and the ProfileReader side ------------------------------------
    def put(self, profile: CustomerProfile) -> None:
        self.profiles[(profile.workspace_id, profile.customer_id)] = profile_item(profile)

    def merge(self, workspace_id: str, merged_id: str, into: str) -> None:
        """Given-step: `merged_id` is now a pointer to `into`."""
        self.profiles[(workspace_id, merged_id)] = {"t": "pointer", "into": into}

    def load(self, workspace_id: str, customer_id: str) -> CustomerProfile | None:
        item = self.profiles.get((workspace_id, customer_id))
        for _ in range(5):
            if item is None or item.get("t") != "pointer":
                break
            item = self.profiles.get((workspace_id, item["into"]))
        return None if item is None or item.get("t") != "profile" else profile_of(item)

    def _live(self, workspace_id: str, customer_id: str) -> dict[str, Any] | None:
        item = self.profiles.get((workspace_id, customer_id))
        return item if item is not None and item.get("t") == "profile" else None

    # -- the port -----------------------------------------------------------------
    def add_tags(self, workspace_id: str, customer_id: str, tags: set[str], most: int) -> Any:
        item = self._live(workspace_id, customer_id)
        if item is None:
            return None
        before = set(item.get("tg") or ())
        if len(before) > most - len(tags):
            raise TooManyTags()
        item["tg"] = before | tags
        item["rev"] = (item.get("rev") or 0) + 1
        return before, before | tags

    def remove_tags(self, workspace_id: str, customer_id: str, tags: set[str]) -> Any:
        item = self._live(workspace_id, customer_id)
        if item is None:
            return None
        before = set(item.get("tg") or ())
        if before - tags:
            item["tg"] = before - tags
        else:
            item.pop("tg", None)
        item["rev"] = (item.get("rev") or 0) + 1
        return before, before - tags

    def set_consent(self, workspace_id: str, customer_id: str, consents: dict[str, ChannelConsent]) -> Any:
        item = self._live(workspace_id, customer_id)
        if item is None:
            return None
        old = {ch: item.get(CONSENT[ch]) for ch in consents}
        if any(
            o is not None and o["at"] > c.at for o, c in zip(old.values(), consents.values(), strict=True)
        ):
            raise NewerConsent()
        for ch, c in consents.items():
            item[CONSENT[ch]] = {"s": c.state, "at": c.at, "src": c.withdrawn_by}
        item["rev"] = (item.get("rev") or 0) + 1
        return {
            ch: None if o is None else ChannelConsent(o["s"], o["at"], o.get("src")) for ch, o in old.items()
        }

    def add_note(self, workspace_id: str, customer_id: str, note: Note) -> None:
        stored = note_item(workspace_id, customer_id, note)
        assert stored["sk"] not in self.items[(workspace_id, customer_id)]
        self.items[(workspace_id, customer_id)][stored["sk"]] = stored

    def edit_note(
        self, workspace_id: str, customer_id: str, note_id: str, text: str, at: str, by: str
    ) -> str | None:
        stored = self.items[(workspace_id, customer_id)].get("NT#" + note_id)
        if stored is None:
            return None
        old = str(stored["tx"])
        stored.update(tx=text, ua=at, ub=by)
        return old

    def delete_note(self, workspace_id: str, customer_id: str, note_id: str) -> str | None:
        stored = self.items[(workspace_id, customer_id)].pop("NT#" + note_id, None)
        return None if stored is None else str(stored["tx"])

    def notes(self, workspace_id: str, customer_ids: list[str]) -> list[Note]:
        found = [
            note_of(i)
            for cid in dict.fromkeys(customer_ids)
            for sk, i in self.items[(workspace_id, cid)].items()
            if sk.startswith("NT#")
        ]
        return sorted(found, key=lambda n: n.id)

    def record(self, audit: CustomerAudit) -> None:
        stored = audit_item(audit)
        assert stored["sk"] not in self.items[(audit.workspace_id, audit.customer_id)]
        self.items[(audit.workspace_id, audit.customer_id)][stored["sk"]] = stored

    def audit_page(
        self, workspace_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[CustomerAudit], str | None]:
        keys = sorted(
            (k for k in self.items[(workspace_id, customer_id)] if k.startswith("CE#")), reverse=True
        )
        if cursor:
            keys = [k for k in keys if k < cursor]
        page = keys[:limit]
        entries = [audit_of(self.items[(workspace_id, customer_id)][k]) for k in page]
        return entries, (page[-1] if len(page) == limit else None)
