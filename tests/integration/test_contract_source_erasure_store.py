"""SourceErasureStore's contract: one scenario suite run against the in-memory fake
(tests/fakes_erasure.py) and DynamoSourceErasureStore on moto, so the fake cannot drift from
the adapter. The store answers in workspace, source, customer and order ids; what the
erasure removes comes back as references it hands back."""

from __future__ import annotations

import pytest

from chalicelib.adapters import records
from chalicelib.adapters.catalogue_store import product_key
from chalicelib.adapters.profile_items import profile_pk
from chalicelib.adapters.source_erasure_store import DynamoSourceErasureStore
from chalicelib.domain.erasure_values import MergedPointer, ProfileRemains, RunItem
from chalicelib.domain.source_erasure import Overtaken
from tests.contract import MotoStage, moto_stage
from tests.fakes_erasure import FakeSourceErasureStore
from tests.integration.erasure_tables import side_fixture

__all__ = ["moto_stage"]

WS, SRC, OTHER = "ws_a", "src_shop", "src_woo"
AT = "2026-11-27T12:00:00.000000+00:00"


def _dynamo(stage: MotoStage) -> DynamoSourceErasureStore:
    return DynamoSourceErasureStore(stage.crm, stage.dynamodb, stage.info.ingest_table)


side = side_fixture(FakeSourceErasureStore, _dynamo)


def test_an_erasure_begins_once_and_moves_only_at_the_version_read(side):
    store = side.port
    # Given no erasure of the source yet
    assert store.progress(WS, SRC) is None
    # When it begins, twice (a redelivered request)
    first = store.begin(WS, SRC, "req_1", AT)
    again = store.begin(WS, SRC, "req_2", "2026-11-28T00:00:00.000000+00:00")
    # Then the second start reads the first one's progress: walking, from the start
    assert again == first
    assert (first.request_id, first.phase, first.version, first.pages) == ("req_1", "walk", 0, 0)
    assert (first.cursor, first.started_at, first.counts, first.journal) == ("", AT, {}, None)
    # And a page journaled at the version read moves it on, while one at an older version is refused
    store.journal(WS, SRC, 0, "", {"orders": 2})
    with pytest.raises(Overtaken):
        store.journal(WS, SRC, 0, "", {"orders": 2})
    with pytest.raises(Overtaken):
        store.commit(WS, SRC, 0, "walk", "c1", {"orders": 2})
    with pytest.raises(Overtaken):
        store.add(WS, SRC, 7, {"audience_exports": 1})
    # And nothing is created for a source never begun
    with pytest.raises(Overtaken):
        store.journal(WS, "src_never", 0, "", {"orders": 1})
    assert store.progress(WS, "src_never") is None


def test_a_journaled_page_is_committed_with_its_counts_and_the_journal_cleared(side):
    store = side.port
    # Given an erasure whose first page journaled its counts before acting
    store.begin(WS, SRC, "req_1", AT)
    store.journal(WS, SRC, 0, "", {"orders": 2, "flow_runs": 0})
    journaled = store.progress(WS, SRC)
    assert (journaled.version, journaled.journal_cursor, journaled.journal) == (
        1,
        "",
        {"flow_runs": 0, "orders": 2},
    )
    # When the page commits, and the next ends the walk
    store.commit(WS, SRC, 1, "walk", "cursor_1", {"orders": 2, "flow_runs": 0})
    store.journal(WS, SRC, 2, "cursor_1", {"orders": 1, "checkouts": 1})
    store.commit(WS, SRC, 3, "done", None, {"orders": 1, "checkouts": 1}, "2026-11-27T13:00:00.000000+00:00")
    # Then the counts add up (a zero adds nothing), the phase and pages moved, the journal is gone
    done = store.progress(WS, SRC)
    assert (done.phase, done.version, done.pages, done.cursor) == ("done", 4, 2, "")
    assert done.counts == {"orders": 3, "checkouts": 1}
    assert (done.journal, done.finished_at) == (None, "2026-11-27T13:00:00.000000+00:00")
    # And counts added after the walk (the operator's purge) move the version too
    store.add(WS, SRC, 4, {"audience_exports": 2})
    assert store.progress(WS, SRC).counts == {"orders": 3, "checkouts": 1, "audience_exports": 2}
    assert store.progress(WS, SRC).version == 5


def test_marking_the_source_marks_both_its_items(side):
    store, tables = side.port, side.tables
    # Given a listed source (its item in the workspace, and the one its webhooks find it by)
    tables.put_crm(
        {"pk": f"W#{WS}#SRC", "sk": SRC, "pl": "shopify", "shop": "a.myshopify.com", "t": "source"}
    )
    tables.put_crm({"pk": "SRC#shopify#a.myshopify.com", "sk": "SRC", "ws": WS, "t": "source_ref"})
    # When it is marked, Then both items carry the request; an unknown source is not marked
    assert store.mark_source(WS, SRC, "req_1") is True
    assert tables.get_crm(f"W#{WS}#SRC", SRC)["ers"] == "req_1"
    assert tables.get_crm("SRC#shopify#a.myshopify.com", "SRC")["ers"] == "req_1"
    assert store.mark_source(WS, "src_unknown", "req_1") is False


def test_the_request_is_continued_only_forward(side):
    store, tables = side.port, side.tables
    # Given the request's ingest item
    key = records.privacy_pk(WS, SRC, "req_1")
    tables.put_ingest({"pk": key, "t": "privacy", "ws": WS})
    # When it is continued after 2 pages, then by a stale attempt after 1
    store.continue_later(key, 2)
    store.continue_later(key, 1)
    # Then it holds the furthest; an item that is gone is not made again
    assert tables.get_ingest(key)["stp"] == 2
    store.continue_later(records.privacy_pk(WS, SRC, "req_gone"), 3)
    assert tables.get_ingest(records.privacy_pk(WS, SRC, "req_gone")) is None


def test_the_sources_live_records_are_found_by_id_and_erased_by_tombstone(side):
    store, tables = side.port, side.tables
    # Given two orders of the source (one already erased), a customer record, a checkout
    for key in (records.order_pk(WS, SRC, "1001"), records.customer_pk(WS, SRC, "c7")):
        tables.put_ingest({"pk": key, "t": "order", "ws": WS, "p": {"e": "ana@example.com"}})
    tables.put_ingest({"pk": records.order_pk(WS, SRC, "1002"), "t": "erased", "ws": WS, "rdx": True})
    tables.put_ingest({"pk": records.checkout_pk(WS, SRC, "k9"), "t": "checkout", "ws": WS})
    # When they are looked up by their ids (with ids that hold nothing)
    found = store.source_records(
        WS, SRC, [f"{SRC}.1001", f"{SRC}.1002", "no_dot"], ["c7", "c8"], ["k9", "k0"]
    )
    # Then only the live ones are there, by id
    assert (list(found.orders), list(found.customers), list(found.checkouts)) == (
        [f"{SRC}.1001"],
        ["c7"],
        ["k9"],
    )
    # When they are erased (twice: a retry)
    refs = [*found.orders.values(), *found.customers.values(), *found.checkouts.values()]
    store.erase_ingest(refs)
    store.erase_ingest(refs)
    # Then each is a tombstone holding no person, and none is found live any more
    assert tables.get_ingest(records.order_pk(WS, SRC, "1001")) == {
        "pk": records.order_pk(WS, SRC, "1001"),
        "t": "erased",
        "ws": WS,
        "rdx": True,
    }
    again = store.source_records(WS, SRC, [f"{SRC}.1001"], ["c7"], ["k9"])
    assert (again.orders, again.customers, again.checkouts) == ({}, {}, {})
    # And a missing item is not made
    store.erase_ingest([records.order_pk(WS, SRC, "404")])
    assert tables.get_ingest(records.order_pk(WS, SRC, "404")) is None


def test_a_customers_runs_claims_coupons_and_attributions_are_found_by_id(side):
    store, tables = side.port, side.tables
    # Given a customer's run of a flow on an order of the source, the re-entry mark, a run elsewhere
    fr = f"W#{WS}#FR#cus_1"
    tables.put_crm(
        {"pk": fr, "sk": "welcome#1001", "t": "flowrun", "cid": "cus_1", "flow": "welcome", "key": "1001"}
    )
    tables.put_crm({"pk": fr, "sk": "~last#welcome", "t": "reentry", "cid": "cus_1"})
    tables.put_crm(
        {"pk": f"W#{WS}#FR#cus_2", "sk": "welcome#1", "t": "flowrun", "cid": "cus_2", "flow": "welcome"}
    )
    # and send claims: of an order of the source, of another source's, of the run, of a campaign
    msg = f"W#{WS}#MSG#cus_1"
    for sk in (f"txn:W#{WS}#O#{SRC}#1001:0", f"txn:W#{WS}#O#{OTHER}#7:0", "flow:welcome:1001:0", "camp:c1"):
        tables.put_crm({"pk": msg, "sk": sk, "t": "claim"})
    # and a coupon issued, an attribution of the order
    tables.put_crm({"pk": f"W#{WS}#CPN", "sk": "WELCOME-AB12", "t": "coupon"})
    tables.put_crm(
        {"pk": f"W#{WS}#ATTR", "sk": records.order_pk(WS, SRC, "1001"), "t": "attr", "cid": "cus_1"}
    )
    # When the customer's runs are listed
    runs = store.flow_run_items(WS, ["cus_1"])
    # Then the run and the mark are there, the run with its flow and trigger key
    assert [(r.is_run, r.customer_id, r.flow_id, r.key) for r in runs] == [
        (True, "cus_1", "welcome", "1001"),
        (False, "cus_1", "None", "None"),
    ]
    assert all(isinstance(r, RunItem) for r in runs)
    # And the claims of the source's orders and of the run are found, or all of them
    chosen = store.send_claims(WS, "cus_1", SRC, [("welcome", "1001")])
    assert len(chosen) == 2 and len(store.send_claims(WS, "cus_1")) == 4
    # And the coupons and attributions among those asked for
    coupons = store.coupons(WS, ["WELCOME-AB12", "WELCOME-ZZZZ", "WELCOME-AB12"])
    attributions = store.attributions(WS, [f"{SRC}.1001", f"{SRC}.1002"])
    assert (len(coupons), len(attributions)) == (1, 1)
    # When what was found is deleted (twice), Then it is gone and the rest stays
    store.delete([runs[0].ref, *chosen, *coupons, *attributions])
    store.delete([runs[0].ref, *chosen, *coupons, *attributions])
    assert [r.is_run for r in store.flow_run_items(WS, ["cus_1", "cus_2"])] == [False, True]
    assert len(store.send_claims(WS, "cus_1")) == 2
    assert store.coupons(WS, ["WELCOME-AB12"]) == [] and store.attributions(WS, [f"{SRC}.1001"]) == []


def profile_item(cid: str, **more) -> dict:
    return {"pk": profile_pk(WS, cid), "sk": "P", "t": "profile", "ws": WS, "cid": cid} | more


def pointer_item(cid: str, into: str, **more) -> dict:
    return {"pk": profile_pk(WS, cid), "sk": "P", "t": "pointer", "ws": WS, "cid": cid, "into": into} | more


def test_what_a_profile_holds_elsewhere_is_found_by_its_ids(side):
    store, tables = side.port, side.tables
    # Given a profile, two pointers into it (one merged away, with index keys), one into another
    tables.put_crm(profile_item("cus_1", rev=3))
    tables.put_crm(pointer_item("ptr_1", "cus_1"))
    tables.put_crm(
        pointer_item("mrg_1", "cus_1", phone_k=f"{WS}#+12125550147", ext_k=f"{WS}#shopify:{SRC}:7")
    )
    tables.put_crm(pointer_item("ptr_2", "cus_9"))
    # and a moved entry under its partition and one under the merged id's, engagement, memberships
    tables.put_crm({"pk": profile_pk(WS, "cus_1"), "sk": f"O#{SRC}.1001", "t": "entry"})
    tables.put_crm({"pk": profile_pk(WS, "mrg_1"), "sk": f"O#{OTHER}.7", "t": "entry"})
    tables.put_crm({"pk": f"W#{WS}#ENG#cus_1", "sk": "E", "t": "engagement"})
    tables.put_crm({"pk": f"W#{WS}#PM#cus_1", "sk": "M", "t": "membership", "segs": {"seg_a", "seg_b"}})
    # When what erasing it also removes is counted
    remains = store.profile_remains(WS, "cus_1", ["ptr_1", "mrg_1", "ptr_2", "ptr_none"], ["cus_1", "mrg_1"])
    # Then the pointers into it, the moved entries, the engagement and the memberships are counted
    assert remains == ProfileRemains(pointers_into=2, moved_entries=2, engagement=True, segment_memberships=2)
    assert store.profile_remains(WS, "cus_8", [], ["cus_8"]) == ProfileRemains(0, 0, False, 0)
    # And the pointers into it among some ids are found; the merged id with what finds it
    assert len(store.pointers_into(WS, "cus_1", ["ptr_1", "ptr_2", "ptr_none", "ptr_1"])) == 1
    assert store.merged_pointers(WS, ["mrg_1", "gone"]) == [
        MergedPointer("mrg_1", "cus_1", phone="+12125550147", external_id=f"shopify:{SRC}:7")
    ]
    # When the merged id is no longer found by its phone (only if it still points into the profile)
    store.drop_pointer_keys(WS, "mrg_1", "cus_9", ["phone"])
    assert store.merged_pointers(WS, ["mrg_1"])[0].phone == "+12125550147"
    store.drop_pointer_keys(WS, "mrg_1", "cus_1", ["phone"])
    # Then it keeps its platform id only
    assert store.merged_pointers(WS, ["mrg_1"]) == [MergedPointer("mrg_1", "cus_1", None, f"shopify:{SRC}:7")]
    # And the moved entries of some orders are named for deletion, and go
    store.delete(store.moved_entry_refs(WS, ["cus_1", "mrg_1"], [f"{SRC}.1001"]))
    assert store.profile_remains(WS, "cus_1", [], ["cus_1", "mrg_1"]).moved_entries == 1
    assert store.profile(WS, "cus_1") is not None and store.profile(WS, "cus_0") is None


def test_the_sources_requests_exports_and_quarantined_bodies_are_found(side):
    store, tables = side.port, side.tables
    # Given the audit of two requests of the source (one with an export) and one of another source
    audit = f"W#{WS}#PRIVACY"
    for rid, source in (("r1", SRC), ("r2", SRC), ("r3", OTHER)):
        tables.put_crm({"pk": audit, "sk": f"req#{rid}", "t": "privacy", "rid": rid, "source_id": source})
        tables.put_ingest({"pk": records.privacy_pk(WS, source, rid), "t": "privacy", "ws": WS})
    tables.put_crm({"pk": audit, "sk": "export#r1", "t": "export", "rid": "r1"})
    tables.put_ingest({"pk": records.privacy_pk(WS, SRC, "r2"), "t": "erased", "ws": WS, "rdx": True})
    # and quarantined bodies of the source and of another
    tables.put_crm({"pk": f"W#{WS}#Q", "sk": "q1", "t": "quarantine", "src": SRC})
    tables.put_crm({"pk": f"W#{WS}#Q", "sk": "q2", "t": "quarantine", "src": OTHER})
    # When they are looked up, Then only the source's are found (live, existing)
    assert store.privacy_requests(WS, SRC) == ["r1", "r2"]
    assert len(store.privacy_exports(WS, ["r1", "r2"])) == 1
    assert store.live_privacy_requests(WS, SRC, ["r1", "r2"]) == [records.privacy_pk(WS, SRC, "r1")]
    quarantined = store.quarantined(WS, SRC)
    assert len(quarantined) == 1
    # And deleting them leaves the other source's
    store.delete([*quarantined, *store.privacy_exports(WS, ["r1"])])
    assert store.quarantined(WS, SRC) == [] and len(store.quarantined(WS, OTHER)) == 1
    assert store.privacy_exports(WS, ["r1"]) == []


def test_the_sources_catalogue_and_admin_connection_are_found_and_forgotten(side):
    store, tables = side.port, side.tables
    # Given two connected sources, each with products in its catalogue partition
    for source, shop in ((SRC, "a.myshopify.com"), (OTHER, "b.example")):
        connection = {"adm": f"arn:secret:{source}/admin", "av": "2025-07", "aep": "http://127.0.0.1:1"}
        tables.put_crm(
            {"pk": f"W#{WS}#SRC", "sk": source, "pl": "shopify", "shop": shop, "t": "source"} | connection
        )
        tables.put_crm({"pk": f"SRC#shopify#{shop}", "sk": "SRC", "ws": WS, "t": "source_ref"} | connection)
        for pid in ("1", "2"):
            key = product_key(WS, source, pid)
            tables.put_crm({"pk": key["pk"]["S"], "sk": key["sk"]["S"], "t": "product", "src": source})
    # When the source's catalogue and Admin API secret are looked up
    products = store.catalogue(WS, SRC)
    # Then only its own are found
    assert sorted(sk for _, sk in products) == ["P#1", "P#2"]
    assert store.admin_secret(WS, SRC) == f"arn:secret:{SRC}/admin"
    assert store.admin_secret(WS, "src_unknown") is None
    # And once deleted and disconnected, both its items forget the connection; the other's stay
    store.delete(products)
    store.disconnect(WS, SRC)
    store.disconnect(WS, "src_unknown")  # nothing to do
    assert store.catalogue(WS, SRC) == [] and len(store.catalogue(WS, OTHER)) == 2
    assert store.admin_secret(WS, SRC) is None
    for pk, sk in ((f"W#{WS}#SRC", SRC), ("SRC#shopify#a.myshopify.com", "SRC")):
        assert not {"adm", "av", "aep"} & set(tables.get_crm(pk, sk))
    assert tables.get_crm("SRC#shopify#b.example", "SRC")["adm"] == f"arn:secret:{OTHER}/admin"
