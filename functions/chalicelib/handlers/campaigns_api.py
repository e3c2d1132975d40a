"""Admin API for campaigns: create, start, pause, resume, cancel, and progress."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.container import container
from chalicelib.domain.errors import BadRequest
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import api, json_response, query_cursor, query_limit
from chalicelib.handlers.openapi import operation

# Domain modules are imported in the handler that uses them: cold start (handlers/__init__.py).
bp = Blueprint(__name__)
ACTIONS = ("start", "pause", "resume", "cancel")


@bp.route("/campaigns", methods=["POST"])
@operation(
    "Create a campaign to a segment",
    "campaigns",
    {201: "chalicelib.handlers.api_models:CampaignProgress"},
    body="chalicelib.domain.messaging.campaign_model:CampaignIn",
    errors=(400, 404, 409),
)
@api
def create_campaign() -> Response:
    from chalicelib.domain.messaging.campaign_model import CampaignIn
    from chalicelib.handlers.api_models import CampaignProgress
    from chalicelib.parsers import field_errors

    ws = workspace_id()
    body = bp.current_request.json_body
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object")
    try:
        campaign = CampaignIn.model_validate(body)
    except ValidationError as exc:
        raise BadRequest("invalid campaign", field_errors(exc)) from exc
    return json_response(CampaignProgress.model_validate(container().campaigns.create(ws, campaign)), 201)


@bp.route("/campaigns", methods=["GET"])
@operation(
    "The campaigns with their state and statistics",
    "campaigns",
    {200: "chalicelib.domain.messaging.campaign_list:CampaignPage"},
    query="chalicelib.handlers.api_models:PageQuery",
    errors=(400,),
)
@api
def list_campaigns() -> Any:
    """The campaigns with their state and statistics, by id: `?limit=` (1-100, default 50)
    and `?cursor=` (the `next_cursor` of the page before)."""
    ws = workspace_id()
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    limit, cursor = query_limit(params, 50, 100), query_cursor(params, "cmp", 40)
    return container().campaign_list.page(ws, limit, cursor)


@bp.route("/campaigns/{campaign_id}", methods=["GET"])
@operation(
    "A campaign and its progress",
    "campaigns",
    {200: "chalicelib.handlers.api_models:CampaignProgress"},
    errors=(404,),
)
@api
def get_campaign(campaign_id: str) -> Any:
    from chalicelib.handlers.api_models import CampaignProgress

    return CampaignProgress.model_validate(container().campaigns.progress(workspace_id(), campaign_id))


@bp.route("/campaigns/{campaign_id}/{action}", methods=["POST"])
@operation(
    "Start, pause, resume or cancel a campaign",
    "campaigns",
    {200: "chalicelib.handlers.api_models:CampaignProgress"},
    errors=(400, 404, 409),
    description="`action` is one of start, pause, resume, cancel.",
)
@api
def campaign_action(campaign_id: str, action: str) -> Any:
    from chalicelib.handlers.api_models import CampaignProgress

    ws = workspace_id()
    if action not in ACTIONS:
        raise BadRequest(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    return CampaignProgress.model_validate(getattr(container().campaigns, action)(ws, campaign_id))
