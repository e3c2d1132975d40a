"""Recommendations on the stage (moto) through the Admin API and the CLI: a customer's ranked,
filtered, named products, a product's related and complementary ones, and the placements'
versioned settings (docs/recommendations.md, "API"). The model is saved through the
container's store (the training job's part), the catalogue and the orders come by webhook."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from chalicelib.domain.recommend.model import Link, Popular, ProductSignals, RecommenderModel
from patron.cli import main
from patron.harness import Harness, Workspace
from tests.conftest import event_bytes
from tests.integration.test_sla_api import put

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # a week after the order fixture
TEE, POUR, BEANS = "8012345678901", "8012345679011", "8012345679122"  # the Shopify order's products
HOODIE, SOCKS, CAP, MUG, GONE = "9001", "9002", "9003", "9004", "9005"


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def product(stage: Harness, ws: Workspace, pid: str, title: str, **change: Any) -> None:
    """The store sends a product (the create fixture, another id, title and state)."""
    body = json.loads(event_bytes("shopify/products_create.json"))
    body |= {"id": int(pid), "title": title, "handle": title.lower().replace(" ", "-")}
    for v in body["variants"]:
        v["product_id"] = int(pid)
        v["id"] = int(pid) * 10 + body["variants"].index(v)
    body |= change
    response = stage.send(ws, "shopify", "products/create", json.dumps(body).encode())
    assert response.status_code == 200, response.body


def model() -> RecommenderModel:
    """The tee leads to the hoodie a month later, goes with socks, and its buyers buy the cap."""
    tee = ProductSignals(
        TEE,
        buyers=50,
        category="T-Shirts",
        together=(Link(SOCKS, 0.5, 20), Link(GONE, 0.4, 10)),
        next=(Link(HOODIE, 0.8, 30, gap_days=30),),
        similar=(Link(CAP, 0.4, 12),),
    )
    return RecommenderModel(
        trained_at=NOW - timedelta(hours=2),
        orders=400,
        customers=300,
        window_days=30,
        products={TEE: tee},
        popular=(Popular(MUG, 5.0, "Kitchen"),),
    )


@pytest.fixture
def shop(stage: Harness, ws: Workspace) -> dict[str, str]:
    """Jane's order (the tee, the pour-over set, the beans), the catalogue and a trained model."""
    response = stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    assert response.status_code == 200, response.body
    stage.drain()
    product(stage, ws, TEE, "Organic Cotton Tee")
    product(stage, ws, HOODIE, "Zip Hoodie")
    product(stage, ws, SOCKS, "Wool Socks", status="draft")
    product(stage, ws, CAP, "Canvas Cap")
    product(stage, ws, MUG, "Stoneware Mug")
    product(stage, ws, GONE, "Old Scarf")
    assert stage.send(ws, "shopify", "products/delete", {"id": int(GONE)}).status_code == 200
    stage.container.recommender_models.save(ws.workspace_id, model())
    found = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    return {"cid": found[0]["customer_id"], "source": ws.sources["shopify"]["source_id"]}


def answer(stage: Harness, ws: Workspace, path: str) -> tuple[int, Any]:
    got = stage.get(ws, path)
    return got.status_code, json.loads(got.body)


def test_a_customer_gets_named_products_with_reasons_filtered_for_the_placement(stage, ws, shop):
    # When Jane's recommendations are asked for the web placement
    status, shown = answer(stage, ws, f"/customers/{shop['cid']}/recommendations?placement=web")
    # Then the hoodie (bought next), the cap (similar) and the mug (popular);
    # never the socks (a draft) nor the scarf (deleted)
    assert status == 200, shown
    assert (shown["customer_id"], shown["placement"], shown["trained_at"]) == (
        shop["cid"],
        "web",
        "2026-11-27T10:00:00.000000Z",
    )
    assert [(i["product_id"], i["reason"]["kind"]) for i in shown["items"]] == [
        (HOODIE, "bought_next"),
        (CAP, "similar"),
        (MUG, "popular"),
    ]
    hoodie = shown["items"][0]
    assert hoodie == {
        "product_id": HOODIE,
        "source_id": shop["source"],
        "title": "Zip Hoodie",
        "url": "https://demo-store.myshopify.com/products/zip-hoodie",
        "image": hoodie["image"],
        "price": "28.00",
        "currency": "USD",
        "score": hoodie["score"],
        "reason": {
            "kind": "bought_next",
            "product_id": TEE,
            "days": 30,
            "category": None,
            "text": "usually bought 30 days after Organic Cotton Tee",
        },
    }
    assert 0 < hoodie["score"] <= 1
    # And the sms placement shows one product, a limit asked shows that many
    assert [
        i["product_id"]
        for i in answer(stage, ws, f"/customers/{shop['cid']}/recommendations?placement=sms")[1]["items"]
    ] == [HOODIE]
    assert len(answer(stage, ws, f"/customers/{shop['cid']}/recommendations?limit=2")[1]["items"]) == 2


def test_bad_requests_are_answered_in_the_one_error_shape(stage, ws, shop):
    cid = shop["cid"]
    unknown = answer(stage, ws, f"/customers/{cid}/recommendations?placement=push")
    assert (unknown[0], unknown[1]["error"]) == (400, "bad_request")
    assert "unknown placement 'push': one of email, sms, web" in unknown[1]["message"]
    for bad in ("limit=0", "limit=51", "limit=many"):
        status, body = answer(stage, ws, f"/customers/{cid}/recommendations?{bad}")
        assert (status, body["error"], body["details"][0]["field"]) == (400, "bad_request", "limit"), bad
    assert answer(stage, ws, "/customers/nobody/recommendations")[0] == 404
    refused = stage.http.http.get(f"/customers/{cid}/recommendations")  # no key
    assert (refused.status_code, json.loads(refused.body)["error"]) == (401, "unauthorized")


def test_a_products_related_and_complementary_lists_are_kept_apart(stage, ws, shop):
    # When the tee's related products are asked
    status, shown = answer(stage, ws, f"/products/{shop['source']}.{TEE}/related")
    # Then the cap is related (bought by the same customers); of the complementary,
    # the socks (a draft) and the scarf (deleted) are filtered, the hoodie stays
    assert status == 200, shown
    assert (shown["product_id"], shown["source_id"]) == (TEE, shop["source"])
    assert [(i["product_id"], i["reason"]["text"]) for i in shown["related"]] == [
        (CAP, "customers who bought Organic Cotton Tee also bought it")
    ]
    assert [(i["product_id"], i["reason"]["kind"]) for i in shown["complementary"]] == [
        (HOODIE, "bought_next")
    ]
    # And an unknown product is 404, a bad limit 400
    assert answer(stage, ws, f"/products/{shop['source']}.1/related")[0] == 404
    assert answer(stage, ws, f"/products/{shop['source']}.{TEE}/related?limit=99")[0] == 400


def test_placements_are_versioned_and_their_rules_apply_at_once(stage, ws, shop):
    # Given the defaults at version 0
    got = stage.get(ws, "/recommendations/settings")
    shown = json.loads(got.body)
    assert (got.status_code, got.headers["ETag"], shown["default"]) == (200, '"0"', True)
    assert {n: p["limit"] for n, p in shown["placements"].items()} == {"email": 4, "sms": 1, "web": 8}
    # When written without If-Match, with a bad name, then at version 0 twice
    body = {"placements": {"web": {"exclude_categories": ["Kitchen"], "limit": 8}, "home": {"limit": 2}}}
    missing = put(stage, ws, "/recommendations/settings", body, None)
    bad = put(stage, ws, "/recommendations/settings", {"placements": {"Bad Name": {}}}, '"0"')
    status, written, headers = put(stage, ws, "/recommendations/settings", body, '"0"')
    stale = put(stage, ws, "/recommendations/settings", body, '"0"')
    # Then 400, 400, version 1 (the ETag) and 409 stale_version
    assert (missing[0], bad[0]) == (400, 400)
    assert (status, written["version"], headers["ETag"], sorted(written["placements"])) == (
        200,
        1,
        '"1"',
        ["email", "home", "sms", "web"],
    )
    assert (stale[0], stale[1]["details"]) == (409, {"reason": "stale_version"})
    # And the web placement now leaves the mug out (the catalogue has no category: the model's Kitchen)
    items = answer(stage, ws, f"/customers/{shop['cid']}/recommendations?placement=web")[1]["items"]
    assert [i["product_id"] for i in items] == [HOODIE, CAP]
    assert len(answer(stage, ws, f"/customers/{shop['cid']}/recommendations?placement=home")[1]["items"]) == 2


def test_the_cli_shows_a_customers_and_a_products_recommendations(stage, ws, shop, cli_on, capsys, tmp_path):
    wid = ws.workspace_id
    assert main(["recommend", "customer", "-w", wid, shop["cid"], "--placement", "email", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [i["product_id"] for i in shown["items"]] == [HOODIE, CAP, MUG]
    assert main(["recommend", "product", "-w", wid, f"{shop['source']}.{TEE}", "--json"]) == 0
    assert [i["product_id"] for i in json.loads(capsys.readouterr().out)["related"]] == [CAP]
    assert main(["recommend", "customer", "-w", wid, shop["cid"]]) == 0
    assert "Zip Hoodie" in capsys.readouterr().out
    settings = tmp_path / "placements.json"
    settings.write_text(json.dumps({"placements": {"email": {"limit": 2}}}))
    assert main(["recommend", "settings", "set", "-w", wid, str(settings), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 1
    assert main(["recommend", "settings", "get", "-w", wid, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["placements"]["email"]["limit"] == 2


def test_a_warm_request_costs_a_handful_of_reads_and_no_write(stage, ws, shop):
    # Given a first request (the popular list, the summary and the source ids kept a minute)
    path = f"/customers/{shop['cid']}/recommendations?placement=email"
    assert stage.get(ws, path).status_code == 200
    calls: list[str] = []
    client = stage.container.client("dynamodb")
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    try:
        # When the same customer's recommendations are asked again
        again = stage.get(ws, path)
    finally:
        client.meta.events.unregister("before-call.dynamodb.*")
    # Then the key, the request limit, the profile, the placements, one model slice and one catalogue read
    assert again.status_code == 200
    assert sorted(calls) == sorted(
        ["GetItem", "UpdateItem", "GetItem", "GetItem", "BatchGetItem", "BatchGetItem"]
    ), calls
