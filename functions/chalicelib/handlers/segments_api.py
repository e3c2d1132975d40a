"""Admin API for segments: definitions in the segment language, evaluation per customer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.container import container
from chalicelib.domain.errors import BadRequest
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import api, json_response, query_limit

if TYPE_CHECKING:
    from chalicelib.domain.analytics_views import SegmentSizes

# Domain modules are imported in the handler that uses them: cold start (handlers/__init__.py).
bp = Blueprint(__name__)


def _body() -> dict[str, Any]:
    body = bp.current_request.json_body
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object with name and definition")
    for key in ("name", "definition"):
        if not isinstance(body.get(key), str):
            raise BadRequest(f"{key} is required and must be a string", [{"field": key, "error": "missing"}])
    return body


@bp.route("/segments", methods=["POST"])
@api
def create_segment() -> Response:
    ws = workspace_id()
    body = _body()
    return json_response(container().segments.create(ws, body["name"], body["definition"]), 201)


@bp.route("/segments", methods=["GET"])
@api
def list_segments() -> dict[str, Any]:
    return {"segments": [s.model_dump() for s in container().segments.list(workspace_id())]}


@bp.route("/segments/{segment_id}", methods=["GET"])
@api
def get_segment(segment_id: str) -> Any:
    from chalicelib.domain.membership import segment_detail

    return segment_detail(container().membership, workspace_id(), segment_id)


@bp.route("/segments/{segment_id}/members", methods=["GET"])
@api
def get_segment_members(segment_id: str) -> Any:
    from chalicelib.domain.membership import segment_members

    params: dict[str, str] = dict(bp.current_request.query_params or {})
    limit = query_limit(params, 100, 1000)
    return segment_members(container().membership, workspace_id(), segment_id, limit, params.get("cursor"))


@bp.route("/segments/{segment_id}/sizes", methods=["GET"])
@api
def get_segment_sizes(segment_id: str) -> SegmentSizes:
    """The segment's daily sizes, `?from=&to=` ISO days (default: the 90 days to today)."""
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.workspace_analytics import parse_date

    params: dict[str, str] = dict(bp.current_request.query_params or {})
    first, last = parse_date("from", params.get("from")), parse_date("to", params.get("to"))
    ws = workspace_id()
    return container().segment_sizes.sizes(
        ws, segment_id, first.date() if first else None, last.date() if last else None, now_utc().date()
    )


@bp.route("/segments/{segment_id}", methods=["DELETE"])
@api
def delete_segment(segment_id: str) -> Response:
    container().segments.delete(workspace_id(), segment_id)
    return Response(body="", status_code=204)


@bp.route("/customers/{customer_id}/segments", methods=["GET"])
@api
def customer_segments(customer_id: str) -> Any:
    return container().segments.for_customer(workspace_id(), customer_id)
