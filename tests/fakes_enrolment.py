"""An in-memory EnrolmentStore (chalicelib.domain.enrolment): profiles kept as their stored
items, so what the fake holds goes through the adapters' mapping like the DynamoDB one."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from chalicelib.adapters.enrolment_store import audit_item, audit_of
from chalicelib.adapters.profile_items import profile_item, profile_of
from chalicelib.domain.customer_profile import CustomerProfile, EnrolmentAudit
from chalicelib.domain.errors import Conflict


class FakeEnrolmentStore:
    def __init__(self) -> None:
        self.profiles: dict[tuple[str, str], dict[str, Any]] = {}
        self.counters: dict[str, int] = defaultdict(int)
        self.audits: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
        self.conflicts = 0  # the next `record` calls to refuse, as if another writer won

    def put(self, profile: CustomerProfile) -> None:
        """Given-steps: store a profile as the ingest would have written it."""
        self.profiles[(profile.workspace_id, profile.customer_id)] = profile_item(profile)

    def load(self, workspace_id: str, customer_id: str) -> CustomerProfile | None:
        item = self.profiles.get((workspace_id, customer_id))
        return None if item is None else profile_of(item)

    def next_number(self, workspace_id: str) -> int:
        self.counters[workspace_id] += 1
        return self.counters[workspace_id]

    def record(self, profile: CustomerProfile, expected_rev: int | None, audit: EnrolmentAudit) -> None:
        key = (profile.workspace_id, profile.customer_id)
        stored = self.profiles.get(key)
        entry = audit_item(audit)
        if self.conflicts:
            self.conflicts -= 1
            raise Conflict("profile changed")
        if (stored is None) != (expected_rev is None) or (
            stored is not None and stored.get("rev") != expected_rev
        ):
            raise Conflict("profile changed")
        if entry["sk"] in self.audits[key]:
            raise Conflict("profile changed")
        self.profiles[key] = profile_item(profile)
        self.audits[key][entry["sk"]] = entry

    def audit(self, workspace_id: str, customer_id: str) -> list[EnrolmentAudit]:
        entries = self.audits[(workspace_id, customer_id)]
        return [audit_of(entries[sk]) for sk in sorted(entries)]

    def audit_page(
        self, workspace_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[EnrolmentAudit], str | None]:
        entries = self.audits[(workspace_id, customer_id)]
        keys = [sk for sk in sorted(entries, reverse=True) if cursor is None or sk < cursor]
        page = keys[:limit]
        return [audit_of(entries[sk]) for sk in page], (page[-1] if len(keys) > limit else None)
