"""The stored profile item (short attributes, docs/data-model.md) and its domain types.

One mapping each way between a CRM-table profile item and a `CustomerProfile` (with its
order entries and moved-entries summary), and the CRM stream's profile images as the
flow triggers see them (`ProfileImage`).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from chalicelib.domain.customer_profile import (
    ChannelConsent,
    CustomerProfile,
    Enrolment,
    LatestTitles,
    OrderEntry,
    ProfileFigures,
)
from chalicelib.domain.order_summary import Summary
from chalicelib.domain.profile_images import ProfileChange, ProfileImage
from chalicelib.domain.profile_links import IdentityPointer, MergeRecord
from chalicelib.domain.timemath import parse_iso


def profile_pk(workspace_id: str, customer_id: str) -> str:
    """The partition of a customer id: its profile (or pointer), moved entries and marks."""
    return f"W#{workspace_id}#P#{customer_id}"


def profile_image(item: dict[str, Any] | None) -> ProfileImage | None:
    """The profile a CRM-table item holds (None: another kind, or none)."""
    if item is None or item.get("t") != "profile":
        return None
    return ProfileImage(
        workspace_id=str(item["ws"]),
        customer_id=str(item["cid"]),
        orders=int(item.get("n") or 0),
        first_order_at=parse_iso(item.get("first")),
        member=bool(item.get("m")),
        birthday=str(item["bd"]) if item.get("bd") else None,
        profile=profile_of(item),
    )


def profile_change(old: dict[str, Any] | None, new: dict[str, Any] | None) -> ProfileChange:
    return ProfileChange(before=profile_image(old), after=profile_image(new))


# -- the profile item, both ways (docs/data-model.md, "Profiles") -------------------
# One attribute per CustomerProfile field; a profile read and written unchanged is the
# item it was, byte for byte (tests/unit/test_profile_items.py).
_PERSON_TEXT = (
    ("ca", "created_at"),
    ("ua", "updated_at"),
    ("pat", "person_at"),
    ("e", "email"),
    ("ph", "phone"),
    ("phx", "phone_as_written"),
    ("fn", "first_name"),
    ("ln", "last_name"),
    ("bd", "birthday"),
    ("tz", "timezone"),
)
# `tg`: Patron's tags, a string set moved by ADD/DELETE only (adapters/customer_edits.py)
_SETS = (("ems", "emails"), ("phs", "phones"), ("xs", "external_ids"), ("tg", "tags"))
_FIGURES = (
    ("n", "orders"),
    ("cur", "currency"),
    ("spent", "spent"),
    ("refd", "refunded"),
    ("net", "net"),
    ("aov", "average_order_value"),
    ("first", "first_order_at"),
    ("last", "last_order_at"),
    ("gap", "average_gap_days"),
    ("unconv", "unconverted"),
    ("chs", "channels"),
    ("srcs", "sources"),
)
_CONSENT_KEYS = ("s", "at", "src")
_ENTRY_KEYS = ("v", "t", "x", "a", "r", "cur", "oa", "or", "ch", "p", "k", "n", "rp", "ni")
_KNOWN = frozenset(
    {"pk", "sk", "t", "ws", "cid", "rev", "m", "ms", "ce", "cs", "mrg", "lpt", "o", "so", "srcx"}
    | {"phone_k", "ext_k", "imp"}
    | {a for a, _ in _PERSON_TEXT}
    | {a for a, _ in _SETS}
    | {a for a, _ in _FIGURES}
)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def order_entry(stored: dict[str, Any]) -> OrderEntry:
    """A recent order entry (the profile's `o`, or a moved entry item's `e`)."""
    return OrderEntry(
        version=int(stored["v"]),
        placed_at=_int(stored.get("t")),
        counted=not stored.get("x"),
        amount=_dec(stored.get("a")),
        refunded=_dec(stored.get("r")),
        currency=stored.get("cur"),
        original_amount=_dec(stored.get("oa")),
        original_refunded=_dec(stored.get("or")),
        channel=stored.get("ch"),
        products=list(stored["p"]) if stored.get("p") is not None else None,
        categories=list(stored["k"]) if stored.get("k") is not None else None,
        title=str(stored["n"]) if stored.get("n") is not None else None,
        refunded_products=list(stored["rp"]) if stored.get("rp") is not None else None,
        item_count=_int(stored.get("ni")),
    )


def order_entry_item(entry: OrderEntry) -> dict[str, Any]:
    values = (
        entry.version,
        entry.placed_at,
        None if entry.counted else True,
        entry.amount,
        entry.refunded,
        entry.currency,
        entry.original_amount,
        entry.original_refunded,
        entry.channel,
        entry.products,
        entry.categories,
        entry.title,
        entry.refunded_products,
        entry.item_count,
    )
    return {k: v for k, v in zip(_ENTRY_KEYS, values, strict=True) if v is not None}


def summary_of(stored: dict[str, Any] | None) -> Summary | None:
    """The moved entries' summary (`so`)."""
    if not stored:
        return None
    return Summary(
        int(stored.get("c", 0)),
        int(stored.get("n", 0)),
        int(stored.get("nc", 0)),
        Decimal(stored.get("s", 0)),
        Decimal(stored.get("r", 0)),
        {k: Decimal(v) for k, v in (stored.get("u") or {}).items()},
        set(stored.get("ch") or ()),
        set(stored.get("p") or ()),
        set(stored.get("k") or ()),
        set(stored.get("src") or ()),
        _int(stored.get("t0")),
        _int(stored.get("t1")),
        int(stored.get("nt", 0)),
        _int(stored.get("d0")),
        int.from_bytes(zlib.decompress(bytes(stored["dm"])), "little") if stored.get("dm") else 0,
        Decimal(stored.get("d0v", 0)),
        Decimal(stored.get("v", 0)),
        _latest(stored.get("lt")),
    )


def _latest(stored: dict[str, Any] | None) -> tuple[int, str] | None:
    """The moved entries' latest counted title (`lt`: time and title)."""
    return None if stored is None else (int(stored["t"]), str(stored["n"]))


def summary_item(summary: Summary | None) -> dict[str, Any] | None:
    if summary is None or not summary.entries:
        return None
    item: dict[str, Any] = {
        "c": summary.entries,
        "n": summary.counted,
        "nc": summary.converted,
        "s": summary.spent,
        "r": summary.refunded,
        "nt": summary.timed,
        "v": summary.value,
    }
    sets = {"ch": summary.channels, "p": summary.products, "k": summary.categories, "src": summary.sources}
    item |= {name: set(values) for name, values in sets.items() if values}
    if summary.unconverted:
        item["u"] = dict(summary.unconverted)
    if summary.first is not None and summary.last is not None:
        item["t0"], item["t1"] = summary.first, summary.last
    if summary.latest is not None:
        t, title = summary.latest
        item["lt"] = {"t": t, "n": title}
    if summary.day0 is not None:
        item["d0"], item["d0v"] = summary.day0, summary.day0_value
        # zlib: a year of daily orders is 46 bytes, and a date decades off (a test order
        # dated 1970) costs a few bytes of zeros, not kilobytes
        days = summary.days
        item["dm"] = zlib.compress(days.to_bytes((days.bit_length() + 7) // 8, "little"))
    return item


def _consent(stored: dict[str, Any] | None) -> ChannelConsent | None:
    if stored is None:
        return None
    return ChannelConsent(
        state=str(stored.get("s", "unknown")),
        at=str(stored.get("at", "")),
        withdrawn_by=stored.get("src"),
        unknown={k: v for k, v in stored.items() if k not in _CONSENT_KEYS},
    )


def _consent_item(consent: ChannelConsent | None) -> dict[str, Any] | None:
    if consent is None:
        return None
    item: dict[str, Any] = {"s": consent.state, "at": consent.at}
    if consent.withdrawn_by is not None:
        item["src"] = consent.withdrawn_by
    return item | dict(consent.unknown)


def _enrolment(stored: dict[str, Any] | None) -> Enrolment | None:
    """`ms`: the latest explicit membership fact (absent on profiles that never had one)."""
    if stored is None:
        return None
    number = stored.get("n")
    return Enrolment(
        str(stored["k"]), str(stored["at"]), str(stored["ch"]), None if number is None else str(number)
    )


def _enrolment_item(profile: CustomerProfile) -> dict[str, Any] | None:
    fact = profile.enrolment
    if fact is None:
        return None
    item: dict[str, Any] = {
        "k": fact.kind,
        "at": fact.at,
        "ch": fact.channel,
        "n": fact.number,
        "a": profile.member,
    }
    return {k: v for k, v in item.items() if v is not None}


def _account(item: dict[str, Any]) -> bool | None:
    """Whether a record reported a storefront account: `m` on a profile without `ms` (as
    every profile before explicit membership), `ms.a` on one with it (`m` is then derived)."""
    stored = item["ms"].get("a") if item.get("ms") is not None else item.get("m")
    return None if stored is None else bool(stored)


def _index_value(stored: Any) -> str | None:
    return None if stored is None else str(stored).split("#", 1)[1]


def profile_of(item: dict[str, Any]) -> CustomerProfile:
    """The CustomerProfile a stored profile item holds (its `t` is `profile`)."""
    lpt = item.get("lpt")
    profile = CustomerProfile(
        workspace_id=str(item["ws"]),
        customer_id=str(item["cid"]),
        rev=_int(item.get("rev")),
        member=_account(item),
        enrolment=_enrolment(item.get("ms")),
        email_consent=_consent(item.get("ce")),
        sms_consent=_consent(item.get("cs")),
        merged_ids=list(item["mrg"]) if item.get("mrg") is not None else None,
        latest_titles=LatestTitles(int(lpt["t"]), list(lpt.get("n") or ())) if lpt is not None else None,
        orders={k: order_entry(e) for k, e in (item.get("o") or {}).items()},
        moved=summary_of(item.get("so")),
        figures=ProfileFigures(
            **{name: _figure(attr, item.get(attr)) for attr, name in _FIGURES},
        ),
        erased_sources=set(item["srcx"]) if item.get("srcx") is not None else None,
        indexed_phone=_index_value(item.get("phone_k")),
        indexed_external_id=_index_value(item.get("ext_k")),
        imported=bool(item.get("imp")),
        unknown={k: v for k, v in item.items() if k not in _KNOWN},
    )
    for attr, name in _PERSON_TEXT:
        if item.get(attr) is not None:
            setattr(profile, name, str(item[attr]))
    for attr, name in _SETS:
        setattr(profile, name, set(item.get(attr) or ()))
    return profile


def guest_profile(workspace_id: str, customer_id: str, contact: Mapping[str, Any]) -> CustomerProfile:
    """A guest's profile from the contact a stored checkout holds (its attributes are the
    profile's: order_items.CONTACT), as a flow run keeps it in its context."""
    return profile_of({**contact, "t": "profile", "ws": workspace_id, "cid": customer_id})


def _figure(attr: str, value: Any) -> Any:
    if value is None:
        return None
    if attr == "n":
        return int(value)
    if attr in ("spent", "refd", "net", "aov", "gap"):
        return Decimal(value)
    if attr == "unconv":
        return {str(k): Decimal(v) for k, v in value.items()}
    if attr in ("chs", "srcs"):
        return set(value)
    return str(value)


def profile_item(profile: CustomerProfile) -> dict[str, Any]:
    """The stored item of a profile (None values are left out by the codec)."""
    ws = profile.workspace_id
    lpt = profile.latest_titles
    item: dict[str, Any] = {
        "pk": profile_pk(ws, profile.customer_id),
        "sk": "P",
        "t": "profile",
        "ws": ws,
        "cid": profile.customer_id,
        "rev": profile.rev,
        "m": profile.member if profile.enrolment is None else profile.is_member,
        "ms": _enrolment_item(profile),
        "ce": _consent_item(profile.email_consent),
        "cs": _consent_item(profile.sms_consent),
        "mrg": profile.merged_ids,
        "lpt": {"t": lpt.placed_at, "n": list(lpt.titles)} if lpt is not None else None,
        "o": {k: order_entry_item(e) for k, e in profile.orders.items()},
        "so": summary_item(profile.moved),
        "srcx": set(profile.erased_sources) if profile.erased_sources else None,
        "phone_k": f"{ws}#{profile.indexed_phone}" if profile.indexed_phone is not None else None,
        "ext_k": f"{ws}#{profile.indexed_external_id}" if profile.indexed_external_id is not None else None,
        "imp": True if profile.imported else None,
    }
    for attr, name in _PERSON_TEXT:
        item[attr] = getattr(profile, name)
    for attr, name in _SETS:
        values = getattr(profile, name)
        item[attr] = set(values) if values else None
    for attr, name in _FIGURES:
        value = getattr(profile.figures, name)
        if isinstance(value, set | dict):
            value = type(value)(value)  # a copy: the item never shares the profile's values
        item[attr] = value
    item.update(profile.unknown)
    return {k: v for k, v in item.items() if v is not None}


# -- what a profile write creates besides it ----------------------------------------
def link_item(workspace_id: str, link: IdentityPointer | MergeRecord) -> dict[str, Any]:
    """The item of an identity pointer (in the identity's own partition) or of a merge
    record (in the workspace's merge log)."""
    if isinstance(link, IdentityPointer):
        return {
            "pk": profile_pk(workspace_id, link.customer_id),
            "sk": "P",
            "t": "pointer",
            "ws": workspace_id,
            "cid": link.customer_id,
            "into": link.into,
            "kind": link.kind,
        }
    return {
        "pk": f"W#{workspace_id}#MERGE",
        "sk": f"{link.at}#{link.merged}",
        "t": "merge",
        "ws": workspace_id,
        "into": link.into,
        "from": link.merged,
        "reason": link.reason,
        "at": link.at,
        "orders_moved": link.orders_moved,
    }


def pointer_of_retired(old: CustomerProfile, into: str, rev: int) -> dict[str, Any]:
    """The pointer a profile merged into another becomes: its keys, index keys and
    creation time stay (its identities stay findable through it)."""
    stored = profile_item(old)
    pointer = {k: stored[k] for k in ("pk", "sk", "ws", "cid", "phone_k", "ext_k", "ca") if k in stored}
    return pointer | {"t": "pointer", "into": into, "rev": rev + 1, "kind": "merge"}
