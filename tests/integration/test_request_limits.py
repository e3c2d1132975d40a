"""Per-workspace request limits on the admin API (429), and the webhook size cap (413)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import time_machine

from chalicelib.domain.limits import RequestLimits


def test_a_workspace_over_its_limit_gets_429_and_others_do_not(stage, ws):
    # Given a limit of three admin requests a minute, and a second workspace
    stage.container.request_limits = RequestLimits(stage.container.request_limits.counter, 3)
    other = stage.create_workspace("Other Brand")
    # When the first workspace makes five requests within one minute (the clock held at its
    # 5th second: five requests on a loaded machine could otherwise straddle two minutes)
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, 5, tzinfo=UTC), tick=False):
        answers = [stage.get(ws, "/segments") for _ in range(5)]
    # Then the first three pass and the rest are refused, with when to retry
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    refused = answers[-1]
    body = json.loads(refused.body)
    assert body["error"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) == 55
    assert body["details"]["retry_after_seconds"] == int(refused.headers["Retry-After"])
    # And the other workspace still has its own minute
    assert stage.get(other, "/segments").status_code == 200


def test_a_webhook_body_over_the_cap_gets_413_and_is_not_stored(stage, ws):
    # Given a body one byte over the cap
    cap = stage.container.settings.max_body_bytes
    body = b"{" + b" " * cap + b"}"
    # When a storefront posts it
    response = stage.send(ws, "shopify", "orders/create", body)
    # Then it is refused as too large
    assert response.status_code == 413
    assert json.loads(response.body)["error"] == "payload_too_large"
