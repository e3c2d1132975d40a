"""History import (docs/import.md): the same profiles as webhooks, quietly, once.

A small store's export (events/import/generic_orders.jsonl) is fed once as signed generic
webhooks and once as an import, through the in-memory ingest store and the one stream
consumer; the profiles must match field by field, and the import must start nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine

from chalicelib.adapters.order_items import ingest_change
from chalicelib.domain.batch_import import CHUNK, BatchImport
from chalicelib.domain.history_import import ImportSummary, Reader
from chalicelib.domain.ingest import IngestService, shop_key
from chalicelib.domain.models import Platform, Source
from chalicelib.domain.pipeline import IngestPipeline
from chalicelib.domain.profiles import ProfileService
from chalicelib.parsers.history import generic_jsonl
from patron.storefront import headers_for
from tests.fakes_ports import FakeIngestStore, FakeQuarantine, FakeSecretStore, FakeWorkspaceDirectory
from tests.ingest_schedule import profile_views
from tests.unit.fakes import REGISTRIES, FakeProfileStore, RecordingEffects

WS = "ws_import"
SHOP = "pos.example.com"
SECRET = "gen_" + "q1w2e3r4" * 4
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
FILE = Path(__file__).resolve().parents[2] / "events" / "import" / "generic_orders.jsonl"
LINES = FILE.read_bytes().splitlines()


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):  # the webhook stamps its receipt time
        yield


class Stage:
    """One workspace with a generic source, its ingest store and stream consumer, in memory."""

    def __init__(self, platform: Platform = Platform.GENERIC) -> None:
        self.directory = FakeWorkspaceDirectory()
        self.directory.create_workspace(WS, "Tea Shop", "EUR", rates={"GBP": Decimal("1.17")})
        secrets = FakeSecretStore()
        self.source = Source(
            workspace_id=WS,
            source_id="src_0",
            platform=platform,
            shop_domain=shop_key(SHOP),
            secret_ref=secrets.create("generic-secret", SECRET, {}),
        )
        self.directory.add_source(self.source)
        self.store = FakeIngestStore()
        self.ingest = IngestService(self.directory, secrets, self.store, FakeQuarantine(), REGISTRIES)
        self.profiles = FakeProfileStore()
        self.effects = RecordingEffects()
        self.pipeline = IngestPipeline(ProfileService(self.profiles, self.directory), *[self.effects] * 3)
        self.seen = 0

    def webhook(self, line: bytes, n: int) -> str:
        topic = json.loads(line)["type"]
        headers = headers_for("generic", SHOP, topic, SECRET, line, f"d-{n}")
        lowered = {k.lower(): v for k, v in headers.items()}
        return self.ingest.receive(Platform.GENERIC, lowered, line).status

    def run_import(self, lines: list[bytes], resume_from: int = 0, chunk: int = CHUNK) -> ImportSummary:
        return self.run_reader(generic_jsonl(lines), resume_from, chunk)

    def run_reader(self, read: Reader, resume_from: int = 0, chunk: int = CHUNK) -> ImportSummary:
        """The batch engine (domain/batch_import.py): items, then the profiles it builds."""
        engine = BatchImport(self.store, self.profiles, self.directory, chunk=chunk)
        return engine.run(self.source, read, NOW, resume_from)

    def drain(self) -> int:
        """Hand the new stream records to the consumer; how many there were."""
        new = self.store.stream[self.seen :]
        for old, item in new:
            self.pipeline.apply(ingest_change(old, item), NOW)
        self.seen = len(self.store.stream)
        return len(new)

    def views(self) -> dict[frozenset[str], dict[str, Any]]:
        return profile_views(self.profiles.items)


def valid_lines() -> list[bytes]:
    good = []
    for line in LINES:
        try:
            json.loads(line)
        except ValueError:
            continue
        if json.loads(line)["id"] != "o-5005":
            good.append(line)
    return good


def by_webhooks() -> Stage:
    stage = Stage()
    for n, line in enumerate(valid_lines()):
        assert stage.webhook(line, n) == "stored"
    stage.drain()
    return stage


def test_an_import_makes_the_profiles_the_webhooks_make_field_by_field():
    # Given the store's history delivered as webhooks, and the same export imported elsewhere
    expected = by_webhooks().views()
    stage = Stage()
    # When the export file is imported and the stream handled
    stage.run_import(LINES)
    stage.drain()
    # Then every profile is the same, field by field (Ada, Marc and the guest Li)
    assert len(expected) == 3
    assert stage.views() == expected


def test_an_imported_history_triggers_no_notification_flow_or_attribution():
    # Given the same history once by webhook: the stream consumer's effects are consulted
    assert by_webhooks().effects.calls
    stage = Stage()
    # When it is imported
    stage.run_import(LINES)
    records = stage.drain()
    # Then every stored record reached the profiles, and none reached the effects
    assert records > 0 and stage.profiles.items
    assert stage.effects.calls == []


def test_the_summary_counts_rows_orders_customers_rejects_currencies_and_dates():
    # Given an export with two malformed lines among ten
    stage = Stage()
    # When it is imported
    summary = stage.run_import(LINES).as_dict()
    # Then each bad line is rejected with its row and a reason naming the field, no value
    assert [r["row"] for r in summary["rejected"]] == [6, 8]
    assert summary["rejected"][0]["reason"] == "not a JSON object"
    assert summary["rejected"][1]["reason"].startswith("total:")
    assert "12,00" not in summary["rejected"][1]["reason"]
    assert summary["rows"] == 10 and summary["orders"] == 5 and summary["refunds"] == 2
    assert summary["customers"] == 3 and summary["stored"] == 8 and summary["cursor"] == 10
    assert summary["currencies"] == ["EUR", "GBP"]
    assert summary["date_range"] == ["2024-03-02T10:20:00+00:00", "2025-09-30T14:10:00+00:00"]


def test_a_rerun_and_the_same_states_by_webhook_change_nothing():
    # Given an imported history
    stage = Stage()
    stage.run_import(LINES)
    stage.drain()
    views = stage.views()
    # When it is imported again
    again = stage.run_import(LINES)
    # Then nothing is written
    assert again.stored == 0 and again.unchanged == 8 and stage.drain() == 0
    # And when a history first came by webhook, its import writes nothing either
    hooked = by_webhooks()
    later = hooked.run_import(LINES)
    assert later.stored == 0 and hooked.drain() == 0
    assert stage.views() == views


def test_an_interrupted_import_resumes_after_its_cursor_with_the_same_profiles():
    # Given an import stopped after its first four rows
    stage = Stage()
    first = stage.run_import(LINES[:4])
    assert first.cursor == 4
    # When it resumes from that cursor over the whole file
    rest = stage.run_import(LINES, resume_from=first.cursor)
    stage.drain()
    # Then only the later rows are read, and the profiles are the whole import's
    assert rest.rows == 6 and rest.stored == 4
    whole = Stage()
    whole.run_import(LINES)
    whole.drain()
    assert stage.views() == whole.views()


class Flows:
    """FlowService's side the profile triggers call: every workspace has flows; each trigger
    is recorded."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def has_flows(self, workspace_id: str) -> bool:
        return True

    def trigger(self, event: Any) -> list[str]:
        self.events.append(event.kind if hasattr(event, "kind") else str(event))
        return ["run"]


def first_order_triggers(stage: Stage) -> list[str]:
    """What the profile stream's flow triggers start for each profile, as if first written."""
    from chalicelib.adapters.profile_items import profile_change
    from chalicelib.domain.messaging.triggers import FlowTriggers

    flows = Flows()
    triggers = FlowTriggers(flows, stage.directory, None)  # type: ignore[arg-type]
    started: list[str] = []
    for item in stage.profiles.items.values():
        if item.get("t") == "profile":
            started += triggers.on_profile_change(profile_change(None, item), NOW)
    return started


def test_imported_profiles_are_marked_and_start_no_first_order_flow_until_a_live_order():
    # Given the history once by webhook, once imported
    hooked, stage = by_webhooks(), Stage()
    stage.run_import(LINES)
    stage.drain()
    # Then the imported profiles are marked, the webhooks' are not
    marks = [i.get("imp") for i in stage.profiles.items.values() if i.get("t") == "profile"]
    assert marks == [True] * 3
    assert all("imp" not in i for i in hooked.profiles.items.values() if i.get("t") == "profile")
    # And the profile stream starts a first-order flow for the webhooks' customers only
    assert first_order_triggers(hooked) and first_order_triggers(stage) == []
    # When a live order of Ada's arrives by webhook after the import
    live = json.loads(LINES[2])
    live.update(id="o-6001", created_at="2026-11-26T10:00:00+00:00", updated_at="2026-11-26T10:00:00+00:00")
    assert stage.webhook(json.dumps(live).encode(), 99) == "stored"
    stage.drain()
    # Then her profile is live again: no longer marked
    ada = [i for i in stage.profiles.items.values() if "ada.lovelace@example.com" in (i.get("ems") or ())]
    assert len(ada) == 1 and "imp" not in ada[0]


class Sink:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def publish(self, events: list[dict[str, Any]]) -> None:
        self.events += events


def segment_events(stage: Stage) -> list[dict[str, Any]]:
    """The segment events each profile's first membership evaluation publishes."""
    from chalicelib.adapters.profile_items import profile_of
    from chalicelib.domain.membership import MembershipService
    from chalicelib.domain.segment_service import SegmentService
    from tests.unit.fakes import FakeMembershipStore, FakeSegmentStore

    segments = SegmentService(FakeSegmentStore(), stage.profiles, stage.directory)  # type: ignore[arg-type]
    segments.create(WS, "Buyers", "orders_count >= 1")
    sink = Sink()
    membership = MembershipService(FakeMembershipStore(), segments, stage.profiles, sink)  # type: ignore[arg-type]
    for item in stage.profiles.items.values():
        if item.get("t") == "profile":
            change = membership.apply(WS, item["cid"], profile_of(item), NOW)
            assert change.entered  # the memberships are computed either way
    return sink.events


def test_imported_profiles_enter_their_segments_without_segment_events():
    # Given the history once by webhook, once imported, and a segment of buyers
    hooked, stage = by_webhooks(), Stage()
    stage.run_import(LINES)
    stage.drain()
    # When each profile's memberships are brought up to date
    # Then the webhooks' profiles publish segment.entered, the imported ones enter silently
    assert len(segment_events(hooked)) >= 3  # Buyers, and built-ins (lifecycle, account)
    assert segment_events(stage) == []
