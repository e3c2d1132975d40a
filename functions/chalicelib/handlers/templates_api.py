"""Admin API for message templates: save (a new version each time), list, show, preview."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.container import container
from chalicelib.domain.errors import BadRequest
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import api, json_object, json_response, required_text

# Domain modules are imported in the handler that uses them: cold start (handlers/__init__.py).
bp = Blueprint(__name__)


def _json() -> dict[str, Any]:
    return json_object(bp)


@bp.route("/templates/{template_id}", methods=["PUT"])
@api
def save_template(template_id: str) -> Response:
    from chalicelib.domain.messaging.templates import TemplateIn
    from chalicelib.parsers import field_errors

    ws = workspace_id()  # authentication before validation
    try:
        body = TemplateIn.model_validate(_json())
    except ValidationError as exc:
        raise BadRequest("invalid template", field_errors(exc)) from exc
    view = container().template_service.save(ws, template_id, body)
    return json_response(view, 201 if view.version == 1 else 200)


@bp.route("/templates", methods=["GET"])
@api
def list_templates() -> dict[str, Any]:
    return {"templates": [t.model_dump() for t in container().template_service.list(workspace_id())]}


@bp.route("/templates/{template_id}", methods=["GET"])
@api
def get_template(template_id: str) -> Any:
    return container().template_service.get(workspace_id(), template_id)


@bp.route("/templates/{template_id}/preview", methods=["POST"])
@api
def preview_template(template_id: str) -> Any:
    ws = workspace_id()  # authentication before validation
    body = _json()
    customer_id = required_text(body, "customer_id")
    values = body.get("values") or {}
    if not isinstance(values, dict):
        raise BadRequest("values must be an object", [{"field": "values", "error": "not an object"}])
    return container().template_service.preview(ws, template_id, customer_id, values)
