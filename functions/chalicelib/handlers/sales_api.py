"""Admin API: the sales pipeline (docs/sales.md; docs/data-model.md, "Sales pipeline")."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.container import container
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import api, json_response, key_actor, logger, model_body, model_query
from chalicelib.handlers.openapi import operation

bp = Blueprint(__name__)
VIEWS = "chalicelib.domain.sales.views"
SETTINGS = "chalicelib.domain.sales.settings"


def _actor() -> str:
    return key_actor(bp.current_request.headers.get("authorization"))


def _params() -> dict[str, str]:
    return dict(bp.current_request.query_params or {})


@bp.route("/pipeline", methods=["GET"])
@operation(
    "The pipeline: per stage count, value and weighted forecast; per owner won vs target",
    "sales",
    {200: f"{VIEWS}:PipelineView"},
    query=f"{VIEWS}:PipelineQuery",
    errors=(400,),
)
@api
def pipeline() -> Any:
    """`?period=YYYY-MM|YYYY-Qn` (default: this month, UTC)."""
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.sales.views import PipelineQuery

    query = model_query(PipelineQuery, _params(), "pipeline query")
    return container().sales.pipeline(workspace_id(), query.period, now_utc())


@bp.route("/pipeline/stages", methods=["GET"])
@operation("The pipeline's ordered stages and stale rule", "sales", {200: f"{VIEWS}:StagesView"})
@api
def get_stages() -> Any:
    return container().sales.stages(workspace_id())


@bp.route("/pipeline/stages", methods=["PUT"])
@operation(
    "Replace the stages and the stale rule",
    "sales",
    {200: f"{VIEWS}:StagesView"},
    body=f"{SETTINGS}:StagesIn",
    errors=(400, 409),
)
@api
def put_stages() -> Any:
    from chalicelib.domain.sales.settings import StagesIn

    ws = workspace_id()
    body = model_body(StagesIn, bp.current_request.raw_body, "stages")
    return container().sales.put_stages(ws, body)


@bp.route("/pipeline/targets", methods=["GET"])
@operation("The targets per owner and period", "sales", {200: f"{VIEWS}:TargetsView"})
@api
def get_targets() -> Any:
    return container().sales.targets(workspace_id())


@bp.route("/pipeline/targets", methods=["PUT"])
@operation(
    "Replace the targets per owner and period",
    "sales",
    {200: f"{VIEWS}:TargetsView"},
    body=f"{SETTINGS}:TargetsIn",
    errors=(400, 409),
)
@api
def put_targets() -> Any:
    from chalicelib.domain.sales.settings import TargetsIn

    ws = workspace_id()
    body = model_body(TargetsIn, bp.current_request.raw_body, "targets")
    return container().sales.put_targets(ws, body)


@bp.route("/pipeline/rules", methods=["GET"])
@operation("The rules that open opportunities", "sales", {200: f"{VIEWS}:RulesView"})
@api
def get_rules() -> Any:
    return container().sales.rules(workspace_id())


@bp.route("/pipeline/rules", methods=["PUT"])
@operation(
    "Replace the rules that open opportunities (abandoned checkouts, segment entries)",
    "sales",
    {200: f"{VIEWS}:RulesView"},
    body=f"{SETTINGS}:RulesIn",
    errors=(400, 409),
)
@api
def put_rules() -> Any:
    from chalicelib.domain.sales.settings import RulesIn

    ws = workspace_id()
    body = model_body(RulesIn, bp.current_request.raw_body, "rules")
    return container().sales.put_rules(ws, body)


@bp.route("/opportunities", methods=["POST"])
@operation(
    "Open an opportunity for a customer (by id, email or phone)",
    "sales",
    {201: f"{VIEWS}:OpportunityDetail"},
    body=f"{VIEWS}:OpportunityIn",
    errors=(400, 404, 409),
)
@api
def create_opportunity() -> Any:
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.sales.views import OpportunityIn

    ws = workspace_id()
    body = model_body(OpportunityIn, bp.current_request.raw_body, "opportunity")
    if body.customer_id:
        logger.append_keys(customer_id=body.customer_id)
    return json_response(container().sales.create(ws, body, _actor(), now_utc()), 201)


@bp.route("/opportunities", methods=["GET"])
@operation(
    "The opportunities, newest first, by stage, owner and staleness",
    "sales",
    {200: f"{VIEWS}:OpportunityList"},
    query=f"{VIEWS}:OpportunityQuery",
    errors=(400,),
)
@api
def list_opportunities() -> Any:
    """`?stage=&owner=&stale=true`"""
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.sales.views import OpportunityQuery

    ws = workspace_id()
    query = model_query(OpportunityQuery, _params(), "opportunity query")
    stale = None if query.stale is None else query.stale == "true"
    return container().sales.listing(ws, now_utc(), query.stage, query.owner, stale)


@bp.route("/opportunities/{opportunity_id}", methods=["GET"])
@operation("An opportunity with its events", "sales", {200: f"{VIEWS}:OpportunityDetail"}, errors=(404,))
@api
def show_opportunity(opportunity_id: str) -> Any:
    from chalicelib.domain.models import now_utc

    return container().sales.show(workspace_id(), opportunity_id, now_utc())


@bp.route("/opportunities/{opportunity_id}", methods=["PATCH"])
@operation(
    "Change an opportunity: stage, owner, value, expected close, a note (one event each)",
    "sales",
    {200: f"{VIEWS}:OpportunityDetail"},
    body=f"{VIEWS}:OpportunityPatch",
    errors=(400, 404, 409),
)
@api
def patch_opportunity(opportunity_id: str) -> Any:
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.sales.views import OpportunityPatch

    ws = workspace_id()
    body = model_body(OpportunityPatch, bp.current_request.raw_body, "opportunity change")
    return container().sales.update(ws, opportunity_id, body, _actor(), now_utc())


@bp.route("/tickets/{ticket_id}/opportunity", methods=["POST"])
@operation(
    "Open the opportunity of a pre-sale ticket (once: a repeat answers the same one)",
    "sales",
    {201: f"{VIEWS}:OpportunityDetail"},
    body=f"{VIEWS}:FromTicketIn",
    errors=(400, 404, 409),
)
@api
def ticket_opportunity(ticket_id: str) -> Any:
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.sales.views import FromTicketIn

    ws = workspace_id()
    body = model_body(FromTicketIn, bp.current_request.raw_body or b"{}", "opportunity")
    return json_response(container().sales.from_ticket(ws, ticket_id, body, _actor(), now_utc()), 201)
