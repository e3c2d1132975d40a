"""Shared fixtures. AWS is always moto: fake credentials, no network beyond loopback."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

EVENTS = Path(__file__).resolve().parents[1] / "events"

# Never let a test reach real AWS, whatever the developer's environment holds.
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)


# Dates that break date arithmetic, for the tests that depend on "now" (they take the
# `frozen_now` fixture and run once per date): a leap day; the last evening of a year in
# UTC, which is already the next year east of it; the US spring-forward morning (02:00 EST
# becomes 03:00 EDT at 07:00 UTC); the EU autumn change (01:00 UTC) and a Sunday night.
FROZEN_DATES = {
    "leap-day": datetime(2028, 2, 29, 12, 0, tzinfo=UTC),
    "new-years-eve": datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
    "us-spring-forward": datetime(2027, 3, 14, 7, 30, tzinfo=UTC),
    "eu-autumn-back": datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
}


@pytest.fixture(params=list(FROZEN_DATES.values()), ids=list(FROZEN_DATES))
def frozen_now(request: pytest.FixtureRequest) -> Iterator[datetime]:
    """Travel to each of FROZEN_DATES (the clock ticks on from there). Name it first among a
    test's fixtures, so the whole stage is built in that time."""
    with time_machine.travel(request.param, tick=True):
        yield request.param


@pytest.fixture(autouse=True)
def _suite_now() -> Iterator[None]:
    """`PATRON_TEST_NOW=2031-12-31T23:30:00Z pytest` runs every test in another time: the
    suite passes on any date (tests that take `frozen_now` still travel to theirs)."""
    at = os.environ.get("PATRON_TEST_NOW")
    if not at:
        yield
        return
    with time_machine.travel(datetime.fromisoformat(at), tick=True):
        yield


_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def _stamps(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _stamps(v)
    elif isinstance(value, list):
        for v in value:
            yield from _stamps(v)
    elif isinstance(value, str) and _STAMP.match(value):
        yield value


def _parse(stamp: str) -> datetime:
    at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # WooCommerce's *_gmt fields: UTC


def _shift(value: Any, by: timedelta) -> Any:
    if isinstance(value, dict):
        return {k: _shift(v, by) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, by) for v in value]
    if isinstance(value, str) and _STAMP.match(value):
        shifted = datetime.fromisoformat(value.replace("Z", "+00:00")) + by
        text = shifted.isoformat()
        return text.replace("+00:00", "Z") if value.endswith("Z") else text
    return value


def relative_to(now: datetime, *bodies: Any, ago: timedelta = timedelta(minutes=5)) -> list[Any]:
    """Fixture payloads moved in time together, so that their latest timestamp is `ago`
    before `now`: every date in them shifts by the same amount, in its own format and
    offset, so the order of events and the gaps between them stay what the fixtures say."""
    latest = max(_parse(s) for body in bodies for s in _stamps(body))
    return [_shift(body, now - ago - latest) for body in bodies]


def fresh_events(now: datetime, *relative: str) -> list[bytes]:
    """Webhook fixtures under `events/`, moved together to just before `now`."""
    bodies = relative_to(now, *(load_event(r) for r in relative))
    return [json.dumps(body).encode() for body in bodies]


def load_event(relative: str) -> dict[str, Any]:
    return json.loads((EVENTS / relative).read_text())


def event_bytes(relative: str) -> bytes:
    return (EVENTS / relative).read_bytes()


@pytest.fixture
def aws() -> Iterator[None]:
    from moto import mock_aws

    from patron import motofast

    motofast.install()
    with mock_aws():
        yield


# `make test` runs the suite on every core (pytest-xdist, `-n auto --dist loadgroup`). A test
# runs alone on its worker unless it shares something with other tests; those go to one
# worker together (an xdist_group, in collection order):
# - the session's demo stack (tests/e2e/conftest.py `shared_demo`): started once, the
#   console's browser tests before the schemathesis run;
# - the Chalice package builds (the `slow` marker): chalice writes its dependency cache under
#   functions/.chalice/deployments without a lock, so two builds at once could read a half
#   written zip;
# - a module's (or class's) shared fixture, such as a local stack: built once, not per worker.
# Without xdist (`pytest tests/...`) the groups are plain marks and change nothing: test ids
# stay as they are.
SHARED_DEMO_GROUP = "shared-demo"
CHALICE_PACKAGE_GROUP = "chalice-package"


def xdist_group_of(item: pytest.Item) -> str | None:
    fixtures = getattr(item, "fixturenames", ())
    if "shared_demo" in fixtures:
        return SHARED_DEMO_GROUP
    if item.get_closest_marker("slow") is not None:
        return CHALICE_PACKAGE_GROUP
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs.values() if info is not None else ()
    if any(d.scope in ("module", "class", "package") for defs in definitions for d in defs):
        return item.nodeid.split("::", 1)[0]
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        group = xdist_group_of(item)
        if group is None or item.get_closest_marker("xdist_group") is not None:
            continue
        item.add_marker(pytest.mark.xdist_group(group))
        if getattr(config.option, "loadgroup", False):  # an xdist worker, run with --dist loadgroup
            _name_group(item, group)


def _name_group(item: pytest.Item, group: str) -> None:
    """xdist's loadgroup schedules by the "@group" suffix of a test's id. xdist 3.8 adds it by
    setting `item._nodeid`, which pytest 9 no longer reads (the id is `item._id`, a NodeId):
    the suffix is added here, and checked, so that a change of either fails loudly instead of
    starting the demo stack twice or running two Chalice builds at once."""
    from _pytest.nodeid import NodeId

    item._id = NodeId.parse(f"{item.nodeid}@{group}")  # type: ignore[attr-defined]
    assert item.nodeid.rsplit("@", 1)[-1] == group, item.nodeid
