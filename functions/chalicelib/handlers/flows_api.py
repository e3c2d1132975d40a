"""Admin API for automated flows: apply a definition, list, show, dry-run, a customer's runs;
the coupons flows issued (`GET /coupons`)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.container import container
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.timemath import parse_iso
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import api, json_object, json_response, query_limit, required_text
from chalicelib.handlers.openapi import FREEFORM, operation

# Domain modules are imported in the handler that uses them: cold start (handlers/__init__.py).
bp = Blueprint(__name__)


def _json() -> dict[str, Any]:
    return json_object(bp)


@bp.route("/flows/{flow_id}", methods=["PUT"])
@operation(
    "Apply a flow definition (a new version when it changes)",
    "messaging",
    {200: "chalicelib.handlers.api_models:FlowApplied", 201: "chalicelib.handlers.api_models:FlowApplied"},
    body=FREEFORM,
    errors=(400,),
)
@api
def apply_flow(flow_id: str) -> Response:
    from chalicelib.handlers.api_models import FlowApplied

    ws = workspace_id()  # authentication before validation
    body = _json()
    if body.get("id", flow_id) != flow_id:
        raise BadRequest("the body's id differs from the path's", [{"field": "id", "error": "mismatch"}])
    view = container().flows.apply(ws, {**body, "id": flow_id})
    status = 201 if view["version"] == 1 and not view.get("unchanged") else 200
    return json_response(FlowApplied.model_validate(view), status)


@bp.route("/flows", methods=["GET"])
@operation("The workspace's flows", "messaging", {200: "chalicelib.handlers.api_models:FlowList"})
@api
def list_flows() -> Any:
    from chalicelib.handlers.api_models import FlowList

    return FlowList.model_validate({"flows": container().flows.all(workspace_id())})


@bp.route("/flows/{flow_id}", methods=["GET"])
@operation(
    "A flow and its results", "messaging", {200: "chalicelib.handlers.api_models:FlowDetail"}, errors=(404,)
)
@api
def get_flow(flow_id: str) -> Any:
    from chalicelib.handlers.api_models import FlowDetail

    return FlowDetail.model_validate(container().flows.get(workspace_id(), flow_id))


@bp.route("/flows/{flow_id}/dry-run", methods=["POST"])
@operation(
    "What a flow would do for a customer, writing nothing",
    "messaging",
    {200: "chalicelib.handlers.api_models:FlowDryRun"},
    body="chalicelib.handlers.api_models:FlowDryRunIn",
    errors=(400, 404),
)
@api
def dry_run(flow_id: str) -> Any:
    from chalicelib.domain.models import now_utc
    from chalicelib.handlers.api_models import FlowDryRun

    ws = workspace_id()  # authentication before validation
    body = _json()
    customer_id = required_text(body, "customer_id")
    try:
        at = parse_iso(body["at"]) if isinstance(body.get("at"), str) else now_utc()
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise BadRequest("at must be an ISO time with its offset", [{"field": "at", "error": "invalid"}])
    return FlowDryRun.model_validate(container().flows.dry_run(ws, flow_id, customer_id, at))


@bp.route("/customers/{customer_id}/flows", methods=["GET"])
@operation(
    "A customer's flow runs", "messaging", {200: "chalicelib.handlers.api_models:CustomerRuns"}, errors=(404,)
)
@api
def customer_runs(customer_id: str) -> Any:
    from chalicelib.handlers.api_models import CustomerRuns

    runs = container().flows.runs(workspace_id(), customer_id)
    return CustomerRuns.model_validate({"customer_id": customer_id, "runs": runs})


@bp.route("/coupons", methods=["GET"])
@operation(
    "The coupons flows issued",
    "messaging",
    {200: "chalicelib.handlers.api_models:CouponPage"},
    query="chalicelib.handlers.api_models:CouponQuery",
    errors=(400,),
)
@api
def list_coupons() -> Any:
    """Flows' coupons: `?status=issued|redeemed|expired&flow=&campaign=&limit=&cursor=`."""
    from chalicelib.domain.models import now_utc
    from chalicelib.handlers.api_models import CouponPage

    ws = workspace_id()  # authentication before validation
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    limit = query_limit(params, 100, 1000)
    found = container().coupon_queries.list(
        ws,
        now_utc(),
        status=params.get("status") or None,
        flow=params.get("flow") or None,
        campaign=params.get("campaign") or None,
        limit=limit,
        cursor=params.get("cursor") or None,
    )
    return CouponPage.model_validate(found)
