"""The customer list's search entries under the CRM stream's delivery: in order per item,
at least once, a failed batch retried from its failed record (so a suffix of records comes
again after later ones were applied) (domain/search_entries.py, the fake store)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.search_entries import SearchEntries, entries_of
from tests.fakes_customer_list import FakeCustomerIndex

NAMES = st.sampled_from([None, "Jane", "Janet", "Jo"])
EMAILS = st.sampled_from([None, "jane@example.com", "jo@example.org"])
PHONES = st.sampled_from([None, "+33612345678", "+14155550100"])
TAGS = st.frozensets(st.sampled_from(["vip", "VIP", "gold", "wholesale"]), max_size=3)


def revisions(
    draw_list: list[tuple[str | None, str | None, str | None, frozenset[str]]],
) -> list[CustomerProfile]:
    return [
        CustomerProfile("ws_1", "c_1", rev=n, first_name=name, email=email, phone=phone, tags=set(tags))
        for n, (name, email, phone, tags) in enumerate(draw_list, 1)
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(NAMES, EMAILS, PHONES, TAGS), min_size=1, max_size=6),
    st.lists(st.integers(min_value=0, max_value=5), max_size=3),
    st.booleans(),
)
def test_the_entries_end_as_the_last_revision_has_them_whatever_the_retries(states, retries, erased):
    # Given a profile's revisions, then perhaps its erasure, as the CRM stream's records (old, new)
    profiles: list[CustomerProfile | None] = [None, *revisions(states)]
    if erased:
        profiles.append(None)
    records = list(pairwise(profiles))
    # When they are applied in order, a failed batch now and then retried from an earlier record
    store = FakeCustomerIndex()
    entries = SearchEntries(store, None)  # type: ignore[arg-type]
    position, order = 0, []
    pending = list(retries)
    while position < len(records):
        order.append(position)
        if pending and pending[0] <= position:
            position = pending.pop(0)  # the checkpoint: this record and the later ones come again
            continue
        position += 1
    for n in order:
        entries.on_change(*records[n])
    # Then the entries are exactly the last revision's (none, once erased)
    stored = {(kind, value) for (_, kind, value, _) in store.entries}
    assert stored == entries_of(profiles[-1])
