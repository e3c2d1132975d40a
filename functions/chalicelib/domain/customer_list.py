"""The customer list (`GET /customers`, `patron customers list`): every live customer, or
those whose name, email or phone starts with `q`, or those with a tag, or a segment's members,
or a tier's customers; page by page with a cursor, in a stable order, never a scan
(docs/data-model.md#the-customer-list).

- no filter: the lifecycle member lists, in stage order then customer id (`domain/walk.py`);
- `segment`: the segment's member list, by customer id;
- `tier`: the tier states of that tier, by customer id;
- `tag`: the tag's entries, by customer id;
- `q`: the search entries, in the order of the normalised value: with `@`, the emails;
  digits (a `+`, spaces, dots and dashes allowed), the phones; otherwise the names, then
  the emails (a customer both find is listed once, with the names).

The entries are kept by the CRM stream (`domain/search_entries.py`), so one can lag its
profile or outlive a change for a moment: a profile that no longer matches is left out.
"""

from __future__ import annotations

import base64
import re
import unicodedata

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.customers import ProfileView
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.ports import MemberLists, ProfilePages
from chalicelib.domain.search.ports import CustomerIndex, SearchKind, SegmentLookup
from chalicelib.domain.segments import BUILTIN_PREFIXES, LIFECYCLE_STAGES, check_builtin
from chalicelib.domain.walk import Position

MOST = 100  # customers a page holds at most
SEARCH_READS = 8  # index reads one page makes at most (emails found by name are skipped)
_PHONE_QUERY = re.compile(r"^\+?[0-9][0-9 .\-()]*$")


# -- the normalised values the search entries hold (domain/search_entries.py) --------------
def name_key(first: str | None, last: str | None) -> str | None:
    """`first last`, lower case, accents and punctuation dropped, spaces collapsed."""
    return text_key(" ".join(p for p in (first, last) if p))


def text_key(value: str | None) -> str | None:
    if not value:
        return None
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9@._+\- ]", " ", plain.lower()).split()
    return " ".join(words)[:100] or None


def phone_key(phone: str | None) -> str | None:
    """A number's digits (no `+`): what a phone search's prefix is made of."""
    digits = re.sub(r"[^0-9]", "", phone or "")
    return digits or None


def tag_key(tag: str | None) -> str | None:
    """A tag as the list finds it: lower case, spaces collapsed, at most 100 characters."""
    return " ".join((tag or "").lower().split())[:100] or None


def search_keys(profile: CustomerProfile) -> dict[SearchKind, str]:
    """The values the search indexes find a profile by (absent ones left out)."""
    found: dict[SearchKind, str | None] = {
        "name": name_key(profile.first_name, profile.last_name),
        "email": (profile.email or "").strip().lower()[:200] or None,
        "phone": phone_key(profile.phone),  # the digits of the E.164 phone
    }
    return {k: v for k, v in found.items() if v}


# -- the answer ---------------------------------------------------------------------------
class CustomerPage(BaseModel):
    customers: list[ProfileView]
    next_cursor: str | None


class CustomerQuery(BaseModel):
    """`GET /customers`'s filters (one at a time); empty values count as absent."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    q: str | None = Field(default=None, max_length=100)
    segment: str | None = Field(default=None, max_length=200)
    tier: str | None = Field(default=None, max_length=100)
    tag: str | None = Field(default=None, max_length=100)


def _pack(mode: str, inner: str | None) -> str | None:
    if inner is None:
        return None
    return mode + "." + base64.urlsafe_b64encode(inner.encode()).decode().rstrip("=")


def _unpack(cursor: str | None) -> tuple[str | None, str | None]:
    if not cursor:
        return None, None
    mode, _, raw = cursor.partition(".")
    try:
        return mode, base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_cursor() from exc


def bad_cursor() -> BadRequest:
    return BadRequest("cursor is not one this API gave", [{"field": "cursor", "error": "invalid"}])


def _named(profile: CustomerProfile, name_prefix: str, phases: list[SearchKind]) -> bool:
    """Found by its name too: listed in the name phase already."""
    name = name_key(profile.first_name, profile.last_name) or ""
    return "name" in phases and bool(name_prefix) and name.startswith(name_prefix)


class CustomerList:
    def __init__(
        self,
        members: MemberLists,
        profiles: ProfilePages,
        index: CustomerIndex,
        segments: SegmentLookup,
    ) -> None:
        self.members = members
        self.profiles = profiles
        self.index = index
        self.segments = segments

    def page(self, workspace_id: str, query: CustomerQuery, limit: int, cursor: str | None) -> CustomerPage:
        given = [name for name in ("q", "segment", "tier", "tag") if getattr(query, name)]
        if len(given) > 1:
            raise BadRequest(
                "filter by one of q, segment, tier and tag at a time",
                [{"field": name, "error": "one filter at a time"} for name in given],
            )
        limit = max(1, min(limit, MOST))
        mode, inner = _unpack(cursor)
        expected = {"segment": ("s",), "tier": ("t",), "tag": ("g",), "q": ("qn", "qe")}.get(
            given[0] if given else "", ("a",)
        )
        if mode is not None and mode not in expected:
            raise bad_cursor()
        if query.segment:
            ids, after = self._segment(workspace_id, query.segment, limit, inner)
            return self._answer(workspace_id, ids, _pack("s", after))
        if query.tier:
            ids, after = self.index.in_tier(workspace_id, query.tier, limit, inner)
            return self._answer(workspace_id, ids, _pack("t", after))
        if query.tag:
            tag = tag_key(query.tag) or ""
            ids, after = self.index.tagged(workspace_id, tag, limit, inner)
            found = self.profiles.load_many(workspace_id, ids) if ids else {}
            kept = [found[i] for i in ids if i in found and tag in {tag_key(t) for t in found[i].tags}]
            return CustomerPage(customers=[ProfileView.of(p) for p in kept], next_cursor=_pack("g", after))
        if query.q:
            return self._search(workspace_id, query.q, limit, mode, inner)
        return self._all(workspace_id, limit, inner)

    def _segment(
        self, workspace_id: str, segment_id: str, limit: int, after: str | None
    ) -> tuple[list[str], str | None]:
        if segment_id.startswith(BUILTIN_PREFIXES):
            check_builtin(segment_id)
        else:
            self.segments.get(workspace_id, segment_id)  # 404 for an unknown or another workspace's
        return self.members.members(workspace_id, segment_id, limit, after)

    def _all(self, workspace_id: str, limit: int, inner: str | None) -> CustomerPage:
        """The lifecycle member lists in stage order (`domain/walk.py`)."""
        try:
            position = Position.loads(inner) if inner else Position()
        except (ValueError, KeyError, TypeError) as exc:
            raise bad_cursor() from exc
        listed: list[CustomerProfile] = []
        while not position.finished and len(listed) < limit:
            builtin = f"lifecycle:{LIFECYCLE_STAGES[position.stage]}"
            ids, key = self.members.members(workspace_id, builtin, limit - len(listed), position.key)
            found = self.profiles.load_many(workspace_id, ids) if ids else {}
            listed += [found[i] for i in ids if i in found]
            position = Position(position.stage + 1) if key is None else Position(position.stage, key)
        more = None if position.finished else position.dumps()
        return CustomerPage(customers=[ProfileView.of(p) for p in listed], next_cursor=_pack("a", more))

    def _search(
        self, workspace_id: str, q: str, limit: int, mode: str | None, inner: str | None
    ) -> CustomerPage:
        if "@" in q:
            phases: list[SearchKind] = ["email"]
        elif _PHONE_QUERY.match(q.strip()):
            phases = ["phone"]
        else:
            phases = ["name", "email"]
        prefixes = {"name": text_key(q), "email": q.strip().lower(), "phone": phone_key(q)}
        name_prefix = prefixes["name"] or ""
        start = phases.index("email") if mode == "qe" and "email" in phases else 0
        listed: list[CustomerProfile] = []
        after: str | None = inner or None
        reads = 0
        for n, kind in enumerate(phases[start:], start):
            prefix = prefixes[kind]
            while prefix:
                ids, after = self.index.prefix(workspace_id, kind, prefix, limit - len(listed), after)
                reads += 1
                found = self.profiles.load_many(workspace_id, ids) if ids else {}
                listed += [
                    found[i]
                    for i in ids
                    if i in found
                    and search_keys(found[i]).get(kind, "").startswith(prefix)  # not a stale entry
                    and not (kind == "email" and _named(found[i], name_prefix, phases))
                ]
                if after is None:
                    break  # this phase is done
                if len(listed) >= limit or reads >= SEARCH_READS:
                    more = _pack("qn" if kind == "name" else "qe", after)
                    return CustomerPage(customers=[ProfileView.of(p) for p in listed], next_cursor=more)
            if n + 1 < len(phases) and len(listed) >= limit:
                # this page is full and the next phase starts from its beginning
                return CustomerPage(
                    customers=[ProfileView.of(p) for p in listed], next_cursor=_pack("qe", "")
                )
        return CustomerPage(customers=[ProfileView.of(p) for p in listed], next_cursor=None)

    def _answer(self, workspace_id: str, ids: list[str], next_cursor: str | None) -> CustomerPage:
        found = self.profiles.load_many(workspace_id, ids) if ids else {}
        return CustomerPage(
            customers=[ProfileView.of(found[i]) for i in ids if i in found], next_cursor=next_cursor
        )
