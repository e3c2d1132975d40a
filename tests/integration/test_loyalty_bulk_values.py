"""A campaign batch's loyalty template values on the fake and on moto: `template_values_of`
reads a page of 150 customers' balances and tier states in batches (pages of 100 keys
each), equal to what `template_values` reads for each customer alone
(docs/loyalty.md#in-templates)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from chalicelib.domain.loyalty.model import EntryKey, LedgerEntry
from chalicelib.domain.loyalty.summary import LoyaltySummaries
from chalicelib.domain.loyalty.tiers import TierState
from tests.contract import moto_stage, port_fixture
from tests.integration.test_contract_loyalty_books import Books, _fake, _on_moto
from tests.unit.points_orders import PAID_AT, WS, Settings
from tests.unit.test_loyalty_summary import RULES

__all__ = ["moto_stage"]  # the fixture the moto side asks for
CUSTOMERS = [f"c_{n}" for n in range(150)]
pages = port_fixture(_fake, _on_moto)


def test_a_page_of_customers_gets_the_values_each_would_get_alone_in_batched_reads(pages: Books):
    books = pages
    # Given 150 customers: every third with points, every sixth silver, every tenth gold
    settings = Settings()
    settings.value = replace(settings.value, tiers=RULES)
    for n, cid in enumerate(CUSTOMERS):
        if n % 3 == 0:
            key = EntryKey("manual", "k", "adjustment")
            assert books.ledger.adjust(LedgerEntry(WS, cid, key, 100 + n, PAID_AT, reason="test"))
        tier = "gold" if n % 10 == 0 else "silver" if n % 6 == 0 else None
        if tier:
            assert books.tiers.save(TierState(WS, cid, tier, PAID_AT, Decimal(600)), None)
    summaries = LoyaltySummaries(
        books.ledger,
        books.tiers,
        settings,
        clock=lambda: datetime(2026, 12, 3, 12, tzinfo=UTC),
        books=books.books,
    )
    # When their template values are read as one page
    before = books.batches()
    together = summaries.template_values_of(WS, CUSTOMERS)
    reads = books.batches() - before
    # Then the balances and the tier states took at most two batch reads each (100 keys a page)
    assert 2 <= reads <= 4
    # And each customer's values are those a read of their own gives
    assert together == {cid: summaries.template_values(WS, cid) for cid in CUSTOMERS}
    assert together["c_0"] == {
        "points": "100",
        "points_pending": "0",
        "tier": "gold",
        "tier_benefits": "2x points, free shipping, 10% off",
    }
    assert together["c_1"] == {"points": "0", "points_pending": "0"}
