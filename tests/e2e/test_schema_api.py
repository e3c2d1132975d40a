"""The API against its own OpenAPI document, over HTTP on the local stack (schemathesis).

One small demo store (`patron demo --customers 40 --seed 3 --keep-running`) serves the whole
module. Its real ids (a customer with orders, a segment, a campaign, a flow, a template, an
order, a product) fill the path parameters, so the generated requests reach real resources
rather than only 404s; what a case destroys (an erasure, a revoked or rotated key, a deleted
segment) gets throwaway ids made for it. Each operation gets a bounded number of generated
examples (`EXAMPLES`, derandomized: the same cases every run) and every answer must be:
no 5xx, a status the operation documents, a body matching that status's schema and content
type. Then the same operations without a key (and with made-up bearer keys): every
non-public one answers 401 only. docs/api.md says what this checks and what it does not.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from patron import http
from tests.e2e.demo_process import Demo

pytestmark = pytest.mark.e2e
EXAMPLES = 6  # generated cases per operation, on top of the document's own examples
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# The module's hypothesis settings: fixed cases, no example database, no wall-clock deadline.
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failing case is reported
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def stack(shared_demo: Demo) -> dict[str, Any]:
    """The session's demo store (tests/e2e/conftest.py, its request limit raised: hundreds of
    generated calls a minute would otherwise meet the 429 that guards it), with its ids."""

    def cli(*args: str) -> Any:
        return json.loads(shared_demo.cli(*args))

    signed_in = cli("console", "--json")
    url, key = shared_demo.url, signed_in["api_key"]
    ids = seeded_ids(url, key)
    ids["product_id"] = catalogued(cli, url, key, signed_in["workspace_id"], ids.pop("bought"))
    return {"url": url, "key": key, "ids": ids}


def _get(url: str, key: str, path: str) -> Any:
    status, body = http.get(f"{url}{path}", key)
    assert status == 200, (path, status, body)
    return body


def _post(url: str, key: str, path: str, body: dict[str, Any], expected: int) -> Any:
    status, answer = http.post(
        f"{url}{path}",
        json.dumps(body).encode(),
        {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert status == expected, (path, status, answer)
    return answer


def seeded_ids(url: str, key: str) -> dict[str, Any]:
    """Real ids of the demo store, read through the API, and throwaway ones for what a
    generated case may destroy."""
    customers = _get(url, key, "/customers?limit=50")["customers"]
    buyers = sorted((c for c in customers if c["products"]), key=lambda c: -c["orders_count"])
    buyer = _get(url, key, f"/customers/{buyers[0]['customer_id']}")
    order = next(e["order_id"] for e in buyer["timeline"] if e.get("order_id"))
    segments = _get(url, key, "/segments")["segments"]
    campaign = _get(url, key, "/campaigns")["campaigns"][0]
    flow = _get(url, key, "/flows")["flows"][0]
    template = _get(url, key, "/templates")["templates"][0]
    export = _post(url, key, f"/customers/{buyer['customer_id']}/export", {}, 202)
    spare_key = _post(url, key, "/workspace/keys", {"name": "schemathesis spare"}, 201)
    spare_segment = _post(
        url, key, "/segments", {"name": "schemathesis spare", "definition": "orders_count >= 1"}, 201
    )
    return {
        "customer_id": buyer["customer_id"],
        "order_id": order,
        "bought": {  # for the catalogue's one product (catalogued)
            "sources": sorted({src for c in buyers for src in c["sources"]}),
            "products": sorted({pid for c in buyers for pid in c["products"]}),
        },
        "segment_id": segments[0]["segment_id"],
        "campaign_id": campaign["campaign_id"],
        "flow_id": flow["flow_id"],
        "template_id": template["template_id"],
        "request_id": export["request_id"],
        # what an erasure, a revocation, a rotation and a deletion may destroy
        "erased_customer_id": buyers[-1]["customer_id"],
        "spare_key_id": spare_key["key"]["key_id"],
        "spare_segment_id": spare_segment["segment_id"],
    }


def catalogued(
    cli: Callable[..., Any], url: str, key: str, workspace: str, bought: dict[str, list[str]]
) -> str:
    """A product the store's customers bought, in the catalogue under its Shopify source:
    SOURCE.PRODUCT. The demo's shop sends its books (the recommendations phase); any other
    product is put in the catalogue as a store's bulk export would (`patron import products`)."""
    source = next(
        s for s in bought["sources"] if cli("source", "show", "-w", workspace, s)["platform"] == "shopify"
    )
    product = next(p for p in bought["products"] if p.isdigit())  # Shopify's ids are numbers
    if http.get(f"{url}/products/{source}.{product}", key)[0] == 200:
        return f"{source}.{product}"
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as file:
        node = {"id": f"gid://shopify/Product/{product}", "title": "Demo product", "handle": "demo-product"}
        file.write(json.dumps({**node, "status": "ACTIVE", "updatedAt": "2026-11-20T10:00:00Z"}) + "\n")
    imported = cli(
        "import", "products", file.name, "--format", "shopify-bulk-jsonl", "-w", workspace, "--source", source
    )
    os.unlink(file.name)
    assert imported["stored"] == 1, imported
    return f"{source}.{product}"


READS = [  # one read per seeded id
    "/customers/{customer_id}",
    "/orders/{order_id}",
    "/products/{product_id}",
    "/segments/{segment_id}",
    "/campaigns/{campaign_id}",
    "/flows/{flow_id}",
    "/templates/{template_id}",
    "/exports/{request_id}",
]
SPARE = {  # what an erasure, a revocation, a rotation and a deletion destroy: throwaway ids
    ("DELETE", "/customers/{customer_id}"): {"customer_id": "erased_customer_id"},
    ("DELETE", "/workspace/keys/{key_id}"): {"key_id": "spare_key_id"},
    ("POST", "/workspace/keys/{key_id}/rotate"): {"key_id": "spare_key_id"},
    ("DELETE", "/segments/{segment_id}"): {"segment_id": "spare_segment_id"},
}


def path_ids(operation: Any, ids: dict[str, str]) -> dict[str, str]:
    """The operation's path parameters filled with the store's ids (a token stays generated)."""
    names = re.findall(r"{(\w+)}", operation.path)
    spare = SPARE.get((operation.method.upper(), operation.path), {})
    return {name: ids[spare.get(name, name)] for name in names if spare.get(name, name) in ids}


def operations(stack: dict[str, Any]) -> list[Any]:
    document = _get(stack["url"], stack["key"], "/openapi.json")
    config = schemathesis.Config.from_dict({"base-url": stack["url"]})
    schema = schemathesis.openapi.from_dict(document, config=config)
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) == sum(len(methods) for methods in document["paths"].values())
    return found


def run_each(stack: dict[str, Any], check: Callable[[Any], None], modes: list[GenerationMode]) -> list[str]:
    """`check` on EXAMPLES generated cases of every operation in each mode (valid data, then
    data that breaks the document); what failed, one line each."""
    failed = []
    for mode in modes:
        for operation in operations(stack):
            strategy = operation.as_strategy(mode, path_parameters=path_ids(operation, stack["ids"]))

            @HYPOTHESIS
            @given(case=strategy)
            def run(case: Any) -> None:
                check(case)

            try:
                run()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to break: no parameter, no body
            except Exception as exc:  # noqa: BLE001 - every operation is run; the failures are listed
                failed.append(f"{mode.value} {operation.method.upper()} {operation.path}: {exc}"[:1500])
    return failed


def test_every_operation_answers_as_documented(stack):
    # Given the demo store, its key, and requests generated from each operation's document
    headers = {"Authorization": f"Bearer {stack['key']}"}

    answered: dict[str, set[int]] = {}

    # When each is sent to the local stack
    def documented(case: Any) -> None:
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        answered.setdefault(f"{case.method.upper()} {case.operation.path}", set()).add(response.status_code)

    failed = run_each(stack, documented, [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    # Then no answer is a 5xx, and its status, content type, headers and body are documented
    assert not failed, "\n".join(failed)
    # And the seeded ids reached real resources: each one's read answered 200 at least once
    reads = [f"GET {path}" for path in READS]
    assert [read for read in reads if 200 not in answered.get(read, set())] == [], answered


def test_without_a_key_every_operation_but_the_public_ones_answers_401(stack):
    # Given requests generated from each operation's document, with a made-up bearer key
    # (schemathesis fills the security scheme) and then with no Authorization header at all
    def refused(case: Any) -> None:
        public = case.operation.definition.raw.get("security") == []
        answers = [case.call()]
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        # When each is sent to the local stack
        answers.append(case.call())
        # Then a non-public operation refuses both with the one error shape's 401, whatever
        # the request holds (the key is checked before its parameters and body)
        for response in answers:
            if public:
                assert response.status_code < 500, response.text
            else:
                assert response.status_code == 401, (response.status_code, response.text[:200])
                assert response.json()["error"] == "unauthorized"

    failed = run_each(stack, refused, [GenerationMode.POSITIVE])
    assert not failed, "\n".join(failed)
