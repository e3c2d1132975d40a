"""Admin API for segments: definitions in the segment language, evaluation per customer."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.container import container
from chalicelib.domain.errors import BadRequest
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import api, json_response, query_limit

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


@bp.route("/segments/{segment_id}/members.csv", methods=["GET"])
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


@bp.route("/segments/{segment_id}", methods=["DELETE"])
@api
def delete_segment(segment_id: str) -> Response:
    container().segments.delete(workspace_id(), segment_id)
    return Response(body="", status_code=204)


@bp.route("/customers/{customer_id}/segments", methods=["GET"])
@api
def customer_segments(customer_id: str) -> Any:
    return container().segments.for_customer(workspace_id(), customer_id)
