"""Expiry warnings end to end in the embedded AWS: `patron loyalty expire` starts a
`points.expiring` flow on the customer's local warning day, once, and its email carries the
points and their expiry date."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.loyalty.model import ADJUSTMENT, MANUAL, EntryKey, LedgerEntry
from chalicelib.domain.workspace_settings import LoyaltyRules
from tests.cli_runs import run
from tests.conftest import event_bytes
from tests.integration.test_flows import flows_ws, jane
from tests.integration.test_notifications import sent_emails

__all__ = ["flows_ws"]  # the fixture this module uses
LOT, DAYS = date(2026, 10, 1), 60
WARN_DAY = LOT + timedelta(days=DAYS - 30)  # 31 Oct: 30 days before the lot expires (30 Nov)
SHANGHAI = ZoneInfo("Asia/Shanghai")
FLOW = {
    "id": "points-expiring",
    "name": "Points about to expire",
    "trigger": {"event": "points.expiring"},
    "steps": [
        {"wait": {"until_local": "10:00"}},
        {"send": {"template": "flow_points_expiring", "channel": "email"}},
    ],
    "templates": {
        "flow_points_expiring": {
            "name": "Points expiring",
            "subject": "{{ points_expiring }} points expire on {{ points_expiry_date }}",
            "html": '<p>Use them at {{ store_name }}.</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>',
            "text": "Use them at {{ store_name }}. Unsubscribe: {{ unsubscribe_url }}",
        }
    },
}


def test_the_warning_flow_starts_once_on_the_local_day_and_sends_the_points(stage, flows_ws, cli_on):
    ws = flows_ws
    # Given Jane in Shanghai, subscribed, with a lot of 120 points of 1 Oct expiring after 60 days
    customer = json.loads(event_bytes("generic/customer.json"))
    customer.update(timezone="Asia/Shanghai", phone=None)
    stage.send(ws, "generic", "customer", json.dumps(customer).encode())
    stage.drain()
    cid = jane(stage, ws)
    profile = stage.container.profile_store.load(ws.workspace_id, cid)
    assert isinstance(profile, CustomerProfile) and profile.timezone == "Asia/Shanghai"
    rules = LoyaltyRules(enabled=True, expiry="lots", expiry_days=DAYS)
    stage.container.workspaces.set_loyalty(ws.workspace_id, rules)
    stage.container.flows.apply(ws.workspace_id, FLOW)
    stage.container.flows.clock = lambda: datetime.combine(WARN_DAY, time(12), tzinfo=UTC)  # the sweep's
    at = datetime(2026, 10, 1, 9, tzinfo=UTC)
    entry = LedgerEntry(ws.workspace_id, cid, EntryKey(MANUAL, "c", ADJUSTMENT), 120, at, lots=((LOT, 120),))
    assert stage.container.points_ledger.adjust(entry)
    # When the sweep runs the day before, on the warning day (noon UTC: 20:00 there), and again
    before = run("loyalty", "expire", "-w", ws.workspace_id, "--today", str(WARN_DAY - timedelta(days=1)))
    first = run("loyalty", "expire", "-w", ws.workspace_id, "--today", str(WARN_DAY))
    again = run("loyalty", "expire", "-w", ws.workspace_id, "--today", str(WARN_DAY))
    # Then one run started, keyed by the lot and the warning
    assert first.exit_code == 0, first.stderr
    counts = [json.loads(r.stdout)["warnings"] for r in (before, first, again)]
    assert counts == [0, 1, 0]
    flow_runs = [
        r for r in stage.container.flows.runs(ws.workspace_id, cid) if r["flow_id"] == "points-expiring"
    ]
    assert [r["run_id"] for r in flow_runs] == ["points-expiring#2026-10-01:30"]
    # When the tick runs at 10:01 the next morning in Shanghai
    ten = datetime.combine(WARN_DAY + timedelta(days=1), time(10, 1), tzinfo=SHANGHAI).astimezone(UTC)
    stage.container.flows.tick(ten)
    # Then the email says how many points expire, and when
    subjects = [str(e["Subject"]) for e in sent_emails(stage)]
    assert "120 points expire on 2026-11-30" in subjects
