"""Properties of the ranking on any history and model slices: no duplicate, never an
excluded product, never a product the customer bought unless it is due again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.recommend.model import DAY, Basket, Link, Popular, ProductSignals
from chalicelib.domain.recommend.rank import RankParams, anchors, rank

NOW = datetime(2026, 6, 1, tzinfo=UTC)
PRODUCTS = [f"p{i}" for i in range(8)]

products = st.sampled_from(PRODUCTS)
links = st.lists(
    st.builds(
        Link,
        product_id=products,
        score=st.floats(0.0, 1.0),
        count=st.integers(1, 50),
        gap_days=st.one_of(st.none(), st.integers(0, 120)),
    ),
    max_size=4,
)
signals = st.builds(
    ProductSignals,
    product_id=products,
    buyers=st.integers(1, 100),
    category=st.one_of(st.none(), st.sampled_from(["a", "b"])),
    together=links.map(tuple),
    next=links.map(tuple),
    similar=links.map(tuple),
    repeat_share=st.floats(0.0, 1.0),
    repeat_gap_days=st.one_of(st.none(), st.integers(1, 90)),
)
baskets = st.lists(
    st.tuples(st.integers(1, 400), st.lists(products, min_size=1, max_size=3, unique=True)), max_size=6
)
popular = st.lists(
    st.builds(
        Popular,
        product_id=products,
        score=st.floats(0.01, 50.0),
        category=st.one_of(st.none(), st.sampled_from(["a", "b"])),
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(
    raw=baskets,
    sigs=st.lists(signals, max_size=8),
    pop=popular,
    exclude=st.sets(products, max_size=3),
)
def test_ranked_lists_hold_no_duplicate_no_excluded_and_no_bought_product_not_due(raw, sigs, pop, exclude):
    # Given any history (days ago, products), model slices and excluded products
    history = sorted(
        (Basket("c", int((NOW - timedelta(days=d)).timestamp()), tuple(ps)) for d, ps in raw),
        key=lambda b: b.at,
    )
    by_product = {s.product_id: s for s in sigs}
    pop.sort(key=lambda p: -p.score)
    params = RankParams()
    # When ranked with the signals of its anchors only, as a request reads them
    recs = rank(history, {p: by_product[p] for p in anchors(history) if p in by_product}, pop, NOW, exclude)
    ids = [r.product_id for r in recs]
    # Then no product twice, none excluded, best first
    assert len(ids) == len(set(ids))
    assert not set(ids) & exclude
    assert [r.score for r in recs] == sorted((r.score for r in recs), reverse=True)
    # and a product bought before is there only as due again: its usual gap mostly passed
    last = {p: b.at for b in history for p in b.products}
    for r in recs:
        if r.product_id in last:
            assert r.reason.kind == "repeat_due"
            assert r.reason.days
            assert (NOW.timestamp() - last[r.product_id]) / DAY >= params.due_from * r.reason.days


def at(days_ago: float) -> int:
    return int((NOW - timedelta(days=days_ago)).timestamp())


def test_anchors_read_every_bought_product_but_only_the_recent_orders_lead():
    # Given seven orders, the oldest first
    history = [Basket("c", at(70 - 10 * k), (f"p{k}",)) for k in range(7)]
    # When its anchors are asked for
    got = anchors(history, RankParams(recent_orders=2, decay=0.5, max_anchors=6))
    # Then the last two orders lead (1, then 0.5), older products are read with weight 0
    assert got == {
        "p6": (1.0, at(10)),
        "p5": (0.5, at(20)),
        "p4": (0.0, at(30)),
        "p3": (0.0, at(40)),
        "p2": (0.0, at(50)),
        "p1": (0.0, at(60)),
    }


def test_a_bought_next_link_weighs_most_when_its_usual_gap_has_passed():
    # Given vol-1 usually followed by vol-2 twenty days later
    sig = {"vol-1": ProductSignals("vol-1", 10, next=(Link("vol-2", 0.8, 8, gap_days=20),))}

    def score(days_ago: int) -> float:
        (rec,) = rank([Basket("c", at(days_ago), ("vol-1",))], sig, (), NOW)
        return rec.score

    # When vol-1 was bought 1, 20 and 200 days ago
    # Then the fit on the gap scores highest, and the others still keep the link's floor
    assert score(20) == 0.8
    assert 0.8 * RankParams().gap_floor <= score(1) < score(20)
    assert 0.8 * RankParams().gap_floor <= score(200) < score(20)


def test_a_customers_own_cadence_says_when_their_item_is_due():
    # Given coffee usually bought every 30 days, but by this customer every 10 days
    sig = {"coffee": ProductSignals("coffee", 50, repeat_share=0.6, repeat_gap_days=30)}
    history = [
        Basket("c", at(29), ("coffee",)),
        Basket("c", at(19), ("coffee",)),
        Basket("c", at(9), ("coffee",)),
    ]
    # When ranked nine days after their last one
    (rec,) = rank(history, sig, (), NOW)
    # Then it is due again on their own ten-day cadence
    assert (rec.product_id, rec.reason.kind, rec.reason.days) == ("coffee", "repeat_due", 10)
