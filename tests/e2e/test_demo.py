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
