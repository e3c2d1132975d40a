"""Admin API: a customer's points (balance and ledger, docs/loyalty.md)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.container import container
from chalicelib.domain.errors import BadRequest
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import api, logger

bp = Blueprint(__name__)
MAX_CURSOR = 600


@bp.route("/customers/{customer_id}/points", methods=["GET"])
@api
def get_points(customer_id: str) -> dict[str, Any]:
    """`?limit=50&cursor=`: available, pending, debt, the ledger's sum and a page of entries."""
    from chalicelib.domain.loyalty.ledger import page_json
    from chalicelib.domain.models import now_utc

    ws = workspace_id()
    logger.append_keys(customer_id=customer_id)
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    try:
        limit = max(1, min(int(params.get("limit", "50")), 200))
    except ValueError as exc:
        raise BadRequest("limit must be a number", [{"field": "limit", "error": "not a number"}]) from exc
    cursor = params.get("cursor") or None
    if cursor is not None and (len(cursor) > MAX_CURSOR or not cursor.startswith("E#")):
        raise BadRequest("cursor is not one this API gave", [{"field": "cursor", "error": "invalid"}])
    page = container().points.page(ws, customer_id, now_utc().date(), limit=limit, cursor=cursor)
    return page_json(page)
