"""The privacy service on the privacy stores' fakes (tests/fakes_erasure.py, held to the
adapters by tests/integration/test_contract_privacy_stores.py): a customer erased by a
merged-away id is their live profile, with every id merged into it or pointing at it."""

from __future__ import annotations

import pytest

from chalicelib.adapters.profile_items import profile_pk
from chalicelib.domain.errors import NotFound
from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.ingest_images import PrivacyRequestImage
from chalicelib.domain.models import Person
from chalicelib.domain.privacy import PrivacyRequests, PrivacyService
from tests.fakes_erasure import FakeErasure, FakePrivacyStore, FakeTables
from tests.unit.fakes import SALT, WS, FakeProfileStore, FakeWorkspaces

ANA = "email:ana@example.com"
EXT = "ext:shopify:src_1:7"


class Sink:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str, str]] = []

    def put(self, workspace_id: str, request_id: str, request: str, customer_id: str) -> None:
        self.requests.append((workspace_id, request_id, request, customer_id))


@pytest.fixture
def world():
    """Ana's profile, with a profile merged into it (now a pointer) and a pointer for her
    platform id; the profile store and the privacy stores share one CRM table."""
    profiles, tables = FakeProfileStore(), FakeTables()
    tables.crm = profiles.items
    ana, merged, ext = customer_id_for(SALT, ANA), "cus_merged", customer_id_for(SALT, EXT)
    profiles.items[(profile_pk(WS, ana), "P")] = {
        "pk": profile_pk(WS, ana),
        "sk": "P",
        "t": "profile",
        "ws": WS,
        "cid": ana,
        "rev": 4,
        "ems": {"ana@example.com"},
        "xs": {"shopify:src_1:7"},
        "mrg": [merged],
        "o": {"src_1.1001": {"v": 1, "t": 1764000000, "a": 20}},
    }
    for cid, kind in ((merged, "merge"), (ext, "ext")):
        profiles.items[(profile_pk(WS, cid), "P")] = {
            "pk": profile_pk(WS, cid),
            "sk": "P",
            "t": "pointer",
            "ws": WS,
            "cid": cid,
            "into": ana,
            "kind": kind,
        }
    store, erasure = FakePrivacyStore(tables), FakeErasure(tables)
    service = PrivacyService(profiles, FakeWorkspaces(), store, customers=None, erasure=erasure)  # type: ignore[arg-type]
    return service, PrivacyRequests(profiles, Sink(), store), tables, (ana, merged, ext)


def test_an_erasure_by_a_merged_away_id_erases_the_live_profile_and_every_id_of_it(world):
    service, _, tables, (ana, merged, ext) = world
    # Given an erasure requested through the API by the id merged into Ana's profile
    request = PrivacyRequestImage(
        key="W#ws_test#R#api#api_1",
        workspace_id=WS,
        source_id="api",
        request="customers_redact",
        request_id="api_1",
        person=Person(),
        customer_id=merged,
    )
    # When it is carried out
    result = service.handle(request)
    # Then her profile and both pointers into it are gone, and every id of hers is marked
    assert result.outcome == "privacy:erased"
    assert [k for k in tables.crm if k[1] == "P"] == []
    assert {k[0] for k in tables.crm if k[1] == "X"} == {profile_pk(WS, c) for c in (ana, merged, ext)}
    # And the audit counts the one profile found and the three items deleted, no person
    (entry,) = [i for k, i in tables.crm.items() if k[1] == "req#api_1"]
    assert (entry["state"], entry["profiles_found"], entry["items_deleted"]) == ("erased", 1, 3)


def test_a_request_is_taken_for_a_live_or_merged_away_id_and_refused_for_an_unknown_one(world):
    _, requests, _, (ana, merged, _) = world
    # When erasures are requested by her id, by the merged-away one, and by an unknown one
    requests.request(WS, ana, "customers_redact")
    requests.request(WS, merged, "customers_redact")
    # Then the first two are queued by the id given, and the unknown one is not found
    assert [r[3] for r in requests.sink.requests] == [ana, merged]
    with pytest.raises(NotFound):
        requests.request(WS, "cus_unknown", "customers_redact")
