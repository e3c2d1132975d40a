"""The RedemptionLedger port's contract (a code redemption settled once: made in the store
or given back, never both), run against the unit tests' fake and the DynamoDB adapter on
moto; and a redemption's state round-trips through its item."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.adapters.points_ledger import DynamoPointsLedger, entry_from_item, entry_item
from chalicelib.domain.loyalty.model import GIVEN_BACK, MADE, PENDING, REDEEM, RESTORE, EntryKey, LedgerEntry
from tests.contract import MotoStage, moto_stage, port_fixture  # noqa: F401 (the fixture)
from tests.integration.test_contract_points_ledger import CID, LOT, PAID, WS, adjustment
from tests.unit.fake_points import FakePointsLedger


def _on_moto(stage: MotoStage) -> DynamoPointsLedger:
    return DynamoPointsLedger(stage.crm)


ledger = port_fixture(FakePointsLedger, _on_moto)


def redemption(key: str, points: int = 60) -> LedgerEntry:
    return LedgerEntry(
        WS, CID, EntryKey(REDEEM, key, REDEEM), -points, PAID, lots=((PAID.date(), -points),),
        code=f"PTS-{key}", store_source="s1", state=PENDING,
    )  # fmt: skip


def give_back(entry: LedgerEntry) -> LedgerEntry:
    return replace(entry, key=replace(entry.key, kind=RESTORE), points=-entry.points,
                   lots=tuple((d, -n) for d, n in entry.lots), state=None)  # fmt: skip


def test_a_made_redemption_is_never_given_back_and_a_given_back_one_never_made(ledger):
    # Given 200 points and two pending code redemptions of 60
    assert ledger.adjust(adjustment(200, "k-0"))
    made, failed = redemption("r-1"), redemption("r-2")
    assert ledger.adjust(made) and ledger.adjust(failed)
    # When the first is confirmed (twice) then given back, the second given back (twice) then confirmed
    confirms = [ledger.confirm(made), ledger.confirm(made)]
    late_back = ledger.give_back(made, give_back(made))
    backs = [ledger.give_back(failed, give_back(failed)), ledger.give_back(failed, give_back(failed))]
    late_confirm = ledger.confirm(failed)
    # Then each settles once, the first way asked
    assert (confirms, late_back, backs, late_confirm) == ([True, False], False, [True, False], False)
    assert ledger.entry(WS, CID, made.key).state == MADE
    assert ledger.entry(WS, CID, failed.key).state == GIVEN_BACK
    # And only the given-back one's points came back, once: 200 - 60
    assert ledger.entry(WS, CID, give_back(made).key) is None
    assert ledger.balance(WS, CID).total == 140


def test_a_redemption_written_before_states_can_still_be_settled(ledger):
    # Given a code redemption without a state (written before redemptions had one)
    assert ledger.adjust(adjustment(100, "k-0"))
    old = replace(redemption("r-old"), state=None)
    assert ledger.adjust(old)
    # When its store fails: Then it is given back, once
    assert ledger.give_back(old, give_back(old)) is True
    assert ledger.confirm(old) is False
    assert ledger.balance(WS, CID).total == 100


def test_a_redemptions_state_round_trips():
    # Given redemptions in each state, When mapped to their items and back, Then the same
    entries = [
        replace(redemption("r"), state=s, lots=((LOT, -60),)) for s in (PENDING, MADE, GIVEN_BACK, None)
    ]
    assert [entry_from_item(entry_item(e)) for e in entries] == entries


def test_a_give_back_on_a_closed_balance_is_refused_and_on_the_survivors_settles_the_redemption(ledger):
    # Given a pending redemption of 60 on CID's ledger, then CID's balance closed into c_s
    from chalicelib.domain.loyalty.model import MERGE, TRANSFER_IN, TRANSFER_OUT

    assert ledger.adjust(adjustment(200, "k-0"))
    entry = redemption("r-1")
    assert ledger.adjust(entry)
    read = ledger.balance(WS, CID)
    out = LedgerEntry(WS, CID, EntryKey(MERGE, "c_s", TRANSFER_OUT), -read.total, PAID,
                      lots=tuple((d, -n) for d, n in sorted(read.lots.items())))  # fmt: skip
    into = replace(out, customer_id="c_s", key=EntryKey(MERGE, CID, TRANSFER_IN), points=read.total,
                   lots=tuple(sorted(read.lots.items())))  # fmt: skip
    assert ledger.transfer(out, into, read)
    # When it is given back on CID's (closed) balance, then on the survivor's, twice
    on_closed = ledger.give_back(entry, give_back(entry))
    on_survivor = [ledger.give_back(entry, replace(give_back(entry), customer_id="c_s")) for _ in range(2)]
    # Then the closed balance refused it (nothing written), the survivor's took it once
    assert (on_closed, on_survivor) == (False, [True, False])
    assert ledger.entry(WS, CID, entry.key).state == GIVEN_BACK
    assert ledger.entry(WS, CID, give_back(entry).key) is None
    assert ledger.entry(WS, "c_s", give_back(entry).key).points == 60
    assert (ledger.balance(WS, CID).total, ledger.balance(WS, "c_s").total) == (0, 200)
