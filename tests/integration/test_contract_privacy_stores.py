"""PrivacyStore's and ErasureStore's contracts: one scenario suite each, run against the
in-memory fakes (tests/fakes_erasure.py) and the DynamoDB adapters on moto, so the fakes
cannot drift from the adapters. Every count is of what the call changed: a retry adds 0."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

from chalicelib.adapters import records
from chalicelib.adapters.erasure import DynamoErasure
from chalicelib.adapters.privacy_store import DynamoPrivacyStore
from chalicelib.adapters.profile_items import profile_pk
from chalicelib.adapters.ticket_store import customer_item, event_item, head_item, ticket_pk
from chalicelib.domain.erasure_values import HeldBy, Holding
from chalicelib.domain.service.model import EventKind, TicketEvent, reduce
from tests.contract import MotoStage, moto_stage
from tests.fakes_erasure import FakeErasure, FakePrivacyStore
from tests.integration.erasure_tables import side_fixture

__all__ = ["moto_stage"]

WS, SRC = "ws_a", "src_shop"
AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PERSON = {"e": "ana@example.com", "fn": "Ana"}


def _privacy(stage: MotoStage) -> DynamoPrivacyStore:
    return DynamoPrivacyStore(stage.crm, stage.dynamodb, stage.info.ingest_table)


def _erasure(stage: MotoStage) -> DynamoErasure:
    return DynamoErasure(stage.crm, stage.dynamodb, stage.info.ingest_table)


privacy = side_fixture(FakePrivacyStore, _privacy)
erasure = side_fixture(FakeErasure, _erasure)


def profile_item(cid: str, **more) -> dict:
    return {"pk": profile_pk(WS, cid), "sk": "P", "t": "profile", "ws": WS, "cid": cid} | more


# -- PrivacyStore ------------------------------------------------------------------
def test_erasing_a_profile_takes_its_pointers_moved_entries_and_engagement(privacy):
    store, tables = privacy.port, privacy.tables
    # Given a profile, a pointer into it, a pointer into another profile, moved entries under
    # its partition and the merged id's, and its engagement
    tables.put_crm(profile_item("cus_1", rev=2))
    tables.put_crm(profile_item("ptr_1", t="pointer", into="cus_1"))
    tables.put_crm(profile_item("ptr_2", t="pointer", into="cus_9"))
    tables.put_crm({"pk": profile_pk(WS, "cus_1"), "sk": f"O#{SRC}.1", "t": "entry", "k": f"{SRC}.1"})
    tables.put_crm({"pk": profile_pk(WS, "ptr_1"), "sk": f"O#{SRC}.2", "t": "entry", "k": f"{SRC}.2"})
    tables.put_crm({"pk": f"W#{WS}#ENG#cus_1", "sk": "E", "t": "engagement"})
    # When it is erased with both pointer ids
    deleted = store.erase_profile(WS, "cus_1", ["ptr_1", "ptr_2"])
    # Then the profile, the pointer into it and both moved entries went (the other pointer stays)
    assert deleted == 4
    assert tables.get_crm(profile_pk(WS, "cus_1"), "P") is None
    assert tables.get_crm(profile_pk(WS, "ptr_1"), "P") is None
    assert tables.get_crm(profile_pk(WS, "ptr_2"), "P")["into"] == "cus_9"
    assert tables.get_crm(profile_pk(WS, "ptr_1"), f"O#{SRC}.2") is None
    assert tables.get_crm(f"W#{WS}#ENG#cus_1", "E") is None


def test_an_erasure_mark_keeps_its_first_time(privacy):
    store, tables = privacy.port, privacy.tables
    # When two ids are marked, then one again later
    store.mark_erased(WS, ["cus_1", "cus_2", "cus_1"], AT)
    store.mark_erased(WS, ["cus_1"], datetime(2026, 12, 1, tzinfo=UTC))
    # Then each holds one mark, at the first time
    for cid in ("cus_1", "cus_2"):
        mark = tables.get_crm(profile_pk(WS, cid), "X")
        assert (mark["t"], mark["at"]) == ("erased", "2026-11-27T12:00:00.000000Z")


def test_records_lose_their_person_once(privacy):
    store, tables = privacy.port, privacy.tables
    # Given an order and a customer record holding a person, and an order without one
    tables.put_ingest({"pk": records.order_pk(WS, SRC, "1"), "t": "order", "ws": WS, "p": PERSON, "tot": 5})
    tables.put_ingest({"pk": records.customer_pk(WS, SRC, "c7"), "t": "customer", "ws": WS, "p": PERSON})
    tables.put_ingest({"pk": records.order_pk(WS, SRC, "2"), "t": "order", "ws": WS})
    # When they are redacted by public order ids and (source, customer) ids, twice
    ids, customers = [f"{SRC}.1", f"{SRC}.2", f"{SRC}.404", "no_dot"], [(SRC, "c7")]
    first = store.redact_records(WS, ids, customers)
    second = store.redact_records(WS, ids, customers)
    # Then the two holding a person count once; the records stay, marked, without the person
    assert (first, second) == (2, 0)
    order = tables.get_ingest(records.order_pk(WS, SRC, "1"))
    assert order == {"pk": records.order_pk(WS, SRC, "1"), "t": "order", "ws": WS, "tot": 5, "rdx": True}
    assert tables.get_ingest(records.order_pk(WS, SRC, "2"))["rdx"] is True
    assert tables.get_ingest(records.order_pk(WS, SRC, "404")) is None


def test_the_audit_entry_keeps_counts_and_state_and_the_export_reads_back(privacy):
    store = privacy.port
    # Given a request's counts tallied before and after its entry is recorded
    store.tally(WS, "r1", {"profiles_found": 1, "records_redacted": 0})
    store.record(WS, "r1", {"request": "customers_redact", "source_id": SRC, "state": "erased"})
    store.tally(WS, "r1", {"profiles_found": 1, "items_deleted": 3})
    # and an export saved for another
    store.save_export(WS, "r2", gzip.compress(json.dumps({"customers": [{"id": "cus_1"}]}).encode()), 30)
    # When the audit is listed, Then the entry holds both, without the zero count
    (entry,) = store.requests(WS)
    assert entry == {
        "rid": "r1",
        "request": "customers_redact",
        "source_id": SRC,
        "state": "erased",
        "profiles_found": 2,
        "items_deleted": 3,
    }
    # And the export reads back as saved; none for a request without one
    assert store.export(WS, "r2") == {"customers": [{"id": "cus_1"}]}
    assert store.export(WS, "r1") is None


# -- ErasureStore ------------------------------------------------------------------
def test_erasing_a_person_takes_their_partitions_and_what_the_index_names(erasure):
    store, tables = erasure.port, erasure.tables
    # Given a person's flow run, send claim, cap and engagement
    for pk, sk in (("FR#pid_1", "welcome#1"), ("MSG#pid_1", "flow:welcome:1:0"), ("CAP#pid_1", "email")):
        tables.put_crm({"pk": f"W#{WS}#{pk}", "sk": sk, "t": "x"})
    tables.put_crm({"pk": f"W#{WS}#ENG#pid_1", "sk": "E", "t": "engagement"})
    # and, named by the person index, a checkout, a quarantined body, a coupon, a data export
    checkout = records.checkout_pk(WS, SRC, "k9")
    tables.put_ingest({"pk": checkout, "t": "checkout", "ws": WS, "p": PERSON})
    tables.put_crm({"pk": f"W#{WS}#Q", "sk": "q1", "t": "quarantine"})
    tables.put_crm({"pk": f"W#{WS}#CPN", "sk": "WELCOME-AB12", "t": "coupon"})
    tables.put_crm({"pk": f"W#{WS}#PRIVACY", "sk": "export#r2", "t": "export"})
    held = [(HeldBy.CHECKOUT, checkout), (HeldBy.DATA_EXPORT, "r2"), (HeldBy.DATA_EXPORT, "r_gone")]
    store.hold(WS, [Holding("pid_1", kind, ref) for kind, ref in held])
    store.add(WS, [("pid_1", "Q#q1"), ("pid_1", "CPN#WELCOME-AB12")])  # as their adapters list them
    # When the person is erased, twice
    first = store.erase_person(WS, "pid_1", set())
    second = store.erase_person(WS, "pid_1", set())
    # Then each kind counts what went, once
    assert first == {
        "flow_runs_deleted": 1,
        "claims_deleted": 1,
        "caps_deleted": 1,
        "engagement_deleted": 1,
        "checkouts_redacted": 1,
        "quarantined_deleted": 1,
        "coupons_deleted": 1,
        "data_exports_deleted": 1,
        "index_items_deleted": 5,
    }
    assert second == {}
    # And the checkout stays, marked, without the person
    assert tables.get_ingest(checkout) == {"pk": checkout, "t": "checkout", "ws": WS, "rdx": True}
    assert tables.get_crm(f"W#{WS}#CPN", "WELCOME-AB12") is None


def test_attributions_and_ingest_items_lose_the_person_once(erasure):
    store, tables = erasure.port, erasure.tables
    # Given an attribution of an order and a handled privacy request of the API
    order_pk = records.order_pk(WS, SRC, "1")
    tables.put_crm(
        {"pk": f"W#{WS}#ATTR", "sk": order_pk, "t": "attr", "cid": "cus_1", "mk": "flow:w:1:0", "v": 5}
    )
    request = records.privacy_pk(WS, "api", "api_1")
    tables.put_ingest({"pk": request, "t": "privacy", "ws": WS, "cid": "cus_1", "p": PERSON})
    # When each is redacted twice
    attributions = [store.redact_attributions(WS, [f"{SRC}.1", f"{SRC}.2"]) for _ in range(2)]
    requests = [store.redact_ingest(request) for _ in range(2)]
    # Then each counts once; the items stay (the attribution as the statistics' guard)
    assert (attributions, requests) == ([1, 0], [True, False])
    assert tables.get_crm(f"W#{WS}#ATTR", order_pk) == {
        "pk": f"W#{WS}#ATTR",
        "sk": order_pk,
        "t": "attr",
        "v": 5,
        "rdx": True,
    }
    assert tables.get_ingest(request) == {"pk": request, "t": "privacy", "ws": WS, "rdx": True}
    # And an item that is not there is not made
    assert store.redact_ingest(records.privacy_pk(WS, "api", "api_gone")) is False
    assert tables.get_ingest(records.privacy_pk(WS, "api", "api_gone")) is None


def test_erasing_a_person_redacts_their_tickets_text_once_on_both_sides(erasure):
    store, tables = erasure.port, erasure.tables
    # Given a ticket of pid_1 with a subject, a created event with a body, a reply and a
    # status change (no text), linked to pid_1, and another customer's ticket
    at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    created = {"subject": "Broken lamp", "kind": "complaint", "customer_id": "pid_1", "body": "It broke"}
    ticket = reduce(WS, "tk_1", [TicketEvent(EventKind.CREATED, at, "cli", created)])
    other = reduce(
        WS, "tk_2", [TicketEvent(EventKind.CREATED, at, "cli", created | {"customer_id": "pid_2"})]
    )
    events = [
        TicketEvent(EventKind.CREATED, at, "cli", created),
        TicketEvent(EventKind.PUBLIC_REPLY, at, "key:abc", {"body": "Sorry", "delivery": "queued"}),
        TicketEvent(EventKind.STATUS_CHANGED, at, "cli", {"from": "open", "to": "solved"}),
    ]
    for item in (head_item(ticket), customer_item(ticket), head_item(other), customer_item(other)):
        tables.put_crm(item)
    for seq, event in enumerate(events, start=1):
        tables.put_crm(event_item(WS, "tk_1", seq, event))
    # When pid_1 is erased, twice
    first = store.erase_person(WS, "pid_1", set())
    second = store.erase_person(WS, "pid_1", set())
    # Then the ticket counts once, its text is gone, its events stay, the link went
    assert first == {"tickets_redacted": 1} and second == {}
    head = tables.get_crm(ticket_pk(WS, "tk_1"), "T")
    assert (head["sub"], head["rdx"], head["k"]) == ("", True, "complaint")
    one, two, three = (tables.get_crm(ticket_pk(WS, "tk_1"), f"E#{n:06d}") for n in (1, 2, 3))
    assert "body" not in one["d"] and "subject" not in one["d"] and one["d"]["kind"] == "complaint"
    assert two["d"] == {"delivery": "queued"} and two["rdx"] is True
    assert three["d"] == {"from": "open", "to": "solved"} and "rdx" not in three
    link = customer_item(ticket)
    assert tables.get_crm(link["pk"], link["sk"]) is None
    # And the other customer's ticket is untouched
    assert tables.get_crm(ticket_pk(WS, "tk_2"), "T")["sub"] == "Broken lamp"
