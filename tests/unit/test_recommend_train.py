"""The recommender's training and ranking on small planted histories (domain only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.domain.recommend.model import DAY, Basket
from chalicelib.domain.recommend.rank import rank
from chalicelib.domain.recommend.train import train

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def at(days_ago: float) -> int:
    return int((NOW - timedelta(days=days_ago)).timestamp())


def series_store() -> list[Basket]:
    """Twenty readers bought vol-1, then vol-2 about 20 days later; ten bought a hook with a rod."""
    out = []
    for i in range(20):
        out.append(Basket(f"r{i}", at(100 + i), ("vol-1",)))
        out.append(Basket(f"r{i}", at(80 + i), ("vol-2",)))
    for i in range(10):
        out.append(Basket(f"f{i}", at(50 + i), ("hook", "rod")))
    return out


def test_bought_next_is_learned_with_its_gap():
    # Given readers who buy the next volume twenty days after the first
    # When the model is trained
    model = train(series_store(), NOW)
    # Then vol-1 leads to vol-2, with every reader and a 20-day gap
    (link,) = model.products["vol-1"].next
    assert (link.product_id, link.count, link.score, link.gap_days) == ("vol-2", 20, 1.0, 20)
    assert model.products["vol-2"].next == ()


def test_bought_together_links_both_ways():
    model = train(series_store(), NOW)
    assert [link.product_id for link in model.products["hook"].together] == ["rod"]
    assert [link.product_id for link in model.products["rod"].together] == ["hook"]


def test_a_new_reader_is_offered_the_next_volume_with_its_reason():
    # Given a customer who just bought vol-1
    model = train(series_store(), NOW)
    history = [Basket("new", at(1), ("vol-1",))]
    # When ranked
    recs = rank(history, model.products, model.popular, NOW)
    # Then vol-2 comes first, explained by vol-1 and the usual gap; vol-1 is not offered again
    assert recs[0].product_id == "vol-2"
    why = recs[0].reason
    assert (why.kind, why.product_id, why.days) == ("bought_next", "vol-1", 20)
    assert "vol-1" not in [r.product_id for r in recs]


def test_a_consumable_comes_back_when_due_and_not_before():
    # Given coffee bought every 30 days by many customers
    baskets = [Basket(f"c{i}", at(200 - 30 * k - i), ("coffee",)) for i in range(10) for k in range(5)]
    model = train(baskets, NOW)
    assert model.products["coffee"].repeat_gap_days == 30
    # When a customer bought it 29 days ago, and another 5 days ago
    due = rank([Basket("x", at(29), ("coffee",))], model.products, model.popular, NOW)
    early = rank([Basket("y", at(5), ("coffee",))], model.products, model.popular, NOW)
    # Then it is offered to the first as due again, and not to the second
    assert [(r.product_id, r.reason.kind) for r in due] == [("coffee", "repeat_due")]
    assert early == []


def test_popularity_ranks_the_recent_window_first_then_the_all_time_favourites():
    # Given an old favourite (50 buyers 100 days ago) and a new product (3 buyers this week)
    baskets = [Basket(f"o{i}", at(100), ("old",)) for i in range(50)]
    baskets += [Basket(f"n{i}", at(3), ("new",)) for i in range(3)]
    # When trained
    model = train(baskets, NOW)
    # Then the recent window's product leads, and the favourite fills in below it
    assert [p.product_id for p in model.popular] == ["new", "old"]
    assert model.popular[1].score < model.popular[0].score
    assert model.orders == 53 and model.customers == 53
    assert all(b.at <= NOW.timestamp() for b in baskets) and DAY == 86400


def test_a_quiet_store_still_has_its_all_time_favourites():
    # Given orders only long before the recent window
    baskets = [Basket(f"o{i}", at(200), ("a", "b") if i < 5 else ("a",)) for i in range(8)]
    # When trained
    model = train(baskets, NOW)
    # Then the popular list is the all-time one, by buyers, the best scored 1
    assert [(p.product_id, p.score) for p in model.popular] == [("a", 1.0), ("b", 0.625)]
