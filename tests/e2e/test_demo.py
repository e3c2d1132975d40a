"""The demo store against the local stack: every profile must match the simulated truth."""

from __future__ import annotations

import os
import re

import pytest

from patron.demo import run_demo
from tests.e2e.test_local_stack import free_port

pytestmark = pytest.mark.e2e


def test_demo_profiles_match_the_simulated_store(tmp_path, capsys, monkeypatch):
    # Given a seeded store with duplicates, out-of-order deliveries, refunds and cancellations
    monkeypatch.setenv("PATRON_HOME", str(tmp_path))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    # When it runs against the local stack over HTTP
    code = run_demo(customers=40, seed=3, port=free_port(), aws_port=free_port())
    out = capsys.readouterr().out
    # Then the summary says every profile matches, and no record was given up on
    assert code == 0, out
    assert "all profiles, segment totals and messages match the simulated truth" in out
    assert "nightly job" in out and "segment 'Slipping away'" in out
    assert "(0 to the failure queue)" in out
    assert "duplicate" in out and "stale" in out
    # And the abandoned-checkout flow recovered the shopper who did not order, once
    assert "recovery email              1, to the one who did not order, coupon BACK" in out
    # And a campaign went through the queue to the prospects; the outbox shows what was sent
    assert "campaign 'Weekly news'        to the Prospects segment: sent " in out
    assert re.search(r"Outbox: (\d+) email", out) and int(re.search(r"Outbox: (\d+) email", out)[1]) >= 19


def test_a_whole_demo_run_logs_no_email_phone_or_name(tmp_path, capsys, monkeypatch):
    import io
    import logging

    from chalicelib.handlers.http import logger as service_logger
    from patron import demo

    # Given every log record captured at DEBUG, Patron's own loggers and the service logger
    monkeypatch.setenv("PATRON_HOME", str(tmp_path))
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    # (the AWS SDK's and the embedded AWS's own wire-level DEBUG dumps stay at WARNING, as
    # they are in Lambda: they print request bodies, and Patron never turns them on)
    quiet = {name: logging.getLogger(name).level for name in ("botocore", "boto3", "urllib3", "moto")}
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)
    service_logger.setLevel("DEBUG")
    previous = service_logger.registered_handler.setStream(captured)
    try:
        # When the demo runs: orders, refunds, merges, segments, flows, a campaign, unsubscribes
        code = run_demo(customers=20, seed=5, port=free_port(), aws_port=free_port())
    finally:
        service_logger.registered_handler.setStream(previous)
        service_logger.setLevel("WARNING")
        root.removeHandler(handler)
        root.setLevel(old_level)
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)
    assert code == 0, capsys.readouterr().out
    # Then there were log lines, and none holds an email, a phone number or a customer's name
    people, _, _ = demo.simulate(5, 20, demo.datetime.now(demo.UTC))
    names = {p.first + " " + p.last for p in people} | {f"{p.first}.{p.last}".lower() for p in people}
    lines = captured.getvalue().splitlines()
    assert len(lines) > 50 and any('"profile change"' in line for line in lines)  # DEBUG lines seen
    personal = re.compile(
        r"@example\.(com|net|org)|\+1212555|\+1 ?\(?212|" + "|".join(map(re.escape, names)), re.I
    )
    leaks = [line for line in lines if personal.search(line)]
    assert leaks == [], leaks[:3]
