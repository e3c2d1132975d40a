"""Audience export for ad platforms' customer matching (and lookalikes).

The large ad platforms accept a CSV of SHA-256 hashes of normalized identifiers:
emails trimmed and lower-cased, phones in E.164. Only customers whose consent allows it
are exported: the email hash when email marketing consent is `subscribed`, the phone
hash when SMS marketing consent is `subscribed`; a customer with neither is left out.
The workspace's profiles are read through its own customer lists (`domain/walk.py`), never
a table scan.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from chalicelib.domain import segments
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.identity import normalize_email, normalize_phone
from chalicelib.domain.models import now_utc
from chalicelib.domain.segment_service import SegmentService
from chalicelib.domain.walk import CustomerWalk

HEADER = ("email_sha256", "phone_sha256")


class ExportWriter(Protocol):
    def write(self, key: str, body: bytes, content_type: str) -> str: ...


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


def customer_match_row(item: dict[str, Any]) -> tuple[str, str] | None:
    email = normalize_email(item.get("e"))
    phone = normalize_phone(item.get("ph"))
    email_ok = (item.get("ce") or {}).get("s") == "subscribed" and email is not None
    phone_ok = (item.get("cs") or {}).get("s") == "subscribed" and phone is not None
    if not email_ok and not phone_ok:
        return None
    return (sha256(email) if email_ok and email else "", sha256(phone) if phone_ok and phone else "")


def build_rows(
    profiles: Iterable[dict[str, Any]],
    condition: segments.Condition,
    now: datetime,
    facts: Callable[[dict[str, Any]], segments.Facts],
) -> tuple[list[tuple[str, str]], int, int, int]:
    rows: list[tuple[str, str]] = []
    scanned = members = unconsented = 0
    for item in profiles:
        scanned += 1
        if not segments.evaluate(condition, facts(item), now).member:
            continue
        members += 1
        row = customer_match_row(item)
        if row is None:
            unconsented += 1
        else:
            rows.append(row)
    return rows, scanned, members, unconsented


class AudienceService:
    def __init__(self, walk: CustomerWalk, segment_service: SegmentService, writer: ExportWriter | None):
        self.walk = walk
        self.segments = segment_service
        self.writer = writer

    def export(self, workspace_id: str, segment_id: str, fmt: str = "customer-match") -> ExportResult:
        if fmt != "customer-match":
            raise BadRequest("format must be customer-match", {"field": "format"})
        if self.writer is None:
            raise BadRequest("this stage has no export bucket")
        segment = self.segments.get(workspace_id, segment_id)
        at = now_utc()
        rows, scanned, members, unconsented = build_rows(
            self.walk.profiles_of(workspace_id),
            segments.parse(segment.definition),
            at,
            lambda item: self.segments.facts(workspace_id, item, at)[0],
        )
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(sorted(rows))
        key = f"exports/{workspace_id}/{segment_id}/customer-match-{at:%Y%m%dT%H%M%SZ}.csv"
        uri = self.writer.write(key, buffer.getvalue().encode(), "text/csv")
        return ExportResult(
            uri=uri,
            format=fmt,
            segment_id=segment_id,
            rows=len(rows),
            profiles_scanned=scanned,
            members=members,
            members_without_consent=unconsented,
        )
