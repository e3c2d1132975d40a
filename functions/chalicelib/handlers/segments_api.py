"""Admin API for segments: definitions in the segment language, evaluation per customer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.container import container
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import api, json_response, model_body, query_limit
from chalicelib.handlers.openapi import operation

if TYPE_CHECKING:
    from chalicelib.domain.analytics_views import SegmentSizes

# Domain modules are imported in the handler that uses them: cold start (handlers/__init__.py).
bp = Blueprint(__name__)


@bp.route("/segments", methods=["POST"])
@operation(
    "Create a segment",
    "segments",
    {201: "chalicelib.domain.segment_service:SegmentView"},
    body="chalicelib.handlers.api_models:SegmentIn",
    errors=(400,),
)
@api
def create_segment() -> Response:
    from chalicelib.handlers.api_models import SegmentIn

    ws = workspace_id()
    body = model_body(SegmentIn, bp.current_request.raw_body, "segment")
    return json_response(container().segments.create(ws, body.name, body.definition), 201)


@bp.route("/segments", methods=["GET"])
@operation("The workspace's segments", "segments", {200: "chalicelib.handlers.api_models:SegmentList"})
@api
def list_segments() -> Any:
    from chalicelib.handlers.api_models import SegmentList

    return SegmentList(segments=container().segments.list(workspace_id()))


@bp.route("/segments/{segment_id}", methods=["GET"])
@operation(
    "A segment with its size and a sample",
    "segments",
    {200: "chalicelib.handlers.api_models:SegmentDetail"},
    errors=(404,),
)
@api
def get_segment(segment_id: str) -> Any:
    from chalicelib.domain.membership import segment_detail
    from chalicelib.handlers.api_models import SegmentDetail

    return SegmentDetail.model_validate(segment_detail(container().membership, workspace_id(), segment_id))


@bp.route("/segments/{segment_id}/members", methods=["GET"])
@operation(
    "A page of a segment's members",
    "segments",
    {200: "chalicelib.handlers.api_models:SegmentMembersPage"},
    query="chalicelib.handlers.api_models:PageQuery",
    errors=(400, 404),
)
@api
def get_segment_members(segment_id: str) -> Any:
    from chalicelib.domain.membership import segment_members
    from chalicelib.handlers.api_models import SegmentMembersPage

    ws = workspace_id()  # authentication before validation
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    limit = query_limit(params, 100, 1000)
    found = segment_members(container().membership, ws, segment_id, limit, params.get("cursor"))
    return SegmentMembersPage.model_validate(found)


@bp.route("/segments/{segment_id}/members.csv", methods=["GET"])
@operation(
    "A segment's members as CSV (the next page's cursor in X-Next-Cursor)",
    "segments",
    {200: None},
    query="chalicelib.handlers.api_models:PageQuery",
    errors=(400, 404),
    media="text/csv",
)
@api
def get_segment_members_csv(segment_id: str) -> Response:
    """The members as CSV, `?limit=` rows (1-5000, default 1000) from `?cursor=`; the next
    page's cursor in `X-Next-Cursor` (absent after the last), the header row on the first."""
    from chalicelib.domain.segment_csv import members_csv

    ws = workspace_id()
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    limit = query_limit(params, 1000, 5000)
    text, cursor = members_csv(container().membership, ws, segment_id, limit, params.get("cursor") or None)
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{_filename(segment_id)}.csv"',
    }
    if cursor is not None:
        headers["X-Next-Cursor"] = cursor
    return Response(body=text, status_code=200, headers=headers)


def _filename(segment_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in segment_id)[:100] or "segment"


@bp.route("/segments/{segment_id}/sizes", methods=["GET"])
@operation(
    "A segment's size on each day (default the 90 days to today, at most 400)",
    "segments",
    {200: "chalicelib.domain.analytics_views:SegmentSizes"},
    query="chalicelib.handlers.api_models:DateRangeQuery",
    errors=(400, 404),
)
@api
def get_segment_sizes(segment_id: str) -> SegmentSizes:
    """The segment's daily sizes, `?from=&to=` ISO days (default: the 90 days to today)."""
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.workspace_analytics import parse_date

    ws = workspace_id()  # authentication before validation
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    first, last = parse_date("from", params.get("from")), parse_date("to", params.get("to"))
    return container().segment_sizes.sizes(
        ws, segment_id, first.date() if first else None, last.date() if last else None, now_utc().date()
    )


@bp.route("/segments/{segment_id}", methods=["DELETE"])
@operation("Delete a segment", "segments", {204: None}, errors=(404,))
@api
def delete_segment(segment_id: str) -> Response:
    container().segments.delete(workspace_id(), segment_id)
    return Response(body="", status_code=204)


@bp.route("/customers/{customer_id}/segments", methods=["GET"])
@operation(
    "A customer's segments, evaluated now, with model scores",
    "segments",
    {200: "chalicelib.domain.segment_service:CustomerSegments"},
    errors=(404,),
)
@api
def customer_segments(customer_id: str) -> Any:
    return container().segments.for_customer(workspace_id(), customer_id)
