"""The history import's batch engine (domain/batch_import.py) and its write-behind profile
buffer (domain/profile_buffer.py): the webhooks' profiles, one write per customer per
chunk, no stream fan-out, healing on resume and on a conflict, one recompute at the end."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from chalicelib.adapters.order_items import ingest_change
from chalicelib.domain.batch_import import CHUNK, BatchImport
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.profile_buffer import ProfileBuffer
from chalicelib.parsers.history import generic_jsonl
from tests.unit.test_history_import import (  # noqa: F401 - the frozen clock
    LINES,
    NOW,
    WS,
    Stage,
    _frozen,
    by_webhooks,
)


def profile_saves(stage: Stage) -> int:
    return len(stage.profiles.saves)


@pytest.mark.parametrize("chunk", [1, 2, 3, CHUNK])
def test_the_engine_makes_the_webhooks_profiles_field_by_field_whatever_the_chunk(chunk):
    # Given the store's history delivered as webhooks
    expected = by_webhooks().views()
    stage = Stage()
    # When the export is imported in chunks of this size (no stream consumer involved)
    stage.run_import(LINES, chunk=chunk)
    # Then every profile is the webhooks', field by field
    assert len(expected) == 3
    assert stage.views() == expected


def test_a_chunk_writes_each_customer_profile_once():
    # Given the history by webhook: one profile write per order state
    hooked = by_webhooks()
    stage = Stage()
    # When it is imported in one chunk
    stage.run_import(LINES)
    # Then each of the three customers' profiles is written once, the webhooks' more often
    assert profile_saves(stage) == 3
    assert profile_saves(hooked) > 3


def test_the_ingest_stream_consumer_skips_the_imported_states():
    # Given an imported history, its profiles built by the engine
    stage = Stage()
    stage.run_import(LINES)
    saves = profile_saves(stage)
    # When the ingest stream's consumer meets the import's states
    outcomes = [stage.pipeline.apply(ingest_change(old, new), NOW) for old, new in stage.store.stream]
    # Then each is skipped whole: no profile read or written, no effect
    assert outcomes and {o.profile.outcome for o in outcomes} == {"imported"}
    assert profile_saves(stage) == saves and stage.effects.calls == []


def test_an_import_stopped_before_its_profiles_heals_on_resume():
    # Given an import whose first chunk's items are written, and which stops at its first profile write
    stage = Stage()

    def stop() -> None:
        raise KeyboardInterrupt

    stage.profiles.before_save = stop
    with pytest.raises(KeyboardInterrupt):
        stage.run_import(LINES)
    assert stage.store.items and not stage.views()
    # When it is run again from its cursor (nothing was done: row 0)
    again = stage.run_import(LINES)
    # Then nothing new is written to the ingest table, and the profiles are the webhooks'
    assert again.stored == 0 and again.unchanged == 8
    assert stage.views() == by_webhooks().views()


def test_a_profile_a_webhook_changed_meanwhile_is_built_again_through_the_plain_store():
    # Given an imported customer (Ada), and her next order in a second import chunk
    stage = Stage()
    stage.run_import(LINES[:3])
    ada = next(
        k for k in stage.profiles.items if stage.profiles.items[k].get("ems") == {"ada.lovelace@example.com"}
    )

    def webhook_wrote_her() -> None:  # a webhook wrote her profile between read and flush
        stage.profiles.items[ada]["rev"] += 1

    stage.profiles.before_save = webhook_wrote_her
    # When the rest is imported
    engine = BatchImport(stage.store, stage.profiles, stage.directory)
    engine.run(stage.source, generic_jsonl(LINES), NOW, resume_from=3)
    # Then the flush met the conflict, the chunk was applied again, and the profiles are right
    assert engine.fallbacks == 1
    assert stage.views() == by_webhooks().views()


class Recompute:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str], datetime]] = []

    def recompute(self, workspace_id: str, customer_ids: list[str], now: datetime) -> dict[str, Any]:
        self.calls.append((workspace_id, list(customer_ids), now))
        return {"customers": len(customer_ids)}


def test_the_recompute_runs_once_at_the_end_with_every_customer_touched():
    # Given an engine with a recompute, and a history in four chunks
    stage = Stage()
    recompute = Recompute()
    engine = BatchImport(stage.store, stage.profiles, stage.directory, recompute, chunk=3)
    # When the history is imported
    summary = engine.run(stage.source, generic_jsonl(LINES), NOW)
    # Then the recompute ran once, for the workspace and its three live customers
    assert len(recompute.calls) == 1
    workspace_id, ids, _ = recompute.calls[0]
    live = {i["cid"] for i in stage.profiles.items.values() if i.get("t") == "profile"}
    assert workspace_id == WS and set(ids) == live and len(live) == 3
    assert summary.as_dict()["recomputed"] == {"customers": 3}


# -- the buffer --------------------------------------------------------------------
def settings(stage: Stage) -> Any:
    return stage.directory.settings(WS)


def order_line(n: int, email: str | None, phone: str | None = None) -> bytes:
    """Ada's first order, as order o-9<n> of a customer with this email and phone only."""
    line = json.loads(LINES[2])
    customer = {k: v for k, v in {"email": email, "phone": phone, "country": "DE"}.items() if v}
    line.update(id=f"o-9{n:03d}", customer=customer)
    return json.dumps(line).encode()


def test_a_saved_profile_is_found_in_the_buffer_by_any_identity_it_holds():
    # Given a buffer over an empty store, and a profile saved into it
    stage = Stage()
    buffer = ProfileBuffer(stage.profiles)
    profile = CustomerProfile(WS, "c1", created_at="2025-01-01T00:00:00+00:00", rev=1)
    profile.emails.add("a@example.com")
    profile.phones.add("+4915112345678")
    buffer.save(profile, None, [], [])
    # When it is looked for by its phone
    found = buffer.find_profiles(WS, settings(stage).id_salt, ["phone:+4915112345678"])
    # Then the buffered copy answers, and nothing reached the store
    assert [p.customer_id for p in found] == ["c1"] and found[0] is not profile
    assert stage.profiles.items == {} and buffer.touched == ["c1"]


def test_the_flush_writes_each_profile_once_at_the_rev_the_store_held():
    # Given a customer in the store at rev 1
    stage = Stage()
    stage.run_import([order_line(1, "b@example.com")])
    salt = settings(stage).id_salt
    saves = profile_saves(stage)
    # When a chunk brings two more of her orders
    stage.run_import([order_line(2, "b@example.com"), order_line(3, "b@example.com")])
    # Then one write, conditioned on rev 1, holds all three orders
    assert profile_saves(stage) == saves + 1
    assert stage.profiles.saves[-1]["expected_rev"] == 1
    (profile,) = stage.profiles.find_profiles(WS, salt, ["email:b@example.com"])
    assert len(profile.orders) == 3


def test_two_customers_joined_inside_a_chunk_are_merged_once_at_the_flush():
    # Given two stored customers, one by email and one by phone
    stage = Stage()
    stage.run_import([order_line(1, "c@example.com"), order_line(2, None, "+4915199999999")])
    salt = settings(stage).id_salt
    assert len(stage.views()) == 2
    saves = profile_saves(stage)
    # When a chunk brings an order naming both, and another of the email's
    stage.run_import([order_line(3, "c@example.com", "+4915199999999"), order_line(4, "c@example.com")])
    # Then they are one profile, written once, the other a pointer to it
    assert profile_saves(stage) == saves + 1
    (merged,) = stage.profiles.find_profiles(WS, salt, ["phone:+4915199999999"])
    assert len(merged.orders) == 4
    pointers = [i for i in stage.profiles.items.values() if "into" in i]
    assert pointers and {p["into"] for p in pointers} == {merged.customer_id}
    assert customer_id_for(salt, "email:c@example.com") in {merged.customer_id, pointers[0]["cid"]}


def test_a_buffered_save_at_another_rev_is_a_conflict():
    # Given a profile saved into a buffer at rev 1
    stage = Stage()
    buffer = ProfileBuffer(stage.profiles)
    profile = CustomerProfile(WS, "c2", created_at="2025-01-01T00:00:00+00:00", rev=1)
    buffer.save(profile, None, [], [])
    # When it is saved again expecting another rev
    # Then it is a conflict, as the store's would be
    with pytest.raises(Conflict):
        buffer.save(profile, 5, [], [])


# -- the CRM stream's consumer -------------------------------------------------------
class Recorder:
    """The container's side the profile stream calls: search entries, flow triggers and memberships."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.flow_triggers = self
        self.membership = self
        self.stream_failures = self
        self.search_entries = self

    def on_change(self, before: Any, after: Any) -> Any:
        from chalicelib.domain.search_entries import EntryChange

        self.calls.append("search")
        return EntryChange()

    def on_profile_change(self, change: Any, now: datetime) -> list[str]:
        self.calls.append("triggers")
        return []

    def apply(self, workspace_id: str, customer_id: str, profile: Any) -> Any:
        from chalicelib.domain.outcomes import MembershipChange

        self.calls.append("membership")
        return MembershipChange(customer_id)


@pytest.mark.parametrize("imported", [True, False])
def test_the_crm_stream_consumer_skips_imported_profiles(monkeypatch, imported):
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    from chalicelib.adapters.codec import to_item
    from chalicelib.adapters.profile_items import profile_item
    from chalicelib.handlers import streams

    # Given a profile item written by an import (`imp`), or by a live order
    profile = CustomerProfile(WS, "c3", created_at="2025-01-01T00:00:00+00:00", rev=1, imported=imported)
    item = profile_item(profile)
    record = DynamoDBRecord(
        {"dynamodb": {"Keys": to_item({"pk": item["pk"], "sk": "P"}), "NewImage": to_item(item)}}
    )
    recorder = Recorder()
    monkeypatch.setattr(streams, "container", lambda: recorder)
    # When the CRM stream's consumer handles it
    outcome = streams.handle_profile_record(record)
    # Then the imported one is skipped (the import's recompute keeps its memberships), the live one is not;
    # both get their customer-list search entries (docs/data-model.md#the-customer-list)
    if imported:
        assert outcome == "imported" and recorder.calls == ["search"]
    else:
        assert recorder.calls == ["search", "triggers", "membership"]


def test_a_resumed_import_recomputes_the_customers_of_the_rows_before_its_cursor_too():
    # Given an import stopped after its first row, the only one of its customer's (its
    # recompute never ran)
    lines = [order_line(1, "solo@example.com"), *LINES]
    stage = Stage()
    stage.run_import(lines[:1])
    recompute = Recompute()
    engine = BatchImport(stage.store, stage.profiles, stage.directory, recompute, chunk=3)
    # When it resumes from that cursor
    summary = engine.run(stage.source, generic_jsonl(lines), NOW, resume_from=1)
    # Then the recompute covers every live customer, the first row's included, and the
    # row before the cursor was read again, not counted
    ((_, ids, _),) = recompute.calls
    live = {i["cid"] for i in stage.profiles.items.values() if i.get("t") == "profile"}
    assert set(ids) == live and len(live) == 4
    assert summary.rows == 10 and summary.stored == 8
