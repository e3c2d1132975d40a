"""Storefront webhooks: POST /webhooks/{shopify,woocommerce,generic}."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.container import container
from chalicelib.domain.errors import PatronError
from chalicelib.handlers.http import count, error_response, json_response, logger

bp = Blueprint(__name__)
CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]


def _receive(platform_name: str) -> Response:
    from chalicelib.domain.errors import InvalidPayload
    from chalicelib.domain.ingest import WebhookRejected
    from chalicelib.domain.models import Platform

    request = bp.current_request
    headers = {k.lower(): v for k, v in request.headers.items()}
    raw = request.raw_body or b""
    body = raw.encode() if isinstance(raw, str) else bytes(raw)
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


@bp.route("/webhooks/shopify", methods=["POST"], content_types=CONTENT_TYPES)
def shopify() -> Response:
    return _receive("shopify")


@bp.route("/webhooks/woocommerce", methods=["POST"], content_types=CONTENT_TYPES)
def woocommerce() -> Response:
    return _receive("woocommerce")


@bp.route("/webhooks/generic", methods=["POST"], content_types=CONTENT_TYPES)
def generic() -> Response:
    return _receive("generic")
