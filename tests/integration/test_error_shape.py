"""Issue 16: one error shape everywhere (Chalice's own refusals included), authentication
before validation on every authenticated route, and a 404 for a path no route matches."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest

from chalicelib.handlers.http import ErrorBody, is_public, logger

WRONG_KEYS = [None, "Bearer", "Bearer pk_not_a_key", "Basic dXNlcjpwYXNz"]


def shape(response: Any) -> dict[str, Any]:
    """The response's body, checked against the one error shape."""
    body = json.loads(response.body)
    ErrorBody.model_validate(body)  # extra="forbid": no Code/Message, nothing else
    assert response.headers["Content-Type"] == "application/json"
    return body


def bearer(ws: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"}


def test_a_body_that_is_not_json_is_a_400_invalid_json_on_both_kinds_of_route(stage, ws):
    # Given an authenticated caller
    # When it posts a body that is not JSON to a route reading json_body and to one reading a model
    segment = stage.http.http.post("/segments", headers=bearer(ws), body=b"{not json")
    campaign = stage.http.http.post("/campaigns", headers=bearer(ws), body=b"{not json")
    adjust = stage.http.http.post(
        "/customers/c_1/points/adjustments",
        headers={**bearer(ws), "Idempotency-Key": "k1"},
        body=b"{not json",
    )
    # Then each is a 400 invalid_json in the one shape
    for answer in (segment, campaign, adjust):
        assert answer.status_code == 400
        assert shape(answer)["error"] == "invalid_json"


def test_a_webhook_with_a_wrong_content_type_is_a_415_in_the_one_shape(stage, ws):
    # Given a delivery whose Content-Type the webhook routes do not accept
    # When it is posted
    answer = stage.http.http.post(
        "/webhooks/shopify", headers={"Content-Type": "application/xml"}, body=b"<hello/>"
    )
    # Then it is a 415 unsupported_media_type, not Chalice's {"Code", "Message"}
    assert answer.status_code == 415
    assert shape(answer) == {
        "error": "unsupported_media_type",
        "message": "Unsupported media type: application/xml",
    }


def test_a_known_path_with_a_wrong_method_is_a_405_in_the_one_shape_after_the_key(stage, ws):
    # Given a path the API has, for GET only
    # When it is PUT with the key, and without it
    answer = stage.http.http.put("/messaging/stats", headers=bearer(ws), body=b"{}")
    anonymous = stage.http.http.put(
        "/messaging/stats", headers={"Content-Type": "application/json"}, body=b"{}"
    )
    # Then the caller with the key gets a 405 method_not_allowed naming the allowed methods,
    # the one without it a 401 (the key is checked first)
    assert answer.status_code == 405
    assert shape(answer)["error"] == "method_not_allowed"
    assert answer.headers["Allow"] == "GET"
    assert anonymous.status_code == 401 and shape(anonymous)["error"] == "unauthorized"


def test_a_route_given_a_content_type_it_does_not_take_is_a_415_in_the_one_shape(stage, ws):
    # Given an authenticated caller sending XML to a JSON route
    headers = {**bearer(ws), "Content-Type": "application/xml"}
    # When it posts
    answer = stage.http.http.post("/segments", headers=headers, body=b"<segment/>")
    # Then it is a 415 unsupported_media_type in the one shape
    assert answer.status_code == 415
    assert shape(answer)["error"] == "unsupported_media_type"


def test_an_uncaught_exception_is_a_500_internal_error_without_trace_or_personal_data(stage, ws, monkeypatch):
    # Given a service that fails with personal data in its message, and the logger read back
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("jane.doe@example.com could not be read")

    monkeypatch.setattr(stage.container.customers, "find_by_email", broken)
    captured = io.StringIO()
    previous = logger.registered_handler.setStream(captured)
    try:
        # When a route calls it
        answer = stage.get(ws, "/customers?email=jane.doe@example.com")
    finally:
        logger.registered_handler.setStream(previous)
    # Then the caller gets a 500 internal_error with no trace, and the log names the failure
    # by its type and frames, never its message
    assert answer.status_code == 500
    assert shape(answer) == {"error": "internal_error", "message": "an internal error occurred"}
    logged = captured.getvalue()
    assert '"unhandled exception"' in logged and "RuntimeError" in logged
    assert "jane.doe" not in logged and "Traceback" not in logged


def test_an_exception_past_the_views_is_a_500_in_the_one_shape(stage, ws, monkeypatch):
    # Given a failure that happens outside any view (Chalice's own handling raising)
    from chalice.app import RestAPIEventHandler

    def explode(self: Any, event: Any, context: Any) -> Any:
        raise KeyError("jane.doe@example.com")

    monkeypatch.setattr(RestAPIEventHandler, "_main_rest_api_handler", explode)
    # When any route is called
    answer = stage.get(ws, "/messaging/stats")
    # Then it is still a 500 internal_error in the one shape
    assert answer.status_code == 500
    assert shape(answer) == {"error": "internal_error", "message": "an internal error occurred"}


@pytest.mark.parametrize("path", ["/", "/nope", "/customers/c_1/nope", "/a/b/c/d"])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_an_unknown_path_is_a_404_not_found_that_never_echoes_the_key(stage, ws, path, method):
    # Given a caller with a key, and the event API Gateway sends for a path only the greedy
    # resource matches (the local test client matches `{proxy+}` on one segment only)
    app = stage.http._app
    resource = "/" if path == "/" else "/{proxy+}"
    event = {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None if path == "/" else {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": "/api" + path},
        "body": "{garbage",
        "isBase64Encoded": False,
    }
    # When the app answers it
    raw = app(event, None)
    # Then it is a 404 not_found in the one shape, and the key is nowhere in it
    assert raw["statusCode"] == 404
    body = json.loads(raw["body"])
    ErrorBody.model_validate(body)
    assert body == {"error": "not_found", "message": f"no API route matches {path}"}
    assert ws.api_key not in json.dumps(raw)


def test_an_unknown_one_segment_path_is_a_404_through_the_test_client(stage, ws):
    # Given a caller with a key
    # When it calls a one-segment path no route matches
    answer = stage.http.http.get("/nothing-here", headers=bearer(ws))
    # Then the catch-all answers 404 in the one shape
    assert answer.status_code == 404
    assert shape(answer) == {"error": "not_found", "message": "no API route matches /nothing-here"}


def authenticated_routes(app: Any) -> list[tuple[str, str]]:
    return sorted(
        (path, method) for path, methods in app.routes.items() for method in methods if not is_public(path)
    )


def test_every_authenticated_route_answers_401_first_whatever_the_body(stage, ws):
    # Given every route of the app but the public ones, with its path parameters filled in
    routes = authenticated_routes(stage.http._app)
    assert len(routes) > 30  # the walk sees the whole API
    refused: dict[tuple[str, str, str | None, str], tuple[int, dict[str, Any]]] = {}
    for path, method in routes:
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for key in WRONG_KEYS:
            for media, body in (
                ("application/json", b"{garbage"),
                ("application/json", b'{"points": "many", "name": 7}'),
                ("text/xml", b"<garbage/>"),  # a Content-Type Chalice refuses before any view
            ):
                headers = {"Content-Type": media, "Idempotency-Key": "k"}
                if key is not None:
                    headers["Authorization"] = key
                # When it is called without a valid key and with a body no route accepts
                answer = stage.http.http.request(
                    method, concrete + "?limit=x&cursor=zz&from=x&to=x", headers=headers, body=body
                )
                refused[(method, path, key, media)] = (answer.status_code, shape(answer))
    # Then every one is a 401 unauthorized in the one shape, never a 400 with field details
    wrong = {
        k: v
        for k, v in refused.items()
        if v[0] != 401 or v[1]["error"] != "unauthorized" or "details" in v[1]
    }
    assert sorted({(k[0], k[1], v[0]) for k, v in wrong.items()}) == []


def test_every_route_is_wrapped_by_the_api_guard(stage):
    # Given every route of the app, public ones and the catch-all included
    app = stage.http._app
    # When each view is looked at
    unguarded = [
        (path, method)
        for path, methods in app.routes.items()
        for method, entry in methods.items()
        if not getattr(entry.view_function, "patron_api", False)
    ]
    # Then every one goes through http.api (an exception is a 500 logged without personal data)
    assert unguarded == []


def test_a_failing_key_check_before_a_405_is_a_500_in_the_one_shape(stage, ws, monkeypatch):
    # Given the key store failing
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the table is gone")

    monkeypatch.setattr(stage.container.workspaces, "workspace_for_key", broken)
    # When a known path is called with a method it lacks (the key is checked first)
    answer = stage.http.http.put("/messaging/stats", headers=bearer(ws), body=b"{}")
    # Then it is a 500 internal_error in the one shape, not Chalice's
    assert answer.status_code == 500
    assert shape(answer) == {"error": "internal_error", "message": "an internal error occurred"}
