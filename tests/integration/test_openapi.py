"""The API's OpenAPI 3.1 description: built from the routes' declarations and pydantic models,
valid, committed (docs/openapi.json), served at GET /openapi.json, and covering every route."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from chalice import Chalice
from openapi_spec_validator import validate

from chalicelib.handlers.http import CATCH_ALL
from chalicelib.handlers.openapi import Undeclared, document, dumps, operation
from patron.cli.openapi import COMMITTED, openapi_text
from patron.stack import ROOT, load_app
from tests.conftest import event_bytes

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@pytest.fixture(scope="module")
def app() -> Any:
    return load_app()


@pytest.fixture(scope="module")
def doc(app: Any) -> dict[str, Any]:
    return document(app.routes)


def _operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): op
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def test_the_document_is_valid_openapi_3_1(doc):
    # Given the document built from the app's routes
    # When the OpenAPI specification's validator reads it
    validate(doc)

    # Then it is an OpenAPI 3.1 document (validate raised nothing) with components it refers to
    assert doc["openapi"].startswith("3.1")
    text = dumps(doc)
    refs = {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}
    assert refs and refs <= set(doc["components"]["schemas"])


def test_the_committed_copy_is_the_document_byte_for_byte():
    # Given the committed docs/openapi.json
    committed = COMMITTED.read_text()

    # When the document is built from today's routes and models
    built = openapi_text()

    # Then they are the same text: a change to the API is a visible diff
    assert built == committed, "docs/openapi.json is stale: run `make openapi` and commit it"


def test_every_route_is_documented_and_every_documented_operation_is_a_route(app, doc):
    # Given the app's routes (but the unknown paths' catch-all 404) and the document's operations
    routes = {
        (method, path) for path, methods in app.routes.items() if path not in CATCH_ALL for method in methods
    }

    # When they are compared
    documented = set(_operations(doc))

    # Then they are the same set
    assert sorted(routes - documented) == []
    assert sorted(documented - routes) == []
    assert len(routes) >= 48


def test_every_operation_declares_401_unless_it_is_public(doc):
    # Given every operation of the document
    ops = _operations(doc)

    # When those without their own (empty) security are looked at
    authenticated = {key: op for key, op in ops.items() if op.get("security") != []}
    missing = sorted(f"{m} {p}" for (m, p), op in authenticated.items() if "401" not in op["responses"])

    # Then each declares its 401 in the one error shape, and bearer is the default security
    assert missing == []
    assert doc["security"] == [{"bearer": []}]
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    error = {"$ref": "#/components/schemas/ErrorBody"}
    assert all(
        _answer(doc, op["responses"]["401"])["content"]["application/json"]["schema"] == error
        for op in authenticated.values()
    )
    # And the public ones are the pages, the webhooks (signed instead) and this document
    public = sorted(f"{m} {p}" for (m, p), op in ops.items() if op.get("security") == [])
    assert public == [
        "GET /console",
        "GET /console/pages/{asset}",
        "GET /console/{asset}",
        "GET /csat/{token}",
        "GET /join/{token}",
        "GET /openapi.json",
        "GET /unsubscribe/{token}",
        "POST /csat/{token}",
        "POST /join/{token}",
        "POST /unsubscribe/{token}",
        "POST /webhooks/generic",
        "POST /webhooks/shopify",
        "POST /webhooks/woocommerce",
    ]


def test_every_operation_has_its_path_parameters_a_tag_and_an_error_schema(doc):
    # Given every operation
    for (method, path), op in _operations(doc).items():
        # When its path parameters and responses are read
        in_path = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        named = {part.split("}")[0] for part in path.split("{")[1:]}

        # Then each path parameter is declared, the operation is tagged, and its errors use ErrorBody
        assert in_path == named, (method, path)
        assert op["tags"], (method, path)
        for status, shared in op["responses"].items():
            answer = _answer(doc, shared)
            if int(status) >= 400 and "application/json" in answer.get("content", {}):
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


def test_a_route_without_a_declaration_fails_naming_it():
    # Given an app with a declared route and one a helper added without its declaration
    app = Chalice(app_name="undeclared")

    @app.route("/declared", methods=["GET"])
    @operation("declared", "meta", {204: None})
    def declared_view() -> None:
        return None

    @app.route("/new/{thing}", methods=["POST"])
    def new_view(thing: str) -> None:
        return None

    # When the document is built
    with pytest.raises(Undeclared) as refused:
        document(app.routes)

    # Then the error names the route and says what to do
    assert refused.value.routes == ["POST /new/{thing}"]
    assert "@operation" in str(refused.value) and "make openapi" in str(refused.value)


def test_get_openapi_json_serves_the_committed_document_without_a_key(stage):
    # Given the app, and no API key
    # When /openapi.json is fetched
    response = stage.http.http.get("/openapi.json")

    # Then it is the committed document
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "application/json"
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    assert body == COMMITTED.read_text()


def _answer(doc: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """A response, or the shared one (components.responses) it refers to."""
    ref = response.get("$ref", "")
    return doc["components"]["responses"][ref.rsplit("/", 1)[1]] if ref else response


def _response_schema(doc: dict[str, Any], method: str, path: str, status: str) -> dict[str, Any]:
    answer = _answer(doc, doc["paths"][path][method]["responses"][status])
    schema = answer["content"]["application/json"]["schema"]
    return {**schema, "components": doc["components"]}


def test_answers_match_their_documented_schemas(stage, ws, doc):
    # Given a workspace with a segment and a customer's privacy request
    post = {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"}
    created = stage.http.http.post(
        "/segments", body=json.dumps({"name": "Big", "definition": "total_spent > 100"}), headers=post
    )
    erased = stage.http.http.delete("/customers/c_nobody", headers=post)

    # When the lists, the created segment and a refusal are read
    answers = {
        ("get", "/segments", "200"): stage.get(ws, "/segments"),
        ("get", "/templates", "200"): stage.get(ws, "/templates"),
        ("get", "/customers", "200"): stage.get(ws, "/customers?email=nobody@example.com"),
        ("post", "/segments", "201"): created,
        ("delete", "/customers/{customer_id}", "404"): erased,
        ("get", "/segments", "401"): stage.http.http.get("/segments"),
        ("get", "/segments/{segment_id}", "200"): stage.get(ws, "/segments/rfm:champions"),
        ("get", "/analytics/report", "200"): stage.get(ws, "/analytics/report"),
    }

    # Then each answer has its documented status and validates against its documented schema
    for (method, path, status), response in answers.items():
        assert str(response.status_code) == status, (method, path, response.body)
        body = json.loads(response.body)
        jsonschema.validate(body, _response_schema(doc, method, path, status))
    assert json.loads(answers[("get", "/segments", "200")].body)["segments"][0]["name"] == "Big"
    # And a stored segment's detail matches too (the built-in one above has no definition)
    stored = stage.get(ws, f"/segments/{json.loads(created.body)['segment_id']}")
    detail = json.loads(stored.body)
    jsonschema.validate(detail, _response_schema(doc, "get", "/segments/{segment_id}", "200"))
    assert detail["builtin"] is False and detail["backfill"]["state"] in ("queued", "running", "complete")


# Answers whose shape no model states yet (a dict from the domain): this list only shrinks. A new
# route returns a model (handlers/api_models.py) so its documented schema is what it sends.
UNTYPED = {
    "GET /openapi.json",  # the document itself
}


def test_only_the_listed_operations_answer_an_untyped_object(doc):
    # Given every operation's success answers
    untyped = {
        f"{method} {path}"
        for (method, path), op in _operations(doc).items()
        for status, answer in op["responses"].items()
        if int(status) < 400
        and any(media.get("schema") == {"type": "object"} for media in answer.get("content", {}).values())
    }

    # When they are compared with the list of answers not modelled yet
    # Then no other answers an untyped object
    assert sorted(untyped - UNTYPED) == [], "return a response model (handlers/api_models.py)"
    assert sorted(UNTYPED - untyped) == [], "modelled now: take it off UNTYPED"


def test_a_flow_its_runs_and_the_coupons_match_their_documented_schemas(stage, ws, doc):
    # Given the shipped welcome flow, applied, and Jane's first order
    headers = {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"}
    applied = {
        name: stage.http.http.put(
            f"/flows/{name}",
            body=(ROOT / "flows" / f"{name.replace('-', '_')}.json").read_text(),
            headers=headers,
        )
        for name in ("welcome", "abandoned-checkout")
    }
    assert {name: r.status_code for name, r in applied.items()} == {"welcome": 201, "abandoned-checkout": 201}
    again = stage.http.http.put(
        "/flows/welcome", body=(ROOT / "flows" / "welcome.json").read_text(), headers=headers
    )
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    (jane,) = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]

    # When the flow, her runs and the coupons are read
    answers = {
        "/flows/{flow_id}": stage.get(ws, "/flows/welcome"),
        "/customers/{customer_id}/flows": stage.get(ws, f"/customers/{jane['customer_id']}/flows"),
        "/coupons": stage.get(ws, "/coupons"),
        "/flows": stage.get(ws, "/flows"),
    }
    answers_put = {"201": applied["welcome"], "200": again}

    # Then each is a 200 that validates against its documented schema
    for path, response in answers.items():
        assert response.status_code == 200, (path, response.body)
        jsonschema.validate(json.loads(response.body), _response_schema(doc, "get", path, "200"))
    for status, response in answers_put.items():
        assert str(response.status_code) == status, response.body
        jsonschema.validate(
            json.loads(response.body), _response_schema(doc, "put", "/flows/{flow_id}", status)
        )
    assert json.loads(again.body)["unchanged"] is True
    flows = json.loads(answers["/flows"].body)["flows"]
    assert sorted(f["flow_id"] for f in flows) == ["abandoned-checkout", "welcome"]
    assert [f["codes_issued"] for f in flows if f["flow_id"] == "abandoned-checkout"] == [0]
    runs = json.loads(answers["/customers/{customer_id}/flows"].body)["runs"]
    assert [run["flow_id"] for run in runs] == ["welcome"]


def test_a_report_with_every_section_filled_is_its_documented_model():
    # Given a report whose churn points name products (titled or not) and whose cohorts are filled
    from chalicelib.domain.report_standing import Standing
    from chalicelib.domain.workspace_analytics import build_report
    from chalicelib.handlers.api_models import WorkspaceReport
    from tests.integration.test_report_product_names import END, START, lost_buyer

    profiles = [*[lost_buyer(n, "shop", "tee") for n in range(6)], lost_buyer(7, "woo", "mug")]
    report = build_report(profiles, START, END, currency="USD", workspace_id="ws_1")
    standing = Standing(END, None, None, "USD")  # the service adds the grid and the funnel
    for profile in profiles:
        standing.add(profile)
    report["rfm_grid"] = standing.rfm_grid().model_dump(mode="json")
    report["lifecycle_funnel"] = standing.funnel().model_dump(mode="json")

    # When it is read as the route's answer model
    answer = WorkspaceReport.model_validate(report)

    # Then nothing is lost or renamed on the way
    assert json.loads(answer.model_dump_json()) == json.loads(json.dumps(report))
    assert report["churn_points"]["after_products"][0]["product"] == "tee" and report["cohort_retention"]
