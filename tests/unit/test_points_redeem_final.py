"""A redemption is announced (`points.redeemed`) only once final, on the fakes: a code
redemption is written `pending`, announced once the store made the code (`made`), never
when the store failed (`given_back`); the two exclude each other, whichever request of a
key gets there first (docs/loyalty.md#redemption)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain.errors import StoreFailed
from chalicelib.domain.loyalty.flow_events import redeemed
from chalicelib.domain.loyalty.model import GIVEN_BACK, MADE, PENDING, LedgerEntry
from tests.unit.test_points_redeem import CID, WS, Discounts, redeem, setup


class Announcer:
    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []

    def on_entry(self, entry: LedgerEntry) -> list[str]:
        self.entries.append(entry)
        return []


class SeesThePendingEntry(Discounts):
    """The store, asked while the ledger already holds the pending redemption."""

    def __init__(self, ledger, fail: bool = False) -> None:
        super().__init__(fail)
        self.ledger, self.seen = ledger, []

    def create(self, source, coupon, store_customer_id, email):
        (pending,) = [e for e in self.ledger.ledgers[(WS, CID)].values() if e.key.kind == "redeem"]
        self.seen.append((pending.state, redeemed(pending)))
        return super().create(source, coupon, store_customer_id, email)


def test_a_code_redemption_is_announced_once_made_and_its_pending_entry_starts_nothing():
    # Given 350 points, a store that sees the ledger when asked, and the flow triggers
    service, ledger, _ = setup()
    service.discounts, service.announce = SeesThePendingEntry(ledger), Announcer()
    # When 250 points are redeemed, and the request replayed
    first, again = redeem(service, 250), redeem(service, 250)
    # Then while the store was first asked the entry was pending, which the stream's
    # trigger does not count as redeemed
    assert service.discounts.seen[0] == (PENDING, False)
    # And the entry is made, announced as redeemed (again on the replay: the run is keyed)
    assert first.state == MADE and again == first and redeemed(first)
    assert ledger.entry(WS, CID, first.key).state == MADE
    assert [e.state for e in service.announce.entries] == [MADE, MADE]


def test_a_redemption_the_store_fails_is_given_back_and_never_announced():
    # Given a store that fails for good
    service, ledger, _ = setup(fail=True)
    service.announce = Announcer()
    # When 250 points are redeemed, twice
    for _ in range(2):
        with pytest.raises(StoreFailed):
            redeem(service, 250)
    # Then the entry is given back, not redeemed for the triggers, and nothing was announced
    (entry,) = [e for e in ledger.ledgers[(WS, CID)].values() if e.key.kind == "redeem"]
    assert entry.state == GIVEN_BACK and not redeemed(entry)
    assert service.announce.entries == [] and ledger.balance(WS, CID).total == 350


def test_a_code_made_after_another_request_gave_the_points_back_is_not_announced():
    # Given a redemption whose store call will succeed, but another request of the same key
    # gives its points back while the store is being asked
    service, ledger, discounts = setup()
    service.announce = Announcer()
    real_create = discounts.create

    def slow_store(source, coupon, store_customer_id, email):
        (pending,) = [e for e in ledger.ledgers[(WS, CID)].values() if e.key.kind == "redeem"]
        assert service._give_back(pending, pending.at)  # the other request's give-back
        return real_create(source, coupon, store_customer_id, email)

    discounts.create = slow_store
    # When the redemption's store call returns the code: Then 502, nothing announced
    with pytest.raises(StoreFailed):
        redeem(service, 250)
    assert service.announce.entries == [] and ledger.balance(WS, CID).total == 350


def test_store_credit_is_final_when_written():
    # Given a workspace redeeming as store credit
    service, _, _ = setup(redeem_as="store_credit")
    service.announce = Announcer()
    # When 200 points are redeemed: Then the entry has no state, counts as redeemed for the
    # stream's trigger, and the service announces nothing itself
    entry = redeem(service, 200)
    assert entry.state is None and redeemed(entry) and service.announce.entries == []
    assert redeemed(replace(entry, state=GIVEN_BACK)) is False
