"""The membership audit listing: `GET /customers/{id}/membership` and `patron customers
membership` (docs/loyalty.md, "Membership audit")."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.customer_profile import EnrolmentAudit
from chalicelib.domain.enrolment import MembershipView
from chalicelib.domain.errors import NotFound
from chalicelib.domain.loyalty.ports import EnrolmentAuditReader
from chalicelib.domain.ports import ProfileReader

MAX_LIMIT = 200


def audit_json(entry: EnrolmentAudit) -> dict[str, Any]:
    """One audit entry as the API and the CLI show it."""
    return {
        "kind": entry.kind,
        "at": entry.at,
        "channel": entry.channel,
        "by": entry.by,
        "number": entry.number,
        "reason": entry.reason,
    }


class MembershipAudit:
    def __init__(self, profiles: ProfileReader, audit: EnrolmentAuditReader) -> None:
        self.profiles = profiles
        self.audit = audit

    def listing(self, workspace_id: str, customer_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
        """The customer's membership and a page of its audit, newest first. A merged-away id
        lists the surviving profile's audit. Unknown customer: NotFound."""
        profile = self.profiles.load(workspace_id, customer_id)
        if profile is None:
            raise NotFound("customer not found")
        limit = max(1, min(limit, MAX_LIMIT))
        entries, next_cursor = self.audit.audit_page(workspace_id, profile.customer_id, limit, cursor)
        return {
            "customer_id": profile.customer_id,
            "membership": MembershipView.of(profile).model_dump(mode="json"),
            "entries": [audit_json(e) for e in entries],
            "next_cursor": next_cursor,
        }
