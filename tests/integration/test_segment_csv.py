"""`GET /segments/{id}/members.csv`: a segment's members as CSV, page by page."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

import patron.cli
from chalicelib.domain.segment_csv import COLUMNS, cell
from tests.conftest import event_bytes
from tests.integration.test_backfill_and_models import seed_profiles
from tests.integration.test_membership import create_segment


def _csv_pages(stage, ws, segment_id: str, limit: int) -> tuple[list[list[str]], int]:
    rows, cursor, pages = [], None, 0
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = stage.get(ws, f"/segments/{segment_id}/members.csv{query}")
        assert response.status_code == 200, response.body
        assert response.headers["Content-Type"].startswith("text/csv")
        body = response.body.decode() if isinstance(response.body, bytes) else response.body
        rows += list(csv.reader(io.StringIO(body)))
        pages += 1
        cursor = response.headers.get("X-Next-Cursor")
        if not cursor:
            return rows, pages


def test_a_segments_members_download_as_one_csv_across_pages(stage, ws):
    # Given a segment every customer with an order enters, seven customers and Jane's order
    segment_id = create_segment(stage, ws, "Buyers", "orders_count >= 1")
    seed_profiles(stage, ws, 7, seed=16)
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    listed = json.loads(stage.get(ws, f"/segments/{segment_id}/members?limit=100").body)["customers"]
    assert len(listed) == 8
    # When its CSV is read three rows at a time
    rows, pages = _csv_pages(stage, ws, segment_id, 3)
    # Then the pages join into one file: one header, each member once, in the list's order
    assert pages == 3 and rows[0] == list(COLUMNS)
    assert [r[0] for r in rows[1:]] == listed
    # And each row carries what GET /customers/{id} shows
    by_id = {r[0]: dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]}
    emails = []
    for customer_id in listed:
        shown = json.loads(stage.get(ws, f"/customers/{customer_id}").body)
        for name in ("email", "phone", "orders_count", "net_spent", "currency", "last_order_at"):
            assert by_id[customer_id][name] == str(shown[name] if shown[name] is not None else "")
        assert by_id[customer_id]["is_member"] == str(shown["is_member"]).lower()
        emails.append(by_id[customer_id]["email"])
        consent = shown["email_consent"]
        assert by_id[customer_id]["email_consent"] == (consent["state"] if consent else "")
    assert "jane.doe@example.com" in emails


def test_the_csv_of_an_unknown_segment_is_a_404_and_needs_a_key(stage, ws):
    # Given a workspace without that segment
    # When its CSV is asked, with and without a key
    missing = stage.get(ws, "/segments/seg_nope/members.csv")
    no_key = stage.http.http.get("/segments/seg_nope/members.csv")
    # Then a 404 in the error shape, and a 401
    assert missing.status_code == 404 and json.loads(missing.body)["error"]
    assert no_key.status_code == 401


def test_a_cell_that_starts_like_a_formula_is_quoted_but_a_phone_is_not():
    # Given values a spreadsheet could run, and an E.164 phone
    # When they are made CSV cells
    # Then the formulas get a leading quote and the phone and plain text stay as they are
    assert cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and cell("@sum") == "'@sum"
    assert cell("-cmd") == "'-cmd" and cell("+33612345678") == "+33612345678"
    assert cell(None) == "" and cell("Jane") == "Jane" and cell(-3) == "-3"


def test_the_cli_writes_the_same_csv_as_the_api(stage, ws, monkeypatch):
    # Given a segment with four members
    segment_id = create_segment(stage, ws, "Buyers", "orders_count >= 1")
    seed_profiles(stage, ws, 4, seed=7)
    monkeypatch.setattr(patron.cli, "_container", lambda args: stage.container)
    # When `patron segment members --csv` runs
    done = CliRunner().invoke(
        patron.cli.cli, ["segment", "members", "-w", ws.workspace_id, segment_id, "--csv"], prog_name="patron"
    )
    # Then it prints every member as the API's pages joined do
    assert done.exit_code == 0, done.output
    rows, _ = _csv_pages(stage, ws, segment_id, 2)
    assert list(csv.reader(io.StringIO(done.output))) == rows and len(rows) == 5
