"""Admin API for message templates: save (a new version each time), list, show, preview."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.container import container
from chalicelib.domain.errors import BadRequest
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import api, json_object, json_response, required_text
from chalicelib.handlers.openapi import operation

# Domain modules are imported in the handler that uses them: cold start (handlers/__init__.py).
bp = Blueprint(__name__)


def _json() -> dict[str, Any]:
    return json_object(bp)


@bp.route("/templates/{template_id}", methods=["PUT"])
@operation(
    "Save a template (a new version each time)",
    "messaging",
    {
        200: "chalicelib.domain.messaging.templates:TemplateView",
        201: "chalicelib.domain.messaging.templates:TemplateView",
    },
    body="chalicelib.domain.messaging.templates:TemplateIn",
    errors=(400,),
)
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
@operation("The workspace's templates", "messaging", {200: "chalicelib.handlers.api_models:TemplateList"})
@api
def list_templates() -> Any:
    from chalicelib.handlers.api_models import TemplateList

    return TemplateList(templates=container().template_service.list(workspace_id()))


@bp.route("/templates/{template_id}", methods=["GET"])
@operation(
    "A template's latest version",
    "messaging",
    {200: "chalicelib.domain.messaging.templates:TemplateView"},
    errors=(404,),
)
@api
def get_template(template_id: str) -> Any:
    return container().template_service.get(workspace_id(), template_id)


@bp.route("/templates/{template_id}/preview", methods=["POST"])
@operation(
    "A template rendered for a customer",
    "messaging",
    {200: "chalicelib.domain.messaging.templates:Preview"},
    body="chalicelib.handlers.api_models:PreviewIn",
    errors=(400, 404),
)
@api
def preview_template(template_id: str) -> Any:
    ws = workspace_id()  # authentication before validation
    body = _json()
    customer_id = required_text(body, "customer_id")
    values = body.get("values") or {}
    if not isinstance(values, dict):
        raise BadRequest("values must be an object", [{"field": "values", "error": "not an object"}])
    return container().template_service.preview(ws, template_id, customer_id, values)
