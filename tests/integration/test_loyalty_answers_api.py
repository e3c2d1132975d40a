"""Issue 16: loyalty's answers typed in the OpenAPI document (handlers/loyalty_models.py) and
every status they can return declared: the tier preview, the points rules' dry-run, and
a data request's export (handlers/privacy_models.py)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from chalicelib.domain.loyalty.tiers import rules_from_json
from chalicelib.domain.workspace_settings import LoyaltyRules
from chalicelib.handlers.openapi import document
from patron.stack import load_app
from tests.conftest import event_bytes
from tests.integration.test_tiers_api import RULES


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return document(load_app().routes)


def _post(stage: Any, ws: Any, path: str, body: dict[str, Any]) -> Any:
    headers = {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"}
    return stage.http.http.post(path, headers=headers, body=json.dumps(body))


def _schema(doc: dict[str, Any], path: str, status: int) -> dict[str, Any]:
    """The documented schema of `POST path`'s answer with `status` (KeyError if undeclared)."""
    answer = doc["paths"][path]["post"]["responses"][str(status)]
    ref = answer.get("$ref", "")
    answer = doc["components"]["responses"][ref.rsplit("/", 1)[1]] if ref else answer
    return {**answer["content"]["application/json"]["schema"], "components": doc["components"]}


def test_the_tier_preview_refused_while_loyalty_is_off_is_a_documented_409(stage, ws, doc):
    # Given a workspace whose points are off
    # When tier rules are previewed
    answer = _post(stage, ws, "/tiers/preview", RULES)
    # Then it is a 409 loyalty_off, a status the document declares, in the one error shape
    assert answer.status_code == 409, answer.body
    body = json.loads(answer.body)
    assert body["details"]["reason"] == "loyalty_off"
    jsonschema.validate(body, _schema(doc, "/tiers/preview", 409))


def test_the_preview_and_the_dry_run_answer_their_documented_models(stage, ws, doc):
    # Given loyalty on with tiers, and Jane's paid order of 122.00
    stage.container.workspaces.set_loyalty(ws.workspace_id, LoyaltyRules(enabled=True))
    stage.container.workspaces.set_tiers(ws.workspace_id, rules_from_json(RULES))
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    lower = dict(RULES, tiers=[RULES["tiers"][0], dict(RULES["tiers"][1], enter=120, keep=110)])
    # When gold is previewed at 120, and 2 points per unit dry-run from 1 December
    preview = _post(stage, ws, "/tiers/preview", lower)
    dry_run = _post(
        stage,
        ws,
        "/workspace/loyalty/dry-run",
        {"points_per_unit": "2", "at": "2026-12-01T00:00:00Z"},
    )
    # Then each is a 200 whose body validates against its documented schema (not an untyped object)
    assert preview.status_code == 200, preview.body
    assert dry_run.status_code == 200, dry_run.body
    preview_schema = _schema(doc, "/tiers/preview", 200)
    dry_run_schema = _schema(doc, "/workspace/loyalty/dry-run", 200)
    assert preview_schema.get("type") != "object" and dry_run_schema.get("type") != "object"
    jsonschema.validate(json.loads(preview.body), preview_schema)
    jsonschema.validate(json.loads(dry_run.body), dry_run_schema)
    # And the figures are the domain's: Jane moves up, her 122 points doubled
    assert json.loads(preview.body)["up"]["count"] == 1
    ran = json.loads(dry_run.body)
    assert (ran["current"]["points"], ran["proposed"]["points"]) == (122, 244)


def test_a_data_requests_export_answers_its_documented_model(stage, ws, doc):
    # Given Lena, who ordered on the WooCommerce store, and her data asked for through the API
    stage.send(ws, "woocommerce", "order.created", event_bytes("woocommerce/order_created.json"))
    stage.drain()
    (lena,) = json.loads(stage.get(ws, "/customers?email=lena.hofer@example.org").body)["customers"]
    auth = {"Authorization": f"Bearer {ws.api_key}"}
    asked = stage.http.http.post(f"/customers/{lena['customer_id']}/export", headers=auth)
    stage.drain()
    # When the export is fetched
    answer = stage.get(ws, f"/exports/{json.loads(asked.body)['request_id']}")
    # Then it is a 200 whose body validates against the documented ExportOut, not an untyped object
    assert answer.status_code == 200, answer.body
    operation = doc["paths"]["/exports/{request_id}"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema != {"type": "object"}
    export = json.loads(answer.body)
    jsonschema.validate(export, {**schema, "components": doc["components"]})
    assert [o["total"] for o in export["orders"]] == ["104.88"]
