"""The Ledger port's contract: one scenario suite, run against the in-memory fake the unit
tests use and against the DynamoDB adapter on moto, so the fake cannot drift."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.messaging import DynamoLedger
from chalicelib.domain.messaging.ports import Ledger
from tests.unit.test_messaging import FakeLedger
from tests.unit.test_motofast import create_pk_sk_table

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
WS, CID, KEY = "ws_1", "c_000a", "camp:cmp1"


@pytest.fixture(params=["fake", "dynamodb"])
def ledger(request: pytest.FixtureRequest) -> Iterator[Ledger]:
    if request.param == "fake":
        yield FakeLedger()
        return
    request.getfixturevalue("aws")
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_pk_sk_table(client, "crm")
    yield DynamoLedger(CrmTable(client, "crm"))


def test_a_message_is_claimed_once(ledger: Ledger):
    # Given a message nobody has claimed
    # When two attempts claim it within the lease
    first = ledger.claim(WS, CID, KEY, NOW, LEASE)
    second = ledger.claim(WS, CID, KEY, NOW + timedelta(seconds=1), LEASE)
    # Then the first holds it and the second finds it busy
    assert (first, second) == ("claimed", "busy")


def test_a_finished_message_is_done_for_good(ledger: Ledger):
    # Given a message claimed and sent
    ledger.claim(WS, CID, KEY, NOW, LEASE)
    ledger.finish(WS, CID, KEY, "sent", "ses-1")
    # When it is claimed again, even long after its lease
    again = ledger.claim(WS, CID, KEY, NOW + timedelta(days=1), LEASE)
    # Then it is done: nothing is sent twice
    assert again == "done"


def test_a_claim_whose_lease_ran_out_is_taken_again(ledger: Ledger):
    # Given a claim whose sender died before finishing
    ledger.claim(WS, CID, KEY, NOW, LEASE)
    # When another attempt comes after the lease ran out
    retaken = ledger.claim(WS, CID, KEY, NOW + LEASE + timedelta(seconds=1), LEASE)
    # Then it takes the claim
    assert retaken == "claimed"


def test_a_released_claim_is_free_to_take(ledger: Ledger):
    # Given a claim released after a provider error
    ledger.claim(WS, CID, KEY, NOW, LEASE)
    ledger.release(WS, CID, KEY)
    # When the retry claims it within what was the lease
    retried = ledger.claim(WS, CID, KEY, NOW + timedelta(seconds=1), LEASE)
    # Then it is free
    assert retried == "claimed"


@pytest.mark.parametrize("status", ["sent", "dropped", "refused"])
def test_release_leaves_a_finished_message_alone(ledger: Ledger, status: str):
    # Given a message finished (sent, dropped or refused)
    ledger.claim(WS, CID, KEY, NOW, LEASE)
    ledger.finish(WS, CID, KEY, status, "why")
    # When a late release comes for it (a give-back after the outcome was recorded)
    ledger.release(WS, CID, KEY)
    # Then the message stays done: releasing frees only a claim still `sending`
    assert ledger.claim(WS, CID, KEY, NOW + timedelta(seconds=1), LEASE) == "done"


def test_release_of_an_unknown_message_changes_nothing(ledger: Ledger):
    # Given no claim for the message
    # When it is released
    ledger.release(WS, CID, KEY)
    # Then it can still be claimed once
    assert ledger.claim(WS, CID, KEY, NOW, LEASE) == "claimed"
    assert ledger.claim(WS, CID, KEY, NOW, LEASE) == "busy"


def test_claims_are_per_customer_and_per_key(ledger: Ledger):
    # Given a claim of one message for one customer
    ledger.claim(WS, CID, KEY, NOW, LEASE)
    # When the same key is claimed for another customer, and another key for the same one
    other_customer = ledger.claim(WS, "c_000b", KEY, NOW, LEASE)
    other_key = ledger.claim(WS, CID, "camp:cmp2", NOW, LEASE)
    other_workspace = ledger.claim("ws_2", CID, KEY, NOW, LEASE)
    # Then each is its own message
    assert (other_customer, other_key, other_workspace) == ("claimed", "claimed", "claimed")
