"""The demo store against the local stack: every profile, segment total and message must
match the simulated truth, and no log line may hold personal data."""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from chalicelib.handlers.http import logger as service_logger
from patron import demo
from patron.demo import run_demo
from tests.e2e.test_local_stack import free_port

pytestmark = pytest.mark.e2e
THIRD_PARTY = ("botocore", "boto3", "urllib3", "moto")


@pytest.fixture
def every_log_line() -> Iterator[io.StringIO]:
    """Every log record captured at DEBUG: Patron's own loggers and the service logger.

    The AWS SDK's and the embedded AWS's own wire-level DEBUG dumps stay at WARNING, as they
    are in Lambda: they print request bodies, and Patron never turns them on."""
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in THIRD_PARTY} | {"": root.level}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(logging.WARNING)
    service_logger.setLevel("DEBUG")
    previous = service_logger.registered_handler.setStream(captured)
    try:
        yield captured
    finally:
        service_logger.registered_handler.setStream(previous)
        service_logger.setLevel("WARNING")
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def test_the_demo_matches_the_simulated_store_and_logs_no_personal_data(
    tmp_path, capsys, monkeypatch, every_log_line
):
    # Given a seeded store with duplicates, out-of-order deliveries, refunds and cancellations
    monkeypatch.setenv("PATRON_STATE_DIR", str(tmp_path))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    # When it runs against the local stack over HTTP
    code = run_demo(customers=40, seed=3, port=free_port(), aws_port=free_port())
    out = capsys.readouterr().out
    # Then the summary says every profile matches, and no record was given up on
    assert code == 0, out
    verdict = (
        "all profiles, segment totals, messages, loyalty points, tickets, service reports, the "
        "pipeline and recommendations match the simulated truth"
    )
    assert verdict in out
    assert "nightly job" in out and "segment 'Slipping away'" in out
    assert "(0 to the failure queue)" in out
    assert "duplicate" in out and "stale" in out
    # And the shop's older orders came from its orders export, imported by the CLI, none rejected
    imported = out.split("Shopify orders export imported (patron import orders FILE --format shopify-csv):\n")
    assert len(imported) == 2 and " orders" in imported[1].splitlines()[0], out
    assert "\n  0 rows rejected\n" in out
    # And the abandoned-checkout flow recovered the shopper who did not order, once
    assert "recovery email              1, to the one who did not order, coupon BACK" in out
    # whose code the connected shop's Admin API (the stand-in) created before the email went
    code = re.search(r"coupon (BACK\S+) \(48 h\)", out)
    assert code is not None, out
    assert f"the code in the email       {code[1]}, created by the shop's Admin API" in out
    # And a campaign went through the queue to the prospects; the outbox shows what was sent
    assert "campaign 'Weekly news'        to the Prospects segment: sent " in out
    sent = re.search(r"Outbox: (\d+) email", out)
    assert sent is not None and int(sent[1]) >= 19
    # And loyalty was on before the live orders (the history import's policy: historical); every
    # balance is its ledger's sum and the orders' points, pending by the return window, tiers as
    # the rules give; one customer redeemed points for a code the shop's stand-in made once
    assert "history import policy: historical" in out
    assert re.search(
        r"loyalty +\d+ members, \d+ points outstanding \(\d+ pending\), customers per tier: ", out
    )
    redeemed = re.search(
        r"redemption +customer \S+: 100 points for code (PTS-\w+) .*balance (\d+) -> (\d+)", out
    )
    assert redeemed is not None, out
    assert int(redeemed[2]) - int(redeemed[3]) == 100
    # And the service desk's tickets, opened and worked through the API, are as planned
    desk = r"tickets +8 for 8 customers \(open 3, pending 1, on hold 1, solved 3\), 27 events"
    assert re.search(desk, out), out
    # And the solved tickets' surveys were answered by their links, the SLA report counts the
    # replies and resolutions, and the pipeline's forecast is its open stages' weighted values
    assert "SLA: 7 targets met over 8 tickets; CSAT: 3 surveys sent, 2 answered (CSAT 0.5000)" in out
    assert "sales pipeline                5 opportunities, forecast 3220.00 USD; 1 won and reconciled" in out
    assert "MISMATCH" not in out
    # And, the stack stopping with the run, the summary gives the command that keeps it up
    assert "to keep exploring, run `.venv/bin/patron demo --keep-running`" in out
    # And of all the log lines that whole run wrote, none holds an email, a phone or a name
    people, _, _ = demo.simulate(3, 40, datetime.now(UTC))
    names = {p.first + " " + p.last for p in people} | {f"{p.first}.{p.last}".lower() for p in people}
    personal = re.compile(
        r"@example\.(com|net|org)|\+1212555|\+1 ?\(?212|" + "|".join(map(re.escape, names)), re.I
    )
    lines = every_log_line.getvalue().splitlines()
    assert len(lines) > 50 and any('"profile change"' in line for line in lines)  # DEBUG lines seen
    leaks = [line for line in lines if personal.search(line)]
    assert leaks == [], leaks[:3]
