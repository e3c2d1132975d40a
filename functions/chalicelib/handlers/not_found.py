"""The catch-all routes: a path no other route matches is a 404 `not_found` in the one
error shape (API Gateway would answer a 403 "Missing Authentication Token" instead)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.handlers.http import api, error_body

bp = Blueprint(__name__)

# API Gateway sends every path that no other resource matches to a greedy `{proxy+}`
# resource; the root is not under it, so it has its own. Any method: a caller probing with
# PUT or DELETE gets the same answer. Not part of the documented API (OpenAPI skips
# http.CATCH_ALL).
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@bp.route("/", methods=METHODS)
@api
def root() -> Response:
    return _not_found()


@bp.route("/{proxy+}", methods=METHODS)
@api
def anything() -> Response:
    return _not_found()


def _not_found() -> Response:
    request = bp.current_request  # the path as called, without API Gateway's stage prefix
    path = request.to_original_event().get("path") or request.context.get("path") or "/"
    return error_body(404, "not_found", f"no API route matches {path}")
