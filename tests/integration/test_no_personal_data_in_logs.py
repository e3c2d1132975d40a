"""Personal data never goes into logs: run the pipeline at DEBUG and read every line."""

from __future__ import annotations

import io
import json
import re

from chalicelib.handlers.http import logger
from tests.conftest import event_bytes, load_event
from tests.integration.conftest import put_order_of_unknown_workspace

PERSONAL = re.compile(r"@example\.(com|org)|\+?1?\s?\(?212\)?[\s.-]?555|Jane|Doe|Hofer|Wimmer|Main St", re.I)


def test_a_full_run_logs_no_email_phone_name_or_address(stage, ws):
    # Given the service logger at its most verbose, writing where the test can read it
    logger.setLevel("DEBUG")
    captured = io.StringIO()
    previous = logger.registered_handler.setStream(captured)
    try:
        # When orders, customers, refunds, a bad body, a bad signature and a poison record go through
        stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
        stage.send(ws, "shopify", "customers/create", event_bytes("shopify/customers_create.json"))
        stage.send(ws, "shopify", "refunds/create", event_bytes("shopify/refunds_create.json"))
        stage.send(ws, "woocommerce", "order.created", event_bytes("woocommerce/order_guest_created.json"))
        broken = load_event("shopify/orders_create.json")
        broken["total_price"] = "n/a"
        stage.send(ws, "shopify", "orders/create", json.dumps(broken).encode())
        stage.send(
            ws,
            "shopify",
            "orders/create",
            event_bytes("shopify/orders_create.json"),
            headers={"X-Shopify-Hmac-Sha256": "AAAA"},
        )
        put_order_of_unknown_workspace(stage)  # a stream record that fails, and is logged
        stage.drain()
        stage.get(ws, "/customers?email=jane.doe@example.com")
    finally:
        logger.setLevel("WARNING")
        logger.registered_handler.setStream(previous)
    # Then there were log lines, and none holds personal data
    lines = [line for line in captured.getvalue().splitlines() if line.startswith("{")]
    assert any('"webhook rejected"' in line for line in lines)
    assert any('"stream record failed"' in line for line in lines)
    assert any('"profile change"' in line for line in lines)
    leaks = [line for line in lines if PERSONAL.search(line)]
    assert leaks == []
