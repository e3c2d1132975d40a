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


def test_a_sources_admin_api_connection_round_trips_through_its_attributes():
    # Given a connected source, and one that is not
    from chalicelib.adapters.source_settings import admin_fields, admin_of
    from chalicelib.domain.models import Platform, Source

    plain = Source(
        workspace_id="ws_1",
        source_id="src_1",
        platform=Platform.SHOPIFY,
        shop_domain="a.myshopify.com",
        secret_ref="s",
    )
    connected = plain.model_copy(
        update={
            "admin_ref": "arn:secret:adm",
            "admin_api_version": "2025-07",
            "admin_endpoint": "http://127.0.0.1:9",
        }
    )
    # When each is written as attributes and read back
    written = admin_fields(connected)
    # Then the attributes are adm, av, aep, and reading them gives the same connection
    assert written == {"adm": "arn:secret:adm", "av": "2025-07", "aep": "http://127.0.0.1:9"}
    assert plain.model_copy(update=admin_of(written)) == connected
    assert admin_fields(plain) == {} and plain.model_copy(update=admin_of({})) == plain
