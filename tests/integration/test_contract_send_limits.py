"""The Limits port's contract: one scenario suite, run against the unit tests' FakeLimits and
DynamoLimits on moto (opt-outs and suppressions per workspace and channel, caps, spacing,
SMS credits per workspace)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.limits import DynamoLimits
from tests.unit.test_messaging import FakeLimits
from tests.unit.test_motofast import create_pk_sk_table

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["fake", "dynamodb"])
def limits(request: pytest.FixtureRequest) -> Iterator[tuple[Any, Callable[[str, int], None]]]:
    """The limits, and how a workspace is given SMS credits (the adapter: its `smsc`)."""
    if request.param == "fake":
        fake = FakeLimits(credits=0)

        def give(workspace_id: str, parts: int) -> None:
            fake.credits[workspace_id] = parts

        yield fake, give
        return
    request.getfixturevalue("aws")
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_pk_sk_table(client, "crm")
    table = CrmTable(client, "crm")

    def give_credits(workspace_id: str, parts: int) -> None:
        table.put({"pk": f"WS#{workspace_id}", "sk": "WS", "smsc": parts})

    yield DynamoLimits(table), give_credits


def test_a_suppression_holds_for_its_workspace_and_channel_whatever_the_case(limits):
    store, _ = limits
    # Given an address suppressed by a hard bounce in one workspace
    store.suppress("ws_1", "email", "Ana@Example.com ", "hard bounce")
    # Then it is suppressed there, however it is written, and nowhere else
    assert store.is_suppressed("ws_1", "email", "ana@example.com")
    assert not store.is_suppressed("ws_2", "email", "ana@example.com")
    assert not store.is_suppressed("ws_1", "sms", "ana@example.com")
    # And a batched read finds it too, with the opt-outs
    store.opt_out("ws_1", "email", "c_1", "link")
    assert store.listed("ws_1", "email", ["c_1", "c_2"], ["ANA@example.com", "bo@example.com"]) == (
        {"c_1"},
        {"ANA@example.com"},
    )


def test_an_opt_out_holds_for_its_workspace_and_channel(limits):
    store, _ = limits
    # Given a customer who unsubscribed from email in one workspace
    store.opt_out("ws_1", "email", "c_1", "link")
    # Then only that channel of that workspace is affected
    assert store.is_opted_out("ws_1", "email", "c_1")
    assert not store.is_opted_out("ws_1", "sms", "c_1")
    assert not store.is_opted_out("ws_2", "email", "c_1")
    assert store.listed("ws_2", "email", ["c_1"], []) == (set(), set())


def test_the_cap_counts_per_customer_and_period_and_can_be_given_back(limits):
    store, _ = limits
    # Given a cap of two a day
    taken = [store.take_cap("ws_1", "c_1", "2026-11-23", 2) for _ in range(3)]
    # Then the third is refused; another day or customer has its own count
    assert taken == [True, True, False]
    assert store.take_cap("ws_1", "c_1", "2026-11-24", 2)
    assert store.take_cap("ws_1", "c_2", "2026-11-23", 2)
    # And a message given back frees one
    store.return_cap("ws_1", "c_1", "2026-11-23")
    assert store.take_cap("ws_1", "c_1", "2026-11-23", 2)
    assert not store.take_cap("ws_1", "c_1", "2026-11-23", 2)


def test_spacing_lets_one_message_through_per_gap(limits):
    store, _ = limits
    gap = timedelta(days=3)
    # Given a message now
    assert store.take_spacing("ws_1", "c_1", NOW, gap)
    # Then another within the gap is refused, one a whole gap later goes
    assert not store.take_spacing("ws_1", "c_1", NOW + timedelta(days=2), gap)
    assert store.take_spacing("ws_1", "c_1", NOW + gap, gap)
    assert store.take_spacing("ws_1", "c_2", NOW + timedelta(days=2), gap)


def test_sms_credits_are_a_balance_per_workspace(limits):
    store, give = limits
    # Given a workspace with 3 parts of credit, and one without any
    give("ws_1", 3)
    # When parts are taken beyond the balance
    first, second = store.take_sms_credits("ws_1", 2), store.take_sms_credits("ws_1", 2)
    # Then the balance holds: what is left is not enough, and the other workspace has nothing
    assert (first, second) == (True, False)
    assert not store.take_sms_credits("ws_2", 1)
    # And parts given back can be taken again
    store.return_sms_credits("ws_1", 2)
    assert store.take_sms_credits("ws_1", 3)
    assert not store.take_sms_credits("ws_1", 1)
