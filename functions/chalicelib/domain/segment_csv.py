"""A segment's members as CSV (`GET /segments/{id}/members.csv`), read page by page: the
member list's ids 100 at a time, then their profiles in one batch read. Columns are those
the API already returns on `GET /customers/{id}` (docs/segments.md#members-as-csv)."""

from __future__ import annotations

import csv
import io

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.customers import ProfileView
from chalicelib.domain.membership import MembershipService
from chalicelib.domain.segments import BUILTIN_PREFIXES, check_builtin

COLUMNS = (
    "customer_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "email_consent",
    "sms_consent",
    "is_member",
    "orders_count",
    "net_spent",
    "currency",
    "last_order_at",
)
PAGE = 100  # member ids read (and profiles batch-read) at a time
MOST = 5000  # rows one response holds at most
_FORMULA = ("=", "@", "\t", "\r")


def cell(value: object) -> str:
    """A value as CSV text a spreadsheet will not run: one starting like a formula gets a
    leading `'` (a `+` or `-` only when no number follows, so E.164 phones stay as they are)."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA) or (text[:1] in "+-" and text and not text[1:2].isdigit()):
        return "'" + text
    return text


def row(profile: CustomerProfile) -> list[str]:
    """The profile's columns, as `GET /customers/{id}` shows them (ProfileView)."""
    view = ProfileView.of(profile)
    values = view.model_dump(include=set(COLUMNS))
    for channel in ("email_consent", "sms_consent"):
        values[channel] = values[channel]["state"] if values[channel] else None
    values["is_member"] = "true" if view.is_member else "false"
    return [cell(values[name]) for name in COLUMNS]


def members_csv(
    service: MembershipService, workspace_id: str, segment_id: str, limit: int, cursor: str | None
) -> tuple[str, str | None]:
    """Up to `limit` members (1 to MOST) after `cursor` as CSV text, with the header row
    on the first page only (no cursor), so pages joined are one file; and the next cursor
    (None after the last member). Ids with no live profile (erased since) are left out."""
    if segment_id.startswith(BUILTIN_PREFIXES):
        check_builtin(segment_id)
    else:
        service.segments.get(workspace_id, segment_id)  # 404 for another workspace's id
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if cursor is None:
        writer.writerow(COLUMNS)
    left = max(1, min(limit, MOST))
    while left > 0:
        ids, cursor = service.store.members(workspace_id, segment_id, min(PAGE, left), cursor)
        profiles = service.profiles.load_many(workspace_id, ids) if ids else {}
        writer.writerows(row(profiles[i]) for i in ids if i in profiles)
        left -= len(ids)
        if cursor is None or not ids:
            break
    return out.getvalue(), cursor
