"""Admin API for the console's ops page: GET /ops/health (docs/analytics.md#ops-health)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.container import container
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import api
from chalicelib.handlers.openapi import operation

if TYPE_CHECKING:
    from chalicelib.domain.analytics_views import OpsHealth

bp = Blueprint(__name__)


@bp.route("/ops/health", methods=["GET"])
@operation(
    "Open quarantine entries, dead-letter queue depths, currencies without a rate",
    "analytics",
    {200: "chalicelib.domain.analytics_views:OpsHealth"},
)
@api
def health() -> OpsHealth:
    """Open quarantine entries, dead-letter queue depths, currencies without a rate."""
    return container().ops_health.health(workspace_id())
