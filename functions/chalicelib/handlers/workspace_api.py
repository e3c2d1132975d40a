"""Admin API: the calling workspace's API keys (docs/workspace-api.md) and its settings."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.container import container
from chalicelib.domain.errors import BadRequest
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import api, bearer_key_hash, json_response, model_body
from chalicelib.handlers.openapi import operation

bp = Blueprint(__name__)


def _actor() -> str:
    """The calling key, by its id (`key:key_...`), for the keys' audit."""
    return container().api_keys.actor(bearer_key_hash(bp.current_request.headers.get("authorization")))


@bp.route("/workspace/keys", methods=["POST"])
@operation(
    "Create an API key (its secret shown once)",
    "workspace",
    {201: "chalicelib.domain.workspace_api.api_keys:ApiKeySecret"},
    body="chalicelib.domain.workspace_api.api_keys:ApiKeyIn",
    errors=(400, 409),
)
@api
def create_key() -> Response:
    """`{"name": "..."}`: 201 with the key and its secret, shown this once."""
    from chalicelib.domain.workspace_api.api_keys import ApiKeyIn

    ws = workspace_id()
    body = model_body(ApiKeyIn, bp.current_request.raw_body, "API key")
    created = container().api_keys.create(ws, body.name, _actor())
    return json_response(created, 201)


@bp.route("/workspace/keys", methods=["GET"])
@operation(
    "The workspace's API keys (never a secret)",
    "workspace",
    {200: "chalicelib.domain.workspace_api.api_keys:ApiKeyList"},
)
@api
def list_keys() -> Response:
    """Every key of the workspace, live and revoked: never a secret."""
    return json_response(container().api_keys.listing(workspace_id()))


@bp.route("/workspace/keys/{key_id}/rotate", methods=["POST"])
@operation(
    "Give an API key a new secret (the old one refused at once)",
    "workspace",
    {200: "chalicelib.domain.workspace_api.api_keys:ApiKeySecret"},
    errors=(404, 409),
)
@api
def rotate_key(key_id: str) -> Response:
    """A new secret for the key (shown this once); the old one is refused from now on."""
    ws = workspace_id()
    return json_response(container().api_keys.rotate(ws, key_id, _actor()))


@bp.route("/workspace/keys/{key_id}", methods=["DELETE"])
@operation(
    "Revoke an API key (409 `last_key` for the last live one)",
    "workspace",
    {200: "chalicelib.domain.workspace_api.api_keys:ApiKeyOut"},
    errors=(404, 409),
)
@api
def revoke_key(key_id: str) -> Response:
    """Revoke the key: refused from now on; 409 `last_key` for the workspace's last live key."""
    ws = workspace_id()
    return json_response(container().api_keys.revoke(ws, key_id, _actor()))


def _etag(version: int) -> str:
    return f'"{version}"'


@bp.route("/workspace/settings", methods=["GET"])
@operation(
    "The workspace's settings, secrets masked; its version is the ETag",
    "workspace",
    {200: "chalicelib.domain.workspace_api.settings:SettingsOut"},
)
@api
def get_settings() -> Response:
    """The workspace's settings (secrets masked) with their version, also as the ETag."""
    shown = container().workspace_settings.read(workspace_id())
    response = json_response(shown)
    response.headers["ETag"] = _etag(shown.version)
    return response


@bp.route("/workspace/settings", methods=["PATCH"])
@operation(
    "Change settings at a version (If-Match; 409 `stale_version`)",
    "workspace",
    {200: "chalicelib.domain.workspace_api.settings:SettingsOut"},
    body="chalicelib.domain.workspace_api.settings:SettingsPatch",
    errors=(400, 409),
    headers=("If-Match",),
)
@api
def patch_settings() -> Response:
    """The fields given change, if `If-Match` is still the version (409 `stale_version`)."""
    from chalicelib.domain.workspace_api.settings import SettingsPatch

    ws = workspace_id()
    request = bp.current_request
    match = (request.headers.get("if-match") or "").strip().removeprefix("W/").strip('"')
    if not match.isdigit():
        raise BadRequest(
            "If-Match is required: the version (ETag) of GET /workspace/settings",
            [{"field": "If-Match", "error": "missing"}],
        )
    body = model_body(SettingsPatch, request.raw_body, "settings")
    shown = container().workspace_settings.update(ws, body, int(match))
    response = json_response(shown)
    response.headers["ETag"] = _etag(shown.version)
    return response
