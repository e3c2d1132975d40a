"""Admin API for messaging results: each campaign's and flow's statistics, rates derived."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.container import container
from chalicelib.domain.errors import BadRequest
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import api
from chalicelib.handlers.openapi import operation

bp = Blueprint(__name__)
MAX_SCOPE = 200


@bp.route("/messaging/stats", methods=["GET"])
@operation(
    "Each campaign's and flow's statistics",
    "messaging",
    {200: "chalicelib.domain.messaging.performance:StatsReport"},
    query="chalicelib.handlers.api_models:ScopeQuery",
    errors=(400, 404),
)
@api
def messaging_stats() -> Any:
    """All scopes of the workspace (`camp#<id>`, `flow#<id>`, and `...#v#<variant>`), or
    `?scope=` for one."""
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    scope = params.get("scope") or None
    if scope is not None and len(scope) > MAX_SCOPE:
        raise BadRequest("query parameter 'scope' is too long", [{"field": "scope", "error": "too long"}])
    return container().messaging_stats.report(workspace_id(), scope)
