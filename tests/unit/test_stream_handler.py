"""The ingest-stream Lambda: records become profiles; a poison record fails alone."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.adapters.codec import from_item
from chalicelib.container import set_container
from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.pipeline import IngestPipeline
from chalicelib.domain.profiles import ProfileService
from chalicelib.handlers import streams
from tests.conftest import load_event
from tests.unit.fakes import SALT, WS, FakeProfileStore, FakeWorkspaces, RecordingEffects

BATCH = "dynamodb/ingest_stream_batch.json"


class FakeContainer:
    def __init__(self) -> None:
        self.store = FakeProfileStore()
        self.profiles = ProfileService(self.store, FakeWorkspaces(WS))
        self.effects = RecordingEffects()
        self.ingest_pipeline = IngestPipeline(self.profiles, self.effects, self.effects, self.effects)


@pytest.fixture
def wiring() -> Iterator[FakeContainer]:
    fake = FakeContainer()
    set_container(fake)  # type: ignore[arg-type]
    try:
        yield fake
    finally:
        set_container(None)


def images(event: dict[str, Any]) -> list[dict[str, Any]]:
    return [from_item(r["dynamodb"]["NewImage"]) or {} for r in event["Records"]]


def test_the_batch_fixture_is_a_dynamodb_streams_event():
    # Given the stored stream batch
    event = load_event(BATCH)
    # When its records are read
    records = event["Records"]
    # Then they have the shape Lambda delivers, with one record in an unknown workspace
    assert len(records) == 3
    for record in records:
        assert record["eventSource"] == "aws:dynamodb"
        assert record["eventName"] in ("INSERT", "MODIFY")
        assert record["eventSourceARN"].startswith("arn:aws:dynamodb:")
        change = record["dynamodb"]
        assert change["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert change["Keys"]["pk"] == change["NewImage"]["pk"]
        assert ("OldImage" in change) == (record["eventName"] == "MODIFY")
    assert [i["ws"] for i in images(event)] == [WS, "ws_gone", WS]
    assert len({r["dynamodb"]["SequenceNumber"] for r in records}) == 3


def test_poison_record_is_reported_alone_and_the_others_become_profiles(wiring):
    # Given a batch of three order changes, the middle one naming an unknown workspace
    event = load_event(BATCH)
    poison = event["Records"][1]["dynamodb"]["SequenceNumber"]
    valid = [i for i in images(event) if i["ws"] == WS]
    # When the Lambda handler processes the batch
    response = streams.ingest_stream(event, None)
    # Then only the poison record is reported as failed (Lambda retries just that one)
    assert response == {"batchItemFailures": [{"itemIdentifier": poison}]}
    # And each valid order made its customer's profile, with its total
    profiles = {p["cid"]: p for p in wiring.store.profiles()}
    assert len(profiles) == 2
    for order in valid:
        cid = customer_id_for(SALT, "email:" + order["p"]["e"])
        profile = profiles[cid]
        assert profile["ws"] == WS
        assert profile["n"] == 1
        assert profile["spent"] == Decimal(order["tot"])
        assert profile["e"] == order["p"]["e"]
    # And nothing was written for the unknown workspace
    assert all(i.get("ws") == WS for i in wiring.store.items.values())
    # And each valid order then went to notifications, flow triggers and attribution (these
    # two told the profile's id, so they need not look the customer up); the poison one to none
    assert wiring.effects.calls == [
        call
        for order in valid
        for call in (
            ("notifications", "order", None),
            ("triggers", "order", customer_id_for(SALT, "email:" + order["p"]["e"])),
            ("attribution", "order", customer_id_for(SALT, "email:" + order["p"]["e"])),
        )
    ]


def test_a_retried_batch_changes_nothing_and_fails_the_same_record(wiring):
    # Given a batch processed once
    event = load_event(BATCH)
    streams.ingest_stream(copy.deepcopy(event), None)
    before = wiring.store.snapshot()
    # When Lambda delivers the same batch again
    response = streams.ingest_stream(copy.deepcopy(event), None)
    # Then the profiles are unchanged and the same record fails again
    assert wiring.store.snapshot() == before
    assert response["batchItemFailures"] == [
        {"itemIdentifier": event["Records"][1]["dynamodb"]["SequenceNumber"]}
    ]


def test_a_batch_without_poison_reports_no_failures(wiring):
    # Given the batch without its poison record
    event = load_event(BATCH)
    event["Records"] = [r for r in event["Records"] if r["dynamodb"]["NewImage"]["ws"]["S"] == WS]
    # When it is processed
    response = streams.ingest_stream(event, None)
    # Then nothing is reported as failed and both profiles exist
    assert response == {"batchItemFailures": []}
    assert len(wiring.store.profiles()) == 2


def test_a_removed_item_is_skipped(wiring):
    # Given a REMOVE record (only the old image)
    event = load_event(BATCH)
    record = event["Records"][0]
    record["eventName"] = "REMOVE"
    record["dynamodb"]["OldImage"] = record["dynamodb"].pop("NewImage")
    event["Records"] = [record, event["Records"][2]]
    # When it is processed with a valid record
    response = streams.ingest_stream(event, None)
    # Then nothing fails and only the valid record made a profile
    assert response == {"batchItemFailures": []}
    (profile,) = wiring.store.profiles()
    assert profile["e"] == "lena.hofer@example.org"


def test_the_failure_log_does_not_hold_the_poison_records_personal_data(wiring, caplog):
    # Given the batch with a poison record whose image holds an email and a name
    event = load_event(BATCH)
    person = (from_item(event["Records"][1]["dynamodb"]["NewImage"]) or {})["p"]
    # When it is processed
    with caplog.at_level(logging.DEBUG):
        streams.ingest_stream(event, None)
    # Then the failure was logged, and no log line, extra field or traceback holds the email
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors
    for record in caplog.records:
        dumped = caplog.text + repr(record.__dict__)
        assert person["e"] not in dumped
