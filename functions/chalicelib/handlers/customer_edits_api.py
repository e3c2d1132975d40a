"""Admin API: editing a customer's tags, notes and consent, and the audit of those edits
(docs/data-model.md, "Editing a customer")."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.container import container
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import api, key_actor, logger, model_body, query_cursor, query_limit
from chalicelib.handlers.openapi import operation

bp = Blueprint(__name__)
MAX_CURSOR = 200


@bp.route("/customers/{customer_id}", methods=["PATCH"])
@operation(
    "Edit a customer's tags, notes and consent, audited",
    "customers",
    {200: "chalicelib.domain.customer_edits:CustomerEditOut"},
    body="chalicelib.domain.customer_edits:CustomerEditIn",
    errors=(400, 404, 409),
)
@api
def edit_customer(customer_id: str) -> Any:
    """`{"tags_add": [...], "tags_remove": [...], "note": "...", "notes": [{"id", "text"}],
    "consent": {"email": "subscribed", "sms": "unsubscribed"}}`: atomic writes, one audit entry."""
    from chalicelib.domain.customer_edits import CustomerEditIn
    from chalicelib.domain.enrolment import Actor
    from chalicelib.domain.models import now_utc

    ws = workspace_id()
    logger.append_keys(customer_id=customer_id)
    request = bp.current_request
    body = model_body(CustomerEditIn, request.raw_body, "customer edit")
    actor = Actor("api", key_actor(request.headers.get("authorization")))
    return container().customer_edits.edit(ws, customer_id, body, actor, now_utc())


@bp.route("/customers/{customer_id}/audit", methods=["GET"])
@operation(
    "A page of the customer's edits (tags, notes, consent), newest first",
    "customers",
    {200: "chalicelib.domain.customer_edits:CustomerAuditPage"},
    query="chalicelib.handlers.api_models:PageQuery",
    errors=(400, 404),
)
@api
def customer_audit(customer_id: str) -> Any:
    """`?limit=50&cursor=`: who changed what, when, with the old and new values."""
    ws = workspace_id()
    logger.append_keys(customer_id=customer_id)
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    limit, cursor = query_limit(params, 50, 200), query_cursor(params, "CE#", MAX_CURSOR)
    return container().customer_edits.audit(ws, customer_id, limit, cursor)
