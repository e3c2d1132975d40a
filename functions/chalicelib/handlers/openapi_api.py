"""GET /openapi.json (public): the API's OpenAPI 3.1 description, built from the routes'
declarations (handlers/openapi.py); `patron openapi` writes the same text to docs/openapi.json."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.handlers.http import api
from chalicelib.handlers.openapi import FREEFORM, operation

bp = Blueprint(__name__)
_TEXT: list[str] = []  # built once per container: the routes do not change while it runs


@bp.route("/openapi.json", methods=["GET"])
@operation("This API's OpenAPI 3.1 description", "meta", {200: FREEFORM}, public=True)
@api
def openapi_json() -> Response:
    from chalicelib.handlers.openapi import document, dumps

    if not _TEXT:
        _TEXT.append(dumps(document(bp.current_app.routes)))
    return Response(body=_TEXT[0], status_code=200, headers={"Content-Type": "application/json"})
