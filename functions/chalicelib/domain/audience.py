"""Audience export for ad platforms' customer matching (and lookalikes).

The large ad platforms accept a CSV of SHA-256 hashes of normalized identifiers:
emails trimmed and lower-cased, phones in E.164. Only customers whose consent allows it
are exported: the email hash when email marketing consent is `subscribed`, the phone
hash when SMS marketing consent is `subscribed`; a customer with neither is left out.
The opt-outs (`OPT`) and suppressions (`SUP`) are read too, 100 members at a time: an
unsubscribe, a STOP or a bounce leaves the customer out even before the profile's consent
shows it, and even when a storefront reported a newer subscription since.
The workspace's profiles are read through its own customer lists (`domain/walk.py`), never
a table scan.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable
from datetime import datetime

from pydantic import BaseModel

from chalicelib.domain import segment_eval, segments
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.erasure_values import HeldBy, Holding
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.identity import normalize_email, normalize_phone
from chalicelib.domain.models import now_utc
from chalicelib.domain.ports import ConsentLists, ExportWriter, PersonIndex
from chalicelib.domain.segment_service import SegmentService
from chalicelib.domain.walk import CustomerWalk

HEADER = ("email_sha256", "phone_sha256")


EXPORT_DAYS = 30  # the bucket's expiry


class ExportResult(BaseModel):
    uri: str
    format: str
    segment_id: str
    rows: int
    profiles_scanned: int
    members: int
    members_without_consent: int


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


SCREEN_BATCH = 100  # members whose opt-outs and suppressions are read together


def customer_match_row(
    profile: CustomerProfile, withdrawn: frozenset[str] = frozenset()
) -> tuple[str, str] | None:
    """`withdrawn`: the channels ("email", "sms") the customer opted out of or whose address
    is suppressed."""
    email = normalize_email(profile.email)
    phone = normalize_phone(profile.phone)
    email_ok = profile.subscribed("email") and email is not None and "email" not in withdrawn
    phone_ok = profile.subscribed("sms") and phone is not None and "sms" not in withdrawn
    if not email_ok and not phone_ok:
        return None
    return (sha256(email) if email_ok and email else "", sha256(phone) if phone_ok and phone else "")


def build_rows(
    profiles: Iterable[CustomerProfile],
    condition: segments.Condition,
    now: datetime,
    facts: Callable[[CustomerProfile], segment_eval.Facts],
    withdrawn: Callable[[list[CustomerProfile]], dict[str, frozenset[str]]] | None = None,
    exported: list[str] | None = None,
) -> tuple[list[tuple[str, str]], int, int, int]:
    """`withdrawn`: for a batch of member profiles, the channels each customer id opted out
    of or had its address suppressed on (absent: none). `exported` collects the customer ids
    of the rows."""
    rows: list[tuple[str, str]] = []
    scanned = members = unconsented = 0
    batch: list[CustomerProfile] = []

    def flush() -> None:
        nonlocal unconsented
        listed = withdrawn(batch) if withdrawn is not None and batch else {}
        for member in batch:
            row = customer_match_row(member, listed.get(member.customer_id, frozenset()))
            if row is None:
                unconsented += 1
            else:
                rows.append(row)
                if exported is not None:
                    exported.append(member.customer_id)
        batch.clear()

    for profile in profiles:
        scanned += 1
        if not segment_eval.evaluate(condition, facts(profile), now).member:
            continue
        members += 1
        batch.append(profile)
        if len(batch) >= SCREEN_BATCH:
            flush()
    flush()
    return rows, scanned, members, unconsented


def withdrawals(
    lists: ConsentLists, workspace_id: str
) -> Callable[[list[CustomerProfile]], dict[str, frozenset[str]]]:
    """The channels each of a batch of profiles opted out of or is suppressed on: one
    batched read per channel."""

    def read(profiles: list[CustomerProfile]) -> dict[str, frozenset[str]]:
        found: dict[str, set[str]] = {}
        for channel, normalize in (("email", normalize_email), ("sms", normalize_phone)):
            addresses = {p.customer_id: normalize(p.address(channel)) for p in profiles}
            opted, suppressed = lists.listed(
                workspace_id, channel, list(addresses), sorted({a for a in addresses.values() if a})
            )
            for cid, address in addresses.items():
                if cid in opted or (address and address in suppressed):
                    found.setdefault(cid, set()).add(channel)
        return {cid: frozenset(channels) for cid, channels in found.items()}

    return read


class AudienceService:
    def __init__(
        self,
        walk: CustomerWalk,
        segment_service: SegmentService,
        writer: ExportWriter | None,
        lists: ConsentLists | None = None,
        index: PersonIndex | None = None,
    ):
        self.walk = walk
        self.segments = segment_service
        self.writer = writer
        self.lists = lists  # opt-outs and suppressions
        self.index = index  # each exported customer -> the file, for an erasure to rewrite

    def export(self, workspace_id: str, segment_id: str, fmt: str = "customer-match") -> ExportResult:
        if fmt != "customer-match":
            raise BadRequest("format must be customer-match", {"field": "format"})
        if self.writer is None:
            raise BadRequest("this stage has no export bucket")
        segment = self.segments.get(workspace_id, segment_id)
        at = now_utc()
        exported: list[str] = []
        rows, scanned, members, unconsented = build_rows(
            self.walk.customers_of(workspace_id),
            segments.parse(segment.definition),
            at,
            lambda profile: self.segments.facts(
                workspace_id, profile, at, None, segment_eval.uses_loyalty(segments.parse(segment.definition))
            )[0],
            withdrawals(self.lists, workspace_id) if self.lists is not None else None,
            exported,
        )
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(sorted(rows))
        key = f"exports/{workspace_id}/{segment_id}/customer-match-{at:%Y%m%dT%H%M%SZ}.csv"
        uri = self.writer.write(key, buffer.getvalue().encode(), "text/csv")
        if self.index is not None:
            self.index.hold(
                workspace_id, [Holding(cid, HeldBy.AUDIENCE_EXPORT, key) for cid in exported], EXPORT_DAYS
            )
        return ExportResult(
            uri=uri,
            format=fmt,
            segment_id=segment_id,
            rows=len(rows),
            profiles_scanned=scanned,
            members=members,
            members_without_consent=unconsented,
        )
