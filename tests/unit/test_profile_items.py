"""The CRM stream's profile images are decoded where they enter (adapters/profile_items.py):
the flow triggers read a ProfileChange, not the profile item's short attributes."""

from __future__ import annotations

from pathlib import Path

from chalicelib.adapters.order_items import ingest_change
from chalicelib.adapters.profile_items import profile_change, profile_image
from chalicelib.domain.models import Platform
from chalicelib.domain.timemath import parse_iso
from tests.unit.fakes import new_service, order_item

TRIGGERS = Path(__file__).resolve().parents[2] / "functions/chalicelib/domain/messaging/triggers.py"


def test_a_stored_profile_decodes_to_what_the_triggers_read():
    # Given today's profile item after a first order of events/shopify/orders_create.json
    service, store = new_service()
    service.apply_change(
        ingest_change(None, order_item(Platform.SHOPIFY, "orders/create", "shopify/orders_create.json"))
    )
    item = store.profile()
    # When it is decoded
    image = profile_image(item)
    # Then its figures are the item's, and the item itself is kept unchanged
    assert image is not None and (image.workspace_id, image.customer_id) == (item["ws"], item["cid"])
    assert image.orders == int(item["n"]) == 1 and image.first_order_at == parse_iso(item["first"])
    assert image.member == bool(item.get("m")) and image.birthday == item.get("bd")
    assert image.item == item


def test_only_profiles_are_decoded():
    # Given a pointer left by a merge, and an erased profile (no new image)
    pointer = {"t": "pointer", "ws": "ws_test", "cid": "c1", "into": "c2"}
    # When the changes are decoded
    merged, erased = (
        profile_change(None, pointer),
        profile_change({"t": "profile", "ws": "w", "cid": "c"}, None),
    )
    # Then neither has a profile after it
    assert merged.after is None and merged.before is None
    assert erased.after is None and erased.before is not None and erased.before.orders == 0


def test_the_profile_triggers_read_no_stored_attribute():
    # Given the CRM stream's part of the flow triggers
    text = TRIGGERS.read_text().split("# -- the CRM stream")[1].split("# -- segment events")[0]
    # Then it reads the decoded profile, not the item
    assert ".get(" not in text and '["' not in text
