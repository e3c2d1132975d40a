"""Public unsubscribe endpoint: one-click POST (RFC 8058) and a confirmation page."""

from __future__ import annotations

import html
from typing import Any

from chalice import Blueprint, Response

from chalicelib.container import container
from chalicelib.handlers.http import api, count
from chalicelib.handlers.openapi import HTML, operation

bp = Blueprint(__name__)

PAGE = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Unsubscribe</title>
<body style="font-family: sans-serif; max-width: 32rem; margin: 4rem auto">
<h1>Unsubscribe</h1><p>Stop {channel} marketing from {store}?</p>
<form method="post"><button type="submit">Unsubscribe</button></form>
<p>Order confirmations and shipping notices will still arrive.</p></body></html>"""


@bp.route(
    "/unsubscribe/{token}",
    methods=["POST"],
    content_types=["application/x-www-form-urlencoded", "application/json", "text/plain"],
)
@operation(
    "One-click unsubscribe (RFC 8058)",
    "public",
    {200: "chalicelib.handlers.api_models:Unsubscribed"},
    errors=(400, 404),
    public=True,
)
@api
def unsubscribe(token: str) -> Any:
    """One click from the mail client (List-Unsubscribe-Post) or the page's button."""
    from chalicelib.handlers.api_models import Unsubscribed

    result = container().unsubscribe.unsubscribe(token)
    count("Unsubscribes")
    return Unsubscribed.model_validate(result)


@bp.route("/unsubscribe/{token}", methods=["GET"])
@operation("The unsubscribe page", "public", {200: None}, errors=(400, 404), public=True, media=HTML)
@api
def unsubscribe_page(token: str) -> Response:
    """A page whose button posts: following the link alone unsubscribes nobody."""
    shown = container().unsubscribe.check(token)
    body = PAGE.format(
        channel=html.escape(shown["channel"]), store=html.escape(shown["store"] or "this store")
    )
    return Response(body=body, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})
