"""API keys: the items' mapping both ways, and the service's rules on the fake store (a
workspace always keeps a live key, whatever the order of creations and revocations)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.adapters.api_key_store import key_of, listed_item, lookup_item
from chalicelib.domain.errors import NotFound
from chalicelib.domain.workspace_api.api_keys import ApiKey, ApiKeyService, Refused, hash_secret
from tests.fakes_api_keys import FakeApiKeyStore

WS = "ws_unit"
AT = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def service(store: FakeApiKeyStore) -> ApiKeyService:
    counter = iter(range(10_000))
    return ApiKeyService(store, clock=lambda: AT, secret=lambda: f"pk_secret_{next(counter):05d}")


def test_a_listed_key_reads_back_as_it_was_written_and_its_lookup_names_it():
    # Given a rotated and revoked key, and a fresh one
    full = ApiKey(WS, "key_a", "shop sync", "ab" * 32, "wxyz", AT, "cli", AT, "key:key_b", AT, "key:key_c")
    fresh = ApiKey(WS, "key_b", "etl", "cd" * 32, "", AT, "key:0123456789ab")
    # When each is written as its listed item and read back
    # Then it is the same key, and its lookup item names its workspace and id, not a secret
    assert key_of(listed_item(full)) == full
    assert key_of(listed_item(fresh)) == fresh
    assert lookup_item(full) | {"ca": None} == {
        "pk": "KEY#" + "ab" * 32,
        "sk": "KEY",
        "t": "api_key",
        "ws": WS,
        "kid": "key_a",
        "ca": None,
    }


def test_the_service_shows_a_secret_once_and_lists_its_tail_only():
    # Given a workspace's keys
    keys = service(store := FakeApiKeyStore())
    made = keys.create(WS, "  shop sync ", "cli")
    # When they are listed
    (listed,) = keys.listing(WS).keys
    # Then the secret was given once, and only its hash is kept; the listing has its tail
    assert made.api_key == "pk_secret_00000" and listed.last4 == "0000" and listed.name == "shop sync"
    assert store.key_id_for(hash_secret(made.api_key)) == listed.key_id
    assert "pk_secret" not in listed.model_dump_json()
    # And an unknown id is not found
    with pytest.raises(NotFound):
        keys.rotate(WS, "key_none", "cli")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["create", "revoke", "rotate"]), st.integers(0, 7)), max_size=25))
def test_whatever_the_order_of_changes_a_workspace_keeps_a_live_key_and_its_count(changes):
    # Given a workspace with one key
    keys = service(store := FakeApiKeyStore())
    keys.create(WS, "default", "cli")
    # When keys are created, revoked and rotated in any order (refusals allowed)
    for change, index in changes:
        listed = keys.listing(WS).keys
        target = listed[index % len(listed)].key_id
        try:
            if change == "create":
                keys.create(WS, f"key {index}", "cli")
            elif change == "revoke":
                keys.revoke(WS, target, "cli")
            else:
                keys.rotate(WS, target, "cli")
        except Refused as refused:
            assert refused.details["reason"] in {"revoked", "last_key"}
    # Then at least one key is live, the count is the live keys, and only live keys are found
    live = [k for k in store.keys(WS) if k.live]
    assert live and store.live[WS] == len(live)
    assert sorted(kid for _, kid in store.lookup.values()) == sorted(k.key_id for k in live)
