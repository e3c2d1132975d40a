"""`GET /customers`: the customer list, searched by name, email or phone prefix, or a
segment's or a tier's customers, page by page; `?email=` as before."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import patron.cli
from chalicelib.adapters.tier_store import states_pk
from chalicelib.domain.customer_profile import CustomerProfile

PEOPLE = [
    ("c_00000001", "Jane", "Doe", "jane.doe@example.com", "+33612345678"),
    ("c_00000002", "Jérôme", "Martin", "jm@example.org", "+33698765432"),
    ("c_00000003", "Jack", "Black", "jack@example.com", "+14155550100"),
    ("c_00000004", "Ada", "Lovelace", "jade@example.com", None),
    ("c_00000005", None, None, None, "+4915112345678"),
]


@pytest.fixture
def people(stage, ws):
    """Five customers saved as the order pipeline saves them, their memberships settled."""
    for cid, first, last, email, phone in PEOPLE:
        profile = CustomerProfile(
            workspace_id=ws.workspace_id,
            customer_id=cid,
            created_at="2026-11-01T00:00:00.000000Z",
            first_name=first,
            last_name=last,
            email=email,
            emails={email} if email else set(),
            phone=phone,
            phones={phone} if phone else set(),
        )
        stage.container.profile_store.save(profile, None, [], [])
    stage.drain()
    return stage, ws


def ids(stage, ws, query: str) -> tuple[list[str], int]:
    """Every customer the query lists, following the cursor, and the pages it took."""
    found, cursor, pages = [], None, 0
    while True:
        response = stage.get(ws, f"/customers?{query}" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.body
        page = json.loads(response.body)
        found += [c["customer_id"] for c in page["customers"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            return found, pages


def test_a_search_finds_customers_by_name_email_or_phone_prefix(people):
    stage, ws = people
    # Given five customers
    # When the list is searched by a name, an email and a phone prefix, one customer a page
    # Then names come first (accents ignored), then emails not already listed by name, once each
    assert ids(stage, ws, "q=ja&limit=1") == (["c_00000003", "c_00000001", "c_00000004"], 4)
    assert ids(stage, ws, "q=Jerome")[0] == ["c_00000002"]
    assert ids(stage, ws, "q=jade%40")[0] == ["c_00000004"]
    assert ids(stage, ws, "q=%2B33%206")[0] == ["c_00000001", "c_00000002"]
    assert ids(stage, ws, "q=49151")[0] == ["c_00000005"]
    assert ids(stage, ws, "q=nobody")[0] == []
    # And each customer is the profile GET /customers/{id} shows
    (jane,) = json.loads(stage.get(ws, "/customers?q=jane%20d").body)["customers"]
    assert jane["email"] == "jane.doe@example.com" and jane["first_name"] == "Jane"


def test_every_customer_is_listed_once_across_pages(people):
    stage, ws = people
    # Given five customers
    # When the whole list is read two at a time
    found, pages = ids(stage, ws, "limit=2")
    # Then each comes once, in a stable order
    assert sorted(found) == [p[0] for p in PEOPLE] and len(found) == 5 and pages >= 3
    assert ids(stage, ws, "limit=2")[0] == found


def test_a_segments_and_a_tiers_customers(people):
    stage, ws = people
    # Given five prospects (no order yet), two of them in the gold tier
    for cid, tier in (("c_00000004", "gold"), ("c_00000002", "gold"), ("c_00000003", "silver")):
        state = {"pk": states_pk(ws.workspace_id), "sk": f"C#{cid}", "t": "tier", "tr": tier}
        stage.container.crm.put(state)
    # When the list is filtered by the segment, then by the tier
    # Then it lists their customers by id
    assert ids(stage, ws, "segment=lifecycle:prospect&limit=2")[0] == [p[0] for p in PEOPLE]
    assert ids(stage, ws, "segment=lifecycle:active")[0] == []
    assert ids(stage, ws, "tier=gold&limit=1")[0] == ["c_00000002", "c_00000004"]


def test_the_list_refuses_what_it_cannot_answer(people):
    stage, ws = people
    # Given the list
    # When it is asked two filters at once, a cursor it never gave, a long q, an unknown segment
    two = stage.get(ws, "/customers?q=ja&tier=gold")
    cursor = stage.get(ws, "/customers?q=ja&cursor=s.abc")
    garbage = stage.get(ws, "/customers?q=ja&cursor=qn.%21%21")
    long_q = stage.get(ws, "/customers?q=" + "a" * 101)
    unknown = stage.get(ws, "/customers?segment=seg_nope")
    # Then 400s naming the field, a 404, and a 401 without a key; ?email= still answers
    assert two.status_code == 400 and {d["field"] for d in json.loads(two.body)["details"]} == {"q", "tier"}
    assert cursor.status_code == 400 and json.loads(cursor.body)["details"][0]["field"] == "cursor"
    assert garbage.status_code == 400
    assert long_q.status_code == 400 and json.loads(long_q.body)["details"][0]["field"] == "q"
    assert unknown.status_code == 404
    assert stage.http.http.get("/customers?q=ja").status_code == 401
    exact = stage.get(ws, "/customers?email=nobody@example.com")
    assert exact.status_code == 200 and json.loads(exact.body) == {"customers": [], "next_cursor": None}


def test_the_cli_lists_what_the_api_lists(people, monkeypatch):
    stage, ws = people
    # Given five customers, and the CLI on the same stage
    monkeypatch.setattr(patron.cli, "_container", lambda args: stage.container)
    # When `patron customers list --q ja` runs
    args = ["customers", "list", "-w", ws.workspace_id, "--q", "ja", "--json"]
    done = CliRunner().invoke(patron.cli.cli, args, prog_name="patron")
    # Then it prints the API's page
    assert done.exit_code == 0, done.output
    printed = json.loads(done.output)
    assert printed == json.loads(stage.get(ws, "/customers?q=ja").body)
    assert [c["customer_id"] for c in printed["customers"]] == ["c_00000003", "c_00000001", "c_00000004"]
