"""Points expiry on moto (docs/loyalty.md#expiry): the lot-day buckets' contract (fake and
DynamoDB), expiry racing redemptions (threads as Lambda instances), and the CLI's sweep."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.adapters.points_ledger import DynamoPointsLedger, lot_bucket_customer, lot_bucket_key
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import Conflict
from chalicelib.domain.loyalty.adjust import PointsRefused, spend_entry
from chalicelib.domain.loyalty.expiry import PointsExpiry, expiry_key, listing_day
from chalicelib.domain.loyalty.model import ADJUSTMENT, MANUAL, EntryKey, LedgerEntry
from chalicelib.domain.loyalty.redeem import PointsRedemptions, RedeemIn
from tests.cli_runs import run
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.integration.test_contract_points_ledger import atomic_transactions
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import CID, WS, Settings, on

__all__ = ["atomic_transactions", "moto_stage"]  # the fixtures this module uses
D1, D2 = date(2026, 10, 1), date(2026, 10, 2)
NOW = datetime(2026, 10, 20, 12, tzinfo=UTC)


def _on_moto(stage: MotoStage) -> DynamoPointsLedger:
    return DynamoPointsLedger(stage.crm)


ledger = port_fixture(FakePointsLedger, _on_moto)


def credit(store: Any, day: date, points: int, key: str, cid: str = CID, ws: str = WS) -> None:
    entry = LedgerEntry(ws, cid, EntryKey(MANUAL, key, ADJUSTMENT), points, NOW, lots=((day, points),))
    assert store.adjust(entry)


def test_the_customers_with_a_lot_of_a_day_are_found_once_each(ledger):
    # Given 40 customers credited on 1 Oct (one twice), one on 2 Oct, and a spend
    for n in range(40):
        credit(ledger, D1, 10, f"a{n}", cid=f"c_{n:03d}")
    credit(ledger, D1, 5, "again", cid="c_000")
    credit(ledger, D2, 10, "b", cid="c_999")
    entry = LedgerEntry(WS, "c_001", EntryKey(MANUAL, "s", ADJUSTMENT), -10, NOW)
    assert ledger.adjust(spend_entry(ledger, entry, 10, D2))
    # When each day's customers are listed
    first = list(ledger.customers_with_lot(WS, D1))
    # Then each customer with a lot of that day, once (a spent lot's customer too), and no other day's
    assert sorted(first) == [f"c_{n:03d}" for n in range(40)]
    assert list(ledger.customers_with_lot(WS, D2)) == ["c_999"]
    assert list(ledger.customers_with_lot("ws_other", D1)) == []


def test_the_lot_bucket_key_round_trips():
    # Given a customer's lot of a day
    pk, sk = lot_bucket_key("ws_1", D1, "c_1")
    # When its key is read back
    # Then the customer, in the day's shard
    assert lot_bucket_customer(sk) == "c_1"
    assert pk.startswith("W#ws_1#PEXP#20261001#") and len(pk.rsplit("#", 1)[1]) == 2


class Profiles:
    def load(self, workspace_id: str, customer_id: str) -> Any:
        return CustomerProfile(WS, CID)  # (a redemption also reads its merged ids)


def test_expiry_racing_redemptions_never_expires_spent_points(moto_stage, atomic_transactions):
    # Given a lot of 1,000 (1 Oct) expiring after 19 days, and 8 redeemers spending it at once
    store = DynamoPointsLedger(moto_stage.crm)
    credit(store, D1, 1000, "c")
    rules = Settings(
        replace(on(), redeem_as="store_credit", redeem_min_points=1, expiry="lots", expiry_days=19)
    )
    redemptions = PointsRedemptions(store, rules, Profiles())  # type: ignore[arg-type]
    expiry = PointsExpiry(store, rules)
    barrier = threading.Barrier(9)

    def redeemer(worker: int) -> int:
        barrier.wait()
        done = 0
        for n in range(6):
            try:
                done -= redemptions.redeem(WS, CID, RedeemIn(points=30), f"w{worker}-{n}", NOW).points
            except (PointsRefused, Conflict):
                continue
        return done

    def sweeper(_: int) -> int:
        barrier.wait()
        return sum(expiry.expire(WS, D1 + timedelta(days=19))["points_expired"] for _ in range(3))

    # When the sweep (three times) races them
    with ThreadPoolExecutor(9) as pool:
        got = list(pool.map(lambda i: sweeper(i) if i == 8 else redeemer(i), range(9)))
    # Then what was redeemed plus what expired is the lot, exactly; the lot is empty, never negative
    redeemed, expired = sum(got[:8]), got[8]
    assert redeemed + expired == 1000
    stored = store.entry(WS, CID, expiry_key(D1))
    assert stored is not None and -stored.points == expired
    balance = store.balance(WS, CID)
    assert (balance.total, balance.lots, balance.debt) == (0, {}, 0)
    entries, _ = store.entries(WS, CID, 200, None)
    assert sum(e.points for e in entries) == 0


def test_the_cli_sweeps_a_chosen_day_once(stage, ws, cli_on):
    # Given lots expiry after 30 days, set from the CLI, and a customer's lot of 1 Oct
    done = run(
        "workspace", "loyalty", "-w", ws.workspace_id, "--on", "--expiry", "lots", "--expiry-days", "30"
    )
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["expiry"] == "lots"
    credit(stage.container.points_ledger, D1, 120, "c", ws=ws.workspace_id)
    # When `patron loyalty expire` runs on 31 Oct, twice
    first = run("loyalty", "expire", "-w", ws.workspace_id, "--today", "2026-10-31")
    second = run("loyalty", "expire", "-w", ws.workspace_id, "--today", "2026-10-31")
    # Then the lot expires once
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["points_expired"] == 120
    assert json.loads(second.stdout)["points_expired"] == 0
    assert stage.container.points_ledger.balance(ws.workspace_id, CID).total == 0


def test_the_last_activity_moves_with_earnings_adjustments_and_redemptions_only(ledger):
    # Given a credit adjustment at NOW (activity)
    credit(ledger, D1, 100, "c")
    after_credit = ledger.balance(WS, CID).last_activity
    # When a reversal of spent points (debt) and the lot's expiry are written later
    later = datetime(2026, 10, 31, 12, tzinfo=UTC)  # the lot of 1 Oct is due
    reversal = LedgerEntry(WS, CID, EntryKey("refund", "o.r", "reverse"), -10, later, debt=10)
    assert ledger.adjust(reversal)
    PointsExpiry(ledger, Settings(replace(on(), expiry="lots", expiry_days=30))).expire(WS, later.date())
    after_expiry = ledger.balance(WS, CID)
    # and then a redemption-like spend of a new credit
    credit(ledger, later.date(), 50, "c2")
    spend = LedgerEntry(WS, CID, EntryKey("redeem", "k", "redeem"), -20, later + timedelta(hours=1))
    assert ledger.adjust(spend_entry(ledger, spend, 20, later.date()))
    # Then only the credits and the redemption moved it; the reversal and the expiry did not
    assert after_credit == NOW
    assert after_expiry.last_activity == NOW and (after_expiry.total, after_expiry.debt) == (0, 0)
    assert ledger.balance(WS, CID).last_activity == later + timedelta(hours=1)


def test_the_last_activity_is_one_attribute_of_the_balance_item(moto_stage):
    # Given the ledger on DynamoDB
    store = DynamoPointsLedger(moto_stage.crm)
    # When a credit is written
    credit(store, D1, 100, "c")
    # Then the balance item holds exactly its sum, its lot, its type and `la` (nothing else)
    item = moto_stage.crm.get(f"W#{WS}#PTS#{CID}", "BAL", consistent=True)
    assert item is not None
    assert set(item) == {"pk", "sk", "t", "pts", "lt20261001", "la"}
    assert item["la"] == "2026-10-20T12:00:00.000000Z"


def test_an_inactivity_expiry_is_written_only_while_the_last_activity_is_the_one_read(ledger):
    # Given a balance of 100 whose last activity is NOW, and an expiry entry for it
    credit(ledger, D1, 100, "c")
    read = ledger.balance(WS, CID).last_activity
    entry = LedgerEntry(
        WS, CID, EntryKey("expiry", "inactive:2026-10-20", "expire"), -100, NOW, lots=((D1, -100),)
    )
    # When a redemption lands first, then the expiry is tried against the stale and the new reading
    spend = LedgerEntry(WS, CID, EntryKey("redeem", "k", "redeem"), -10, NOW + timedelta(hours=1))
    assert ledger.adjust(spend_entry(ledger, spend, 10, D2))
    stale = ledger.expire_inactive(entry, read)
    fresh = ledger.balance(WS, CID).last_activity
    written = ledger.expire_inactive(replace(entry, points=-90, lots=((D1, -90),)), fresh)
    replayed = ledger.expire_inactive(replace(entry, points=-90, lots=((D1, -90),)), fresh)
    # Then the stale one writes nothing; the fresh one expires the rest, once
    assert (stale, written, replayed) == (False, True, False)
    balance = ledger.balance(WS, CID)
    assert (balance.total, balance.lots, balance.last_activity) == (0, {}, fresh)


def test_erasing_a_ledger_deletes_the_lot_day_buckets_naming_the_customer(moto_stage):
    # Given a customer with lots on two days
    from chalicelib.adapters.points_tally import DynamoPointsTally

    store = DynamoPointsLedger(moto_stage.crm)
    credit(store, D1, 100, "a")
    credit(store, D2, 50, "b")
    # When their ledger is folded into the anonymous tally (erasure)
    DynamoPointsTally(moto_stage.crm).fold(WS, CID)
    # Then no bucket names them any more
    assert list(store.customers_with_lot(WS, D1)) == [] and list(store.customers_with_lot(WS, D2)) == []


def test_a_lot_given_back_after_its_expiry_expires_again_under_its_next_key(ledger):
    # Given a lot of 100 on 1 Oct, 60 of it spent, and the 40 left expired on its day (30 days)
    credit(ledger, D1, 100, "a")
    spent = LedgerEntry(WS, CID, EntryKey("redeem", "k1", "redeem"), -60, NOW)
    taken = spend_entry(ledger, spent, 60, D1)
    assert ledger.adjust(taken)
    expiry = PointsExpiry(ledger, Settings(replace(on(), expiry="lots", expiry_days=30)))
    assert expiry.expire(WS, D1 + timedelta(days=30))["points_expired"] == 40
    # When the 60 are given back to the same lot on 20 Nov (listed under the day due then)
    today = date(2026, 11, 20)
    back = replace(taken, key=EntryKey("redeem", "k1", "restore"), points=60, lots=((D1, 60),), at=NOW)
    ledger.mark_lot_day(WS, CID, listing_day(D1, today, 30))
    assert ledger.adjust(back, list_lots=False)
    swept = [expiry.expire(WS, today)["points_expired"] for _ in range(2)]
    # Then that day's sweep expires them once, under the lot's second key
    assert swept == [60, 0]
    again = ledger.entry(WS, CID, expiry_key(D1, 2))
    assert again is not None and (again.points, again.lots) == (-60, ((D1, -60),))
    assert ledger.balance(WS, CID).total == 0
