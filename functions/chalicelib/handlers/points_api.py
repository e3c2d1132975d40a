"""Admin API: a customer's points (balance and ledger) and an operator's manual adjustments
(docs/loyalty.md)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.container import container
from chalicelib.domain.errors import BadRequest
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import (
    api,
    json_response,
    key_actor,
    logger,
    model_body,
    query_cursor,
    query_limit,
)
from chalicelib.handlers.openapi import FREEFORM, operation

bp = Blueprint(__name__)
MAX_CURSOR = 600


@bp.route("/customers/{customer_id}/points", methods=["GET"])
@operation(
    "A customer's points and a page of their ledger",
    "loyalty",
    {200: "chalicelib.handlers.api_models:PointsPageOut"},
    query="chalicelib.handlers.api_models:PageQuery",
    errors=(400, 404),
)
@api
def get_points(customer_id: str) -> Any:
    """`?limit=50&cursor=`: available, pending, debt, the ledger's sum and a page of entries."""
    from chalicelib.domain.loyalty.ledger import page_json
    from chalicelib.domain.models import now_utc
    from chalicelib.handlers.api_models import PointsPageOut

    ws = workspace_id()
    logger.append_keys(customer_id=customer_id)
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    limit, cursor = query_limit(params, 50, 200), query_cursor(params, "E#", MAX_CURSOR)
    page = container().points.page(ws, customer_id, now_utc().date(), limit=limit, cursor=cursor)
    return PointsPageOut.model_validate(page_json(page))


@bp.route("/customers/{customer_id}/points/adjustments", methods=["POST"])
@operation(
    "An operator's manual points adjustment",
    "loyalty",
    {200: "chalicelib.handlers.api_models:LedgerEntryOut"},
    body="chalicelib.domain.loyalty.adjust:AdjustmentIn",
    headers=("Idempotency-Key",),
    errors=(404, 409),
)
@api
def adjust_points(customer_id: str) -> Response:
    """`{"points": N, "reason": "..."}` with an `Idempotency-Key` header: the ledger entry."""
    from chalicelib.domain.enrolment import Actor
    from chalicelib.domain.loyalty.adjust import AdjustmentIn
    from chalicelib.domain.loyalty.ledger import entry_json
    from chalicelib.domain.models import now_utc
    from chalicelib.handlers.api_models import LedgerEntryOut

    ws = workspace_id()
    logger.append_keys(customer_id=customer_id)
    request = bp.current_request
    key = idempotency_key(request.headers.get("idempotency-key"))
    body = model_body(AdjustmentIn, request.raw_body, "adjustment")
    actor = Actor("api", key_actor(request.headers.get("authorization")))
    entry = container().points_adjustments.adjust(ws, customer_id, body, key, actor, now_utc())
    return json_response(LedgerEntryOut.model_validate(entry_json(entry)), 200)


@bp.route("/customers/{customer_id}/tier", methods=["GET"])
@operation(
    "A customer's tier and progress to the next",
    "loyalty",
    {200: "chalicelib.handlers.api_models:TierViewOut"},
    errors=(404, 409),
)
@api
def get_tier(customer_id: str) -> Any:
    """The customer's tier, since, benefits and progress to the next (docs/loyalty.md#tiers)."""
    from chalicelib.domain.loyalty.tier_service import view_json
    from chalicelib.domain.models import now_utc
    from chalicelib.handlers.api_models import TierViewOut

    ws = workspace_id()
    logger.append_keys(customer_id=customer_id)
    return TierViewOut.model_validate(view_json(container().tiers.view(ws, customer_id, now_utc())))


@bp.route("/customers/{customer_id}/tier", methods=["POST"])
@operation(
    "Move a customer's tier by hand, audited",
    "loyalty",
    {200: "chalicelib.handlers.api_models:TierViewOut"},
    body="chalicelib.domain.loyalty.tier_service:TierMoveIn",
    errors=(404, 409),
)
@api
def move_tier(customer_id: str) -> Any:
    """`{"tier": "gold" | null, "reason": "...", "hold_days": N}`: a manual move, audited."""
    from chalicelib.domain.loyalty.tier_service import TierMoveIn, view_json
    from chalicelib.domain.models import now_utc
    from chalicelib.handlers.api_models import TierViewOut

    ws = workspace_id()
    logger.append_keys(customer_id=customer_id)
    request = bp.current_request
    body = model_body(TierMoveIn, request.raw_body, "tier move")
    actor = key_actor(request.headers.get("authorization"))
    return TierViewOut.model_validate(
        view_json(container().tiers.move(ws, customer_id, body, actor, now_utc()))
    )


@bp.route("/tiers/preview", methods=["POST"])
@operation(
    "Who proposed tier rules would move, writing nothing",
    "loyalty",
    {200: "chalicelib.handlers.loyalty_models:TierPreview"},
    body=FREEFORM,
    errors=(409,),  # loyalty off, or no tiers
)
@api
def preview_tiers() -> Any:
    """Tier rules as `patron workspace tiers` takes them: who would move (nothing written)."""
    import json

    from chalicelib.domain.loyalty.tiers import rules_from_json
    from chalicelib.domain.models import now_utc

    ws = workspace_id()
    try:
        raw = json.loads(bp.current_request.raw_body or b"")
        rules = rules_from_json(raw if isinstance(raw, dict) else {"_": raw})
    except (ValueError, TypeError, AttributeError) as exc:
        raise BadRequest("invalid tier rules", [{"field": "body", "error": str(exc)[:200]}]) from exc
    from chalicelib.handlers.loyalty_models import TierPreview

    return TierPreview.model_validate(container().tiers.preview(ws, rules, now_utc()))


@bp.route("/customers/{customer_id}/points/actions", methods=["POST"])
@operation(
    "An action's bonus points, once per id",
    "loyalty",
    {200: "chalicelib.handlers.api_models:LedgerEntryOut"},
    body="chalicelib.domain.loyalty.bonuses:ActionIn",
    errors=(404, 409),
)
@api
def award_action(customer_id: str) -> Response:
    """`{"action": "review", "id": "<external id>"}`: the action's bonus entry, once per id."""
    from chalicelib.domain.loyalty.bonuses import ActionIn
    from chalicelib.domain.loyalty.ledger import entry_json
    from chalicelib.domain.models import now_utc
    from chalicelib.handlers.api_models import LedgerEntryOut

    ws = workspace_id()
    logger.append_keys(customer_id=customer_id)
    body = model_body(ActionIn, bp.current_request.raw_body, "action")
    entry = container().points_actions.award(ws, customer_id, body, now_utc())
    return json_response(LedgerEntryOut.model_validate(entry_json(entry)), 200)


@bp.route("/workspace/loyalty/dry-run", methods=["POST"])
@operation(
    "Proposed points rules against recent orders, writing nothing",
    "loyalty",
    {200: "chalicelib.handlers.loyalty_models:DryRunResult"},
    body="chalicelib.domain.loyalty.dry_run:DryRunIn",
)
@api
def loyalty_dry_run() -> Any:
    """Proposed points rules against the workspace's recent orders, beside the current rules;
    writes nothing (docs/loyalty.md#dry-run)."""
    from chalicelib.domain.loyalty.dry_run import DryRunIn
    from chalicelib.domain.loyalty.rules import RulesError
    from chalicelib.domain.models import now_utc

    ws = workspace_id()
    body = model_body(DryRunIn, bp.current_request.raw_body, "dry-run", empty=b"{}")
    found = container()
    settings = found.workspaces.settings(ws)
    if settings is None:
        raise BadRequest("the workspace has no settings", [])
    try:
        proposed = body.proposed(settings.loyalty)
    except RulesError as exc:
        raise BadRequest(str(exc), [{"field": "bonuses", "error": str(exc)}]) from exc
    from chalicelib.handlers.loyalty_models import DryRunResult

    ran = found.loyalty_dry_run.run(ws, proposed, body.at or now_utc(), body.days, body.customers)
    return DryRunResult.model_validate(ran)


@bp.route("/customers/{customer_id}/points/redeem", methods=["POST"])
@operation(
    "Redeem points for a store code or store credit",
    "loyalty",
    {200: "chalicelib.handlers.api_models:LedgerEntryOut"},
    body="chalicelib.domain.loyalty.redeem:RedeemIn",
    headers=("Idempotency-Key",),
    errors=(404, 409, 502),
)
@api
def redeem_points(customer_id: str) -> Response:
    """`{"points": N, "source": "..."?}` with an `Idempotency-Key` header: the redemption's
    entry (its code, or the store credit's amount)."""
    from chalicelib.domain.loyalty.ledger import entry_json
    from chalicelib.domain.loyalty.redeem import RedeemIn
    from chalicelib.domain.models import now_utc
    from chalicelib.handlers.api_models import LedgerEntryOut

    ws = workspace_id()
    logger.append_keys(customer_id=customer_id)
    request = bp.current_request
    key = idempotency_key(request.headers.get("idempotency-key"))
    body = model_body(RedeemIn, request.raw_body, "redemption")
    entry = container().points_redemptions.redeem(ws, customer_id, body, key, now_utc())
    return json_response(LedgerEntryOut.model_validate(entry_json(entry)), 200)


def idempotency_key(header: str | None) -> str:
    """The `Idempotency-Key` header a points write requires: 1 to MAX_KEY printable characters."""
    from chalicelib.domain.loyalty.adjust import MAX_KEY

    key = header or ""
    if not key or len(key) > MAX_KEY or not key.isprintable():
        error = "missing" if not key else "invalid"
        raise BadRequest(
            f"the Idempotency-Key header is required (1 to {MAX_KEY} printable characters)",
            [{"field": "Idempotency-Key", "error": error}],
        )
    return key
