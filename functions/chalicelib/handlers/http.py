"""The one place where domain errors become HTTP responses."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from chalice import Response
from pydantic import BaseModel

from chalicelib.domain import errors

logger = Logger(service="patron")
metrics = Metrics(namespace="Patron", service="patron")

STATUS: dict[type[errors.PatronError], int] = {
    errors.BadRequest: 400,
    errors.InvalidPayload: 400,
    errors.Unauthorized: 401,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.TooManyRequests: 429,
    errors.StoreFailed: 502,
}


class ErrorBody(BaseModel):
    """The one error shape every route answers with (its OpenAPI schema too)."""

    error: str
    message: str
    details: Any | None = None


def json_response(body: Any, status: int = 200) -> Response:
    text = body.model_dump_json() if hasattr(body, "model_dump_json") else json.dumps(body, default=str)
    return Response(body=text, status_code=status, headers={"Content-Type": "application/json"})


def error_response(exc: errors.PatronError) -> Response:
    status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 500)
    body: dict[str, Any] = {"error": exc.code, "message": exc.message}
    if exc.details is not None:
        body["details"] = exc.details
    if isinstance(exc, errors.InvalidPayload) and exc.quarantine_id:
        body["quarantine_id"] = exc.quarantine_id
    response = json_response(body, status)
    if isinstance(exc, errors.TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def api(view: Callable[..., Any]) -> Callable[..., Response]:
    """Wrap a view: models become JSON, domain errors become their status code."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            result = view(*args, **kwargs)
        except errors.PatronError as exc:
            return error_response(exc)
        return result if isinstance(result, Response) else json_response(result)

    return wrapper


def bearer_key_hash(authorization: str | None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise errors.Unauthorized("missing bearer API key")
    key = authorization[len("Bearer ") :].strip()
    if not key:
        raise errors.Unauthorized("missing bearer API key")
    return hashlib.sha256(key.encode()).hexdigest()


def count(name: str, value: float = 1, **dimensions: str) -> None:
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() == "true":
        return
    if dimensions:
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace="Patron") as metric:
            for key, dim in dimensions.items():
                metric.add_dimension(name=key, value=dim)
    else:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def json_object(blueprint: Any) -> dict[str, Any]:
    """The request's JSON body, which must be an object."""
    body = blueprint.current_request.json_body
    if not isinstance(body, dict):
        raise errors.BadRequest("expected a JSON object")
    return body


M = TypeVar("M", bound="BaseModel")


def query_limit(params: dict[str, str], default: int, most: int | None = None) -> int:
    """`?limit=`: a whole number (400 otherwise), kept between 1 and `most` when given."""
    try:
        limit = int(params.get("limit", str(default)))
    except ValueError as exc:
        raise errors.BadRequest(
            "limit must be a number", [{"field": "limit", "error": "not a number"}]
        ) from exc
    return limit if most is None else max(1, min(limit, most))


def query_cursor(params: dict[str, str], prefix: str, longest: int) -> str | None:
    """`?cursor=`: one this API gave (its sort-key prefix, at most `longest` characters), or None."""
    cursor = params.get("cursor") or None
    if cursor is not None and (len(cursor) > longest or not cursor.startswith(prefix)):
        raise errors.BadRequest("cursor is not one this API gave", [{"field": "cursor", "error": "invalid"}])
    return cursor


def model_body(model: type[M], raw: str | bytes | None, what: str, empty: bytes = b"") -> M:
    """The request body as the pydantic `model` (an empty body read as `empty`); a body it
    refuses is a 400 naming each field (`invalid <what>`)."""
    from pydantic import ValidationError

    from chalicelib.parsers import field_errors

    try:
        return model.model_validate_json(raw or empty)
    except ValidationError as exc:
        raise errors.BadRequest(f"invalid {what}", field_errors(exc)) from exc


def required_text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise errors.BadRequest(f"{name} is required", [{"field": name, "error": "missing"}])
    return value
