"""Admin API: the service desk's SLA settings (business calendar, ordered policies) and the
SLA report (docs/service.md, "SLA operations"; docs/data-model.md)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.container import container
from chalicelib.domain.errors import BadRequest
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import api, json_response, key_actor, model_body, model_query
from chalicelib.handlers.openapi import operation

bp = Blueprint(__name__)
SETTINGS = "chalicelib.domain.service.sla_settings"
VIEWS = "chalicelib.domain.service.sla_views"


def _with_etag(shown: Any) -> Response:
    response = json_response(shown)
    response.headers["ETag"] = f'"{shown.version}"'
    return response


@bp.route("/service/sla", methods=["GET"])
@operation(
    "The business calendar and the ordered SLA policies (the default until written); the version is the ETag",
    "service",
    {200: f"{SETTINGS}:SlaSettingsOut"},
)
@api
def get_sla() -> Response:
    return _with_etag(container().sla_settings.current(workspace_id()))


@bp.route("/service/sla", methods=["PUT"])
@operation(
    "Replace the business calendar and the SLA policies at a version (If-Match; 409 `stale_version`)",
    "service",
    {200: f"{SETTINGS}:SlaSettingsOut"},
    body=f"{SETTINGS}:SlaSettingsIn",
    errors=(400, 409),
    headers=("If-Match",),
)
@api
def put_sla() -> Response:
    """`{"calendar", "policies": [...], "near_breach_share"}` if `If-Match` is still the
    version (`"0"` before the first write)."""
    from chalicelib.domain.service.sla_settings import SlaSettingsIn

    ws = workspace_id()
    request = bp.current_request
    match = (request.headers.get("if-match") or "").strip().removeprefix("W/").strip('"')
    if not match.isdigit():
        raise BadRequest(
            "If-Match is required: the version (ETag) of GET /service/sla",
            [{"field": "If-Match", "error": "missing"}],
        )
    body = model_body(SlaSettingsIn, request.raw_body, "SLA settings")
    actor = key_actor(request.headers.get("authorization"))
    return _with_etag(container().sla_settings.replace(ws, body, int(match), actor))


@bp.route("/service/reports/sla", methods=["GET"])
@operation(
    "The share of SLA targets met per policy and target, for the tickets created in a period",
    "service",
    {200: f"{VIEWS}:SlaReport"},
    query=f"{VIEWS}:SlaReportQuery",
    errors=(400,),
)
@api
def sla_report() -> Any:
    """`?from=YYYY-MM-DD&to=YYYY-MM-DD` (local dates in the calendar's zone, both included)."""
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.service.sla_ops import local_day
    from chalicelib.domain.service.sla_views import SlaReportQuery

    ws = workspace_id()
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    query = model_query(SlaReportQuery, params, "report query")
    first, last = local_day(query.from_, "from"), local_day(query.to, "to")
    return container().sla.report(ws, first, last, now_utc())
