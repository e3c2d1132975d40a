"""One-off migration: stored phone identities renormalized with libphonenumber.

Before phones were read in the country of the address, a national number was given +1
(`0612345678` in France became `+1612345678`). Such numbers are not valid for any country
now, so they are no identity key, SMS target or export hash of new records; this command
takes them off stored profiles: out of `phs` (the phone identities), `ph` (the current
number) and `phone_k` (the `by_phone` index entry), kept as written in `phx` (flagged,
`phone_valid: false`). Profiles that were merged and lost a phone this way are reported:
the merge may have gone through that number, and an operator reviews them (the merge
records, `patron`'s `/customers/{id}`).

It walks the workspace's customers (lifecycle member lists, no scan), a page at a time;
each profile is written only when it changes and only over the revision read (a profile
changed meanwhile is left for the next run). Running it again changes nothing; a cut-short
run resumes from the `next_cursor` it printed.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.profile_items import profile_item, profile_of
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import normalize_phone
from chalicelib.domain.walk import Position


def renormalized(item: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """The profile item with its phones renormalized (None when nothing changes), and the
    stored numbers that are not valid for their country."""
    ws = item["ws"]
    stored = set(item.get("phs") or set())
    dropped = sorted(p for p in stored if normalize_phone(p) is None)
    phones = {n for n in (normalize_phone(p) for p in stored) if n}
    new = dict(item)
    if phones:
        new["phs"] = phones
    else:
        new.pop("phs", None)
    current = normalize_phone(item.get("ph")) if item.get("ph") else None
    if current is None and item.get("ph"):
        new.pop("ph")
        current = min(phones) if phones else None
        if current:
            new["ph"] = current
        new.setdefault("phx", item["ph"])
    elif current:
        new["ph"] = current
    if dropped and "phx" not in new:
        new["phx"] = dropped[0]
    indexed = str(item.get("phone_k") or "").partition("#")[2]
    if indexed and indexed not in phones:
        first = current or (min(phones) if phones else None)
        if first:
            new["phone_k"] = f"{ws}#{first}"
        else:
            new.pop("phone_k")
    return (None if new == item else new), dropped


def renormalize(
    container: Any, workspace_id: str, cursor: str | None = None, pages: int | None = None
) -> dict[str, Any]:
    """Renormalize a workspace's stored phones from `cursor`, at most `pages` pages."""
    store = container.profile_store
    start = Position.loads(cursor)
    read = changed = conflicts = 0
    review: list[dict[str, Any]] = []
    position = start
    for n, page in enumerate(container.customer_walk.pages(workspace_id, start), 1):
        for item in map(profile_item, page.customers.values()):
            read += 1
            new, dropped = renormalized(item)
            if new is None:
                continue
            rev = int(item.get("rev", 0))
            new["rev"] = rev + 1
            try:
                store.save(profile_of(new), rev, [], [])
            except Conflict:
                conflicts += 1  # changed while read: the next run sees it again
                continue
            changed += 1
            if dropped and item.get("mrg"):
                review.append(
                    {
                        "customer_id": item["cid"],
                        "merged_from": list(item["mrg"]),
                        "phones_not_valid": len(dropped),
                    }
                )
        position = page.after
        if pages is not None and n >= pages:
            break
    return {
        "workspace_id": workspace_id,
        "profiles_read": read,
        "profiles_changed": changed,
        "conflicts": conflicts,
        "review": review,
        "next_cursor": None if position.finished else position.dumps(),
    }
