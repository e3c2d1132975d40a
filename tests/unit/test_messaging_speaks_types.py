"""The messaging services read customers, runs and settings as domain types: no stored
short attribute (`profile.get("e")`, `item["cid"]`, `ctx.get("url")`, `values["qs"]`) in
the modules that send, trigger and personalize (the adapters map the items)."""

from __future__ import annotations

import re
from pathlib import Path

MESSAGING = Path(__file__).resolve().parents[2] / "functions" / "chalicelib" / "domain" / "messaging"
CONVERTED = (
    "service.py",
    "personalize.py",
    "flow_engine.py",
    "flows.py",
    "campaigns.py",
    "notifications.py",
    "sms_stop.py",
    "attribution.py",
    "templates.py",
    "sending.py",
    "flow_definition.py",
)
SHORT = re.compile(r'(\.get\("[a-z]{1,3}"|\["[a-z]{1,3}"\])')
# not stored attributes: a message's `v` (A/B variant) tag, pydantic's error `loc`/`msg`
ALLOWED = ('message.tags.get("v")', 'e["loc"]', 'e["msg"]')


def short_reads(text: str) -> list[str]:
    return [
        line.strip()
        for line in text.splitlines()
        if SHORT.search(line) and not any(allowed in line for allowed in ALLOWED)
    ]


def test_the_messaging_services_read_no_stored_short_attributes():
    # Given the modules that decide, personalize and trigger messages
    # When their lines are searched for short-attribute reads and writes
    found = {name: short_reads((MESSAGING / name).read_text()) for name in CONVERTED}
    # Then there is none
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_the_search_finds_a_short_attribute_read():
    # Given lines as the services read profiles before they spoke CustomerProfile
    text = 'zone = profile.get("tz")\ncid = item["cid"]\nkey = message.tags.get("v")\n'
    # When they are searched, Then the two stored-attribute reads are found, the tag is not
    assert short_reads(text) == ['zone = profile.get("tz")', 'cid = item["cid"]']
