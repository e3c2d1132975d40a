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


def search_entries(stage) -> set[tuple[str, str]]:
    """The search entries the CRM table holds (a test may scan moto; the code never does)."""
    items = stage.client("dynamodb").scan(
        TableName=stage.info.crm_table,
        FilterExpression="t = :t",
        ExpressionAttributeValues={":t": {"S": "srch"}},
    )["Items"]
    return {(i["pk"]["S"], i["sk"]["S"]) for i in items}


def test_the_order_path_writes_no_search_entry_the_profile_stream_does(stage, ws):
    # Given a new customer's profile written as the order path writes it
    profile = CustomerProfile(
        workspace_id=ws.workspace_id,
        customer_id="c_00000009",
        first_name="Zoe",
        email="zoe@example.com",
        emails={"zoe@example.com"},
        tags={"VIP"},
    )
    stage.container.profile_store.save(profile, None, [], [])
    # When the CRM stream has not run yet
    # Then the profile item carries no search attribute and no entry exists
    item = stage.container.crm.get(f"W#{ws.workspace_id}#P#c_00000009", "P")
    assert item is not None and not {"qn", "qe", "qp"} & set(item)
    assert search_entries(stage) == set()
    # When the profile stream's consumer takes the change
    stage.drain()
    # Then the name, email and tag entries are there, and the search finds the customer
    w = ws.workspace_id
    assert search_entries(stage) == {
        (f"W#{w}#SRCH#n#z", "zoe#c_00000009"),
        (f"W#{w}#SRCH#e#z", "zoe@example.com#c_00000009"),
        (f"W#{w}#SRCH#t#vip", "c_00000009"),
    }
    assert ids(stage, ws, "q=zo")[0] == ["c_00000009"]


@pytest.fixture
def tagged_people(stage, ws):
    """Four customers, three of them tagged, saved as the order pipeline saves them."""
    tags = {
        "c_00000001": {"VIP", "wholesale"},
        "c_00000002": {"vip"},
        "c_00000003": set(),
        "c_00000004": {"vip"},
    }
    for cid, tagset in tags.items():
        profile = CustomerProfile(
            workspace_id=ws.workspace_id, customer_id=cid, rev=1, first_name="T" + cid, tags=tagset
        )
        stage.container.profile_store.save(profile, None, [], [])
    stage.drain()
    return stage, ws


def test_the_tag_filter_lists_a_tags_customers_page_by_page(tagged_people, monkeypatch):
    stage, ws = tagged_people
    # Given customers tagged vip (in any case), one wholesale, one untagged
    # When the list is filtered by a tag, one customer a page
    # Then it lists each customer with that tag once, by id
    assert ids(stage, ws, "tag=vip&limit=1") == (["c_00000001", "c_00000002", "c_00000004"], 3)
    assert ids(stage, ws, "tag=VIP")[0] == ["c_00000001", "c_00000002", "c_00000004"]
    assert ids(stage, ws, "tag=wholesale")[0] == ["c_00000001"]
    assert ids(stage, ws, "tag=nobody")[0] == []
    # And a tag with another filter, or a cursor of another filter, is a 400
    two = stage.get(ws, "/customers?tag=vip&q=t")
    assert two.status_code == 400 and {d["field"] for d in json.loads(two.body)["details"]} == {"q", "tag"}
    assert stage.get(ws, "/customers?tag=vip&cursor=s.abc").status_code == 400
    # And the CLI lists what the API lists
    monkeypatch.setattr(patron.cli, "_container", lambda args: stage.container)
    args = ["customers", "list", "-w", ws.workspace_id, "--tag", "vip", "--json"]
    done = CliRunner().invoke(patron.cli.cli, args, prog_name="patron")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == json.loads(stage.get(ws, "/customers?tag=vip").body)


def test_a_changed_tag_or_name_moves_the_entries_and_a_stale_entry_is_not_listed(tagged_people):
    stage, ws = tagged_people
    # Given a vip customer named Tc_00000002
    store = stage.container.profile_store
    profile = store.load(ws.workspace_id, "c_00000002")
    assert profile is not None
    # When the profile loses its tag and changes its name, and the stream takes the change
    profile.tags = {"gold"}
    profile.first_name = "Renamed"
    profile.rev = 2
    store.save(profile, 1, [], [])
    stage.drain()
    # Then the old tag and name find it no more, the new ones do
    assert ids(stage, ws, "tag=vip")[0] == ["c_00000001", "c_00000004"]
    assert ids(stage, ws, "tag=gold")[0] == ["c_00000002"]
    assert ids(stage, ws, "q=renamed")[0] == ["c_00000002"]
    assert "c_00000002" not in ids(stage, ws, "q=tc")[0]
    # When a stale entry is left behind (an old record re-applied after the change)
    from chalicelib.adapters.customer_search import entry_item

    stage.container.crm.put(entry_item(ws.workspace_id, "c_00000002", "tag", "vip", 1))
    stage.container.crm.put(entry_item(ws.workspace_id, "c_00000002", "name", "tc_00000002", 1))
    # Then the list leaves the customer out: the profile no longer matches
    assert ids(stage, ws, "tag=vip")[0] == ["c_00000001", "c_00000004"]
    assert "c_00000002" not in ids(stage, ws, "q=tc")[0]


def test_reindex_backfills_profiles_saved_before_the_entries_resumably_and_idempotently(people, monkeypatch):
    stage, ws = people
    # Given five customers whose search entries are not there (saved before the entries existed)
    client = stage.client("dynamodb")
    before = search_entries(stage)
    assert len(before) == 12  # 4 names, 4 emails, 4 phones
    for pk, sk in before:
        client.delete_item(TableName=stage.info.crm_table, Key={"pk": {"S": pk}, "sk": {"S": sk}})
    assert ids(stage, ws, "q=ja")[0] == []
    # When `patron customers reindex` runs a page at a time, resumed from the cursor it prints
    monkeypatch.setattr(patron.cli, "_container", lambda args: stage.container)
    cursor, runs, profiles = None, 0, 0
    while True:
        args = ["customers", "reindex", "-w", ws.workspace_id, "--pages", "1", "--json"]
        done = CliRunner().invoke(patron.cli.cli, args + (["--cursor", cursor] if cursor else []))
        assert done.exit_code == 0, done.output
        printed = json.loads(done.output)
        runs, profiles, cursor = runs + 1, profiles + printed["profiles"], printed["cursor"]
        if cursor is None:
            break
    # Then every entry is back, and the search finds what it found before
    assert search_entries(stage) == before and profiles == 5 and runs > 1
    assert ids(stage, ws, "q=ja&limit=1") == (["c_00000003", "c_00000001", "c_00000004"], 4)
    # And running it again changes nothing; a cursor it never printed is refused
    again = CliRunner().invoke(patron.cli.cli, ["customers", "reindex", "-w", ws.workspace_id, "--json"])
    assert again.exit_code == 0 and json.loads(again.output)["cursor"] is None
    assert search_entries(stage) == before
    bad = CliRunner().invoke(
        patron.cli.cli, ["customers", "reindex", "-w", ws.workspace_id, "--cursor", "nope"]
    )
    assert bad.exit_code == 2


def test_an_erased_customer_leaves_no_search_entry(people):
    stage, ws = people
    # Given Jane, found by her name, email and phone
    assert ids(stage, ws, "q=jane")[0] == ["c_00000001"]
    assert any(sk.endswith("#c_00000001") for _, sk in search_entries(stage))
    # When she is erased through the API and the streams run
    headers = {"Authorization": f"Bearer {ws.api_key}"}
    assert stage.http.http.delete("/customers/c_00000001", headers=headers).status_code == 202
    stage.drain()
    # Then none of her entries is left, and the others' are untouched
    left = search_entries(stage)
    assert not any(sk.endswith("#c_00000001") for _, sk in left) and len(left) == 9
    assert ids(stage, ws, "q=jane")[0] == []
