"""ApiKeyStore's contract: one suite run on the in-memory fake and on DynamoApiKeyStore on
moto, so the fake cannot drift from the adapter."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.adapters.api_key_store import DynamoApiKeyStore
from chalicelib.domain.workspace_api.model import ApiKey, Refused
from tests.contract import moto_stage, port_fixture  # noqa: F401 (the fixture)
from tests.fakes_api_keys import FakeApiKeyStore

WS = "ws_contract"
AT = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)

store = port_fixture(FakeApiKeyStore, lambda stage: DynamoApiKeyStore(stage.crm))


def key(key_id: str, secret_hash: str, ws: str = WS, minutes: int = 0) -> ApiKey:
    return ApiKey(
        ws, key_id, f"name {key_id}", secret_hash, secret_hash[-4:], AT + timedelta(minutes=minutes), "cli"
    )


def reason(refused: pytest.ExceptionInfo[Refused]) -> str:
    return str(refused.value.details["reason"])


def test_keys_are_added_listed_and_found_by_hash_per_workspace(store):
    # Given two keys of a workspace and one of another
    store.add(key("key_a", "h" * 60 + "aaaa"), 50)
    store.add(key("key_b", "h" * 60 + "bbbb", minutes=1), 50)
    store.add(key("key_c", "h" * 60 + "cccc", ws="ws_other"), 50)
    # When they are listed and looked up
    listed = store.keys(WS)
    # Then each workspace lists its own, read back whole, and each hash names its key
    assert sorted(k.key_id for k in listed) == ["key_a", "key_b"]
    assert store.get(WS, "key_a") == key("key_a", "h" * 60 + "aaaa")
    assert store.get(WS, "key_c") is None
    assert store.key_id_for("h" * 60 + "bbbb") == "key_b"
    assert store.key_id_for("nothing") is None


def test_no_more_than_the_most_live_keys(store):
    # Given a workspace with two live keys and a limit of two
    store.add(key("key_a", "a" * 64), 2)
    store.add(key("key_b", "b" * 64), 2)
    # When a third is added, Then it is refused as too many, and nothing of it is stored
    with pytest.raises(Refused) as refused:
        store.add(key("key_c", "c" * 64), 2)
    assert reason(refused) == "too_many_keys"
    assert store.key_id_for("c" * 64) is None and store.get(WS, "key_c") is None


def test_a_rotation_moves_the_lookup_only_from_the_key_as_read(store):
    # Given a key
    first = key("key_a", "a" * 64)
    store.add(first, 50)
    rotated = replace(first, key_hash="d" * 64, tail="dddd", rotated_at=AT, rotated_by="key:key_b")
    # When it is rotated
    store.rotate(first, rotated)
    # Then the new hash names it, the old one nothing, and it reads back rotated
    assert (store.key_id_for("d" * 64), store.key_id_for("a" * 64)) == ("key_a", None)
    assert store.get(WS, "key_a") == rotated
    # And a second rotation from the stale read is refused as changed
    with pytest.raises(Refused) as refused:
        store.rotate(first, replace(rotated, key_hash="e" * 64))
    assert reason(refused) == "changed"
    assert store.key_id_for("e" * 64) is None


def test_revoking_drops_the_lookup_but_never_the_last_live_key(store):
    # Given two live keys
    a, b = key("key_a", "a" * 64), key("key_b", "b" * 64)
    store.add(a, 50)
    store.add(b, 50)
    # When the first is revoked
    store.revoke(a, replace(a, revoked_at=AT, revoked_by="key:key_b"))
    # Then its hash names nothing, and it stays listed as revoked
    assert store.key_id_for("a" * 64) is None
    assert store.get(WS, "key_a").revoked_by == "key:key_b"
    # When the other, now the last live key, is revoked, Then that is refused and it still works
    with pytest.raises(Refused) as refused:
        store.revoke(b, replace(b, revoked_at=AT, revoked_by="cli"))
    assert reason(refused) == "last_key"
    assert store.key_id_for("b" * 64) == "key_b" and store.get(WS, "key_b").live
    # And revoking the revoked one again is refused as changed
    with pytest.raises(Refused) as again:
        store.revoke(a, replace(a, revoked_at=AT, revoked_by="cli"))
    assert reason(again) == "changed"


def legacy(store, key_hash: str, ws: str = WS) -> None:
    """A key made before keys had ids: its lookup item alone, with no key id."""
    if isinstance(store, FakeApiKeyStore):
        store.lookup[key_hash] = (ws, None)
    else:
        store.t.put({"pk": f"KEY#{key_hash}", "sk": "KEY", "t": "api_key", "ws": ws, "ca": "2026-01-01"})


def test_a_key_made_before_keys_had_ids_is_adopted_once_by_its_own_workspace(store):
    # Given an unlisted key of the workspace and one of another workspace
    legacy(store, "f" * 64)
    legacy(store, "9" * 64, ws="ws_other")
    # When the workspace adopts its own
    store.add(key("key_new", "a" * 64), 50)
    store.adopt(key("key_old", "f" * 64), 50)
    # Then it is listed, counted (so the other can now be revoked) and named by its hash
    assert store.key_id_for("f" * 64) == "key_old" and store.get(WS, "key_old").name == "name key_old"
    new = store.get(WS, "key_new")
    store.revoke(new, replace(new, revoked_at=AT, revoked_by="cli"))
    # And adopting it again, or another workspace's key, is refused, and nothing is listed for it
    for key_id, key_hash in (("key_again", "f" * 64), ("key_theirs", "9" * 64)):
        with pytest.raises(Refused) as refused:
            store.adopt(key(key_id, key_hash), 50)
        assert reason(refused) == "not_adoptable" and store.get(WS, key_id) is None
