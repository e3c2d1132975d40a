"""Admin API for analytics: GET /analytics/report?from=&to= (ISO dates, UTC by default), and
GET /analytics/loyalty?from=&to= (the report's loyalty section alone)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.container import container
from chalicelib.domain.workspace_analytics import parse_date
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import api
from chalicelib.handlers.openapi import operation

bp = Blueprint(__name__)


@bp.route("/analytics/report", methods=["GET"])
@operation(
    "The workspace report",
    "analytics",
    {200: "chalicelib.handlers.api_models:WorkspaceReport"},
    query="chalicelib.handlers.api_models:DateRangeQuery",
    errors=(400,),
)
@api
def report() -> Any:
    from chalicelib.handlers.api_models import WorkspaceReport

    workspace = workspace_id()  # the key first: an unauthenticated caller learns nothing of the query
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    start = parse_date("from", params.get("from"))
    end = parse_date("to", params.get("to"))
    return WorkspaceReport.model_validate(container().analytics.report(workspace, start, end))


@bp.route("/analytics/loyalty", methods=["GET"])
@operation(
    "The points liability and members by tier",
    "analytics",
    {200: "chalicelib.handlers.loyalty_models:LoyaltySection"},
    query="chalicelib.handlers.api_models:DateRangeQuery",
    errors=(400, 409),
)
@api
def loyalty() -> Any:
    """The points liability and members by tier (docs/analytics.md#loyalty); 409 while off."""
    workspace = workspace_id()  # the key first: an unauthenticated caller learns nothing of the query
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    start = parse_date("from", params.get("from"))
    end = parse_date("to", params.get("to"))
    from chalicelib.handlers.loyalty_models import LoyaltySection

    return LoyaltySection.model_validate(container().analytics.liability(workspace, start, end))
