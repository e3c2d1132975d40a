"""Properties of a customer's recommendations, whatever the catalogue says of each product
and whatever is excluded: best first, at most the limit, never an excluded, deleted,
unpublished or sold-out product, and the kept ones in the unfiltered order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.recommend.service import unavailable
from tests.unit.recommend_world import SHOP, WS, product, stocked, world

CANDIDATES = ["coffee", "vol-2", "bookmark", "vol-3", "mug", "beans"]
STATES = st.sampled_from(["fine", "draft", "sold_out", "deleted", "unknown", "publish"])


@settings(max_examples=60, deadline=None)
@given(
    states=st.fixed_dictionaries({pid: STATES for pid in CANDIDATES}),
    excluded=st.sets(st.sampled_from(CANDIDATES)),
    limit=st.integers(min_value=1, max_value=8),
)
def test_filters_keep_the_ranked_order_and_the_limit(states, excluded, limit):
    # Given a reader of vol-1 with coffee due, and each candidate in a random catalogue state
    w = stocked(world())
    w.customer("c1", (40, ["vol-1"]), (10, ["coffee"]))
    unfiltered = [p.product_id for p in w.service.for_customer(WS, "c1", limit=50)]
    assert unfiltered == CANDIDATES
    for pid, state in states.items():
        if state == "unknown":
            del w.catalogue.items[(SHOP, pid)]
        elif state == "deleted":
            w.catalogue.put(SHOP, product(pid, pid.title()), deleted_at="2026-05-01T00:00:00.000000Z")
        elif state != "fine":
            change = {"inventory": (0,)} if state == "sold_out" else {"status": state}
            w.catalogue.put(SHOP, product(pid, pid.title(), **change))  # type: ignore[arg-type]
    # When asked with the exclusions and the limit
    found = w.service.for_customer(WS, "c1", limit=limit, exclude=sorted(excluded))
    shown = [p.product_id for p in found]
    # Then: the expected products, in the unfiltered order, best first, at most `limit`
    allowed = [p for p in unfiltered if p not in excluded and states[p] in ("fine", "unknown", "publish")]
    assert shown == allowed[:limit]
    assert [p.score for p in found] == sorted((p.score for p in found), reverse=True)
    for p in found:
        stored = w.catalogue.items.get((SHOP, p.product_id))
        assert stored is None or unavailable(stored) is None
        assert (p.title is None) == (stored is None)
