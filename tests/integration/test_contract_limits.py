"""WindowCounter and RequestLimits contract: DynamoWindowCounter on moto and the fake
(tests/fakes_ports.py) count a workspace's requests per window alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.adapters.window_counter import DynamoWindowCounter
from chalicelib.domain.errors import TooManyRequests
from chalicelib.domain.limits import RequestLimits
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.fakes_ports import FakeWindowCounter

__all__ = ["moto_stage"]


def _dynamo(stage: MotoStage) -> DynamoWindowCounter:
    return DynamoWindowCounter(stage.crm)


counter = port_fixture(FakeWindowCounter, _dynamo)
AT = datetime(2026, 11, 27, 12, 0, 45, tzinfo=UTC)


def test_a_window_takes_requests_up_to_its_limit_then_refuses(counter):
    # When a workspace takes four requests in a window of limit 3
    taken = [counter.take("ws_a", "2026-11-27T12:00", 3, 1_800_000_000) for _ in range(4)]
    # Then three are taken and the fourth refused, again and again
    assert taken == [True, True, True, False]
    assert counter.take("ws_a", "2026-11-27T12:00", 3, 1_800_000_000) is False


def test_windows_and_workspaces_count_apart(counter):
    # Given a workspace's window at its limit
    assert counter.take("ws_a", "2026-11-27T12:00", 1, 1_800_000_000) is True
    # When the next window, and another workspace, take requests
    # Then each has its own count
    assert counter.take("ws_a", "2026-11-27T12:01", 1, 1_800_000_000) is True
    assert counter.take("ws_b", "2026-11-27T12:00", 1, 1_800_000_000) is True
    assert counter.take("ws_a", "2026-11-27T12:00", 1, 1_800_000_000) is False


def test_request_limits_refuse_over_the_limit_until_the_next_minute(counter):
    # Given a workspace limited to 2 requests a minute
    limits = RequestLimits(counter, per_minute=2)
    limits.check("ws_a", AT)
    limits.check("ws_a", AT + timedelta(seconds=5))
    # When a third request comes within the minute
    with pytest.raises(TooManyRequests) as refused:
        limits.check("ws_a", AT + timedelta(seconds=10))
    # Then it is refused until the minute is over, and the next minute takes requests again
    assert refused.value.retry_after == 5
    limits.check("ws_a", AT + timedelta(seconds=15))
