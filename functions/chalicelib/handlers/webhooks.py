"""Storefront webhooks: POST /webhooks/{shopify,woocommerce,generic}.

Two front doors share one receiver (`deliver`): the API Gateway routes below, and the
Lambda Function URL function `webhook_url`, the default (no per-request price; see
docs/cost.md). Both hand the same headers and bytes to the same ingest service call and
get the same answers.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from chalice import Blueprint, Response

from chalicelib.container import container
from chalicelib.domain.errors import InvalidPayload, PatronError
from chalicelib.handlers.http import api, count, error_response, json_response, logger
from chalicelib.handlers.openapi import FREEFORM, operation

# Domain modules are imported in the handler that uses them: cold start (handlers/__init__.py).
bp = Blueprint(__name__)
CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]
PLATFORMS = ("shopify", "woocommerce", "generic")


def deliver(platform_name: str, headers: Mapping[str, str], body: bytes) -> Response:
    """One delivery, whichever front door it came through: headers lower-cased, raw bytes."""
    from chalicelib.domain.ingest import WebhookRejected
    from chalicelib.domain.models import Platform

    platform = Platform(platform_name)
    try:
        result = container().ingest.receive(platform, headers, body)
    except WebhookRejected as exc:
        # Security log line: who and why, never the body or the signature.
        logger.warning(
            "webhook rejected",
            extra={"platform": exc.platform, "reason": exc.reason, "shop": exc.shop, "bytes": len(body)},
        )
        count("WebhooksRejected", reason=exc.reason)
        return error_response(exc)
    except InvalidPayload as exc:
        logger.warning(
            "webhook quarantined",
            extra={
                "platform": platform.value,
                "quarantine_id": exc.quarantine_id,
                "fields": [e.get("field") for e in exc.details or []],
            },
        )
        count("WebhooksRejected", reason="invalid_payload")
        return error_response(exc)
    except PatronError as exc:
        count("WebhooksRejected", reason=exc.code)
        return error_response(exc)
    logger.append_keys(webhook_id=result.webhook_id)
    count("WebhooksAccepted", outcome=result.status)
    return json_response(result)


def _receive(platform_name: str) -> Response:
    request = bp.current_request
    headers = {k.lower(): v for k, v in request.headers.items()}
    raw = request.raw_body or b""
    body = raw.encode() if isinstance(raw, str) else bytes(raw)
    return deliver(platform_name, headers, body)


def _delivery(platform: str) -> Any:
    return operation(
        f"A signed {platform} webhook delivery",
        "webhooks",
        {200: "chalicelib.domain.ingest:IngestResult"},
        body=FREEFORM,
        errors=(400, 401, 413, 415),
        public=True,
        description="Signed with the source's secret (base64 HMAC-SHA256 of the raw body), no API key.",
    )


@bp.route("/webhooks/shopify", methods=["POST"], content_types=CONTENT_TYPES)
@_delivery("shopify")
@api
def shopify() -> Response:
    return _receive("shopify")


@bp.route("/webhooks/woocommerce", methods=["POST"], content_types=CONTENT_TYPES)
@_delivery("woocommerce")
@api
def woocommerce() -> Response:
    return _receive("woocommerce")


@bp.route("/webhooks/generic", methods=["POST"], content_types=CONTENT_TYPES)
@_delivery("generic")
@api
def generic() -> Response:
    return _receive("generic")


# -- the Lambda Function URL front door ---------------------------------------------------


def _plain(status: int, error: str, message: str) -> Response:
    return json_response({"error": error, "message": message}, status)


def route_function_url(event: Mapping[str, Any]) -> Response | tuple[str, dict[str, str], bytes]:
    """A Function URL request (payload format 2.0) as the platform, headers and body that
    `deliver` takes, or the refusal API Gateway would give the same request: 404 for another
    path, 405 for another method, 415 for a content type the routes do not accept."""
    http = (event.get("requestContext") or {}).get("http") or {}
    path = str(event.get("rawPath") or http.get("path") or "").rstrip("/")
    prefix, _, platform = path.rpartition("/")
    if prefix != "/webhooks" or platform not in PLATFORMS:
        return _plain(404, "not_found", "no such webhook endpoint")
    if str(http.get("method", "")).upper() != "POST":
        return _plain(405, "method_not_allowed", "webhooks are POSTed")
    # Function URLs deliver header names lower-cased; lower them anyway (a test or a proxy)
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media = headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media not in CONTENT_TYPES:
        return _plain(415, "unsupported_media_type", f"content type {media} is not accepted")
    raw = event.get("body") or ""
    try:
        body = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode()
    except (binascii.Error, ValueError):
        return _plain(400, "bad_request", "body is not valid base64")
    return platform, headers, body


def function_url_response(response: Response) -> dict[str, Any]:
    """A Chalice response as the Function URL response a Lambda returns."""
    body = response.body
    text = body.decode() if isinstance(body, bytes) else str(body)
    return {"statusCode": response.status_code, "headers": dict(response.headers), "body": text}


@bp.lambda_function(name="webhook_url")
def webhook_url(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """POST <Function URL>/webhooks/{shopify,woocommerce,generic}: the default front door."""
    routed = route_function_url(event)
    response = routed if isinstance(routed, Response) else deliver(*routed)
    return function_url_response(response)
