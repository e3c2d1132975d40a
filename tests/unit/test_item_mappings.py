"""The adapters' mappings between stored items and domain types keep today's layout."""

from __future__ import annotations

import dataclasses

from chalicelib.adapters.nightly_store import ATTRIBUTES, cursor_of
from chalicelib.domain.nightly_cursor import NightlyCursor


def test_a_nightly_cursor_item_reads_as_a_cursor_and_every_field_has_its_attribute():
    # Given a cursor item as the nightly store holds it while applying
    item = {
        "pk": "NIGHTLY",
        "sk": "ws_1",
        "t": "nightly",
        "ws": "ws_1",
        "day": "2026-11-27",
        "ph": "apply",
        "cur": '{"stage": 2, "key": "c9"}',
        "pg": 3,
        "n": 250,
        "moved": 4,
        "prev": "{}",
        "next": '{"rfm": null}',
        "v": 7,
    }
    # When it is read, Then each attribute lands in its field
    assert cursor_of(item) == NightlyCursor(
        "ws_1", "2026-11-27", "apply", '{"stage": 2, "key": "c9"}', 3, 250, 4, "{}", '{"rfm": null}', 7
    )
    # And every field is written back under the attribute it was read from
    assert set(ATTRIBUTES) == {f.name for f in dataclasses.fields(NightlyCursor)}
    assert {ATTRIBUTES[k] for k in ATTRIBUTES} == set(item) - {"pk", "sk", "t"}


def test_a_new_days_cursor_starts_gathering_from_the_beginning():
    # Given the item a new day's run writes, When it is read, Then it gathers from the start
    item = {"ws": "ws_1", "day": "2026-11-27", "ph": "gather", "cur": "", "pg": 0, "n": 0, "moved": 0, "v": 0}
    assert cursor_of(item) == NightlyCursor("ws_1", "2026-11-27")
