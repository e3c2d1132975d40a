"""Issue 16: what API Gateway answers by itself (a known path with a method it does not have,
throttling, a body too large, its own failures) is the app's one error shape too, and never
echoes the caller's Authorization header back."""

from __future__ import annotations

import json

import pytest

from chalicelib.handlers.http import ErrorBody
from patron.deploy import build

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api_body(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("prod-euw1")
    build("prod-euw1", out, analytics_layer=False)
    template = json.loads((out / "sam.json").read_text())
    return template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]


def test_the_gateways_own_refusals_are_in_the_one_error_shape(api_body):
    # Given the regional template's API definition (Chalice's swagger with infra/wiring.json)
    responses = api_body["x-amazon-apigateway-gateway-responses"]
    # When each gateway response's body is read
    bodies = {kind: json.loads(r["responseTemplates"]["application/json"]) for kind, r in responses.items()}
    # Then every one is an ErrorBody with no template variable (nothing of the request is echoed)
    for body in bodies.values():
        ErrorBody.model_validate(body)
    assert not [kind for kind, r in responses.items() if "$" in json.dumps(r)]
    # and a known path with another method is a 405, whatever API Gateway calls it
    assert bodies["MISSING_AUTHENTICATION_TOKEN"]["error"] == "method_not_allowed"
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "405"
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED", "INVALID_SIGNATURE"} <= set(responses)


def test_every_unknown_path_reaches_the_apps_catch_all(api_body):
    # Given the API definition
    paths = api_body["paths"]
    # When the catch-all resources are looked up
    # Then the root and the greedy {proxy+} take every method, proxied to the app (its 404)
    for path in ("/", "/{proxy+}"):
        assert {"get", "post", "put", "patch", "delete", "head", "options"} <= set(paths[path])
        assert paths[path]["get"]["x-amazon-apigateway-integration"]["type"] == "aws_proxy"
