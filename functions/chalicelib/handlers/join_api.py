"""Public join endpoint: a guest's signed one-tap invitation to the loyalty programme
(domain/loyalty/invite.py, docs/loyalty.md#invitations)."""

from __future__ import annotations

import html

from chalice import Blueprint, Response

from chalicelib.container import container
from chalicelib.domain.errors import PatronError
from chalicelib.handlers.http import STATUS, api, count
from chalicelib.handlers.openapi import HTML, operation

bp = Blueprint(__name__)

_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8"><title>{title}</title>
<body style="font-family: sans-serif; max-width: 32rem; margin: 4rem auto">
<h1>{title}</h1>{body}</body></html>"""
_ASK = (
    "<p>Join the loyalty programme of {store}?</p>"
    '<form method="post"><button type="submit">Join</button></form>'
)


def _page(title: str, body: str, status: int = 200) -> Response:
    text = _PAGE.format(title=html.escape(title), body=body)
    return Response(body=text, status_code=status, headers={"Content-Type": "text/html; charset=utf-8"})


@bp.route("/join/{token}", methods=["GET"])
@operation(
    "A guest's invitation page",
    "public",
    {200: None},
    errors=(400, 404, 409),
    public=True,
    media=HTML,
    page_errors=True,
)
@api
def join_page(token: str) -> Response:
    """A page whose button posts: following the link alone enrols nobody (link scanners)."""
    from chalicelib.domain.models import now_utc

    try:
        shown = container().invites.check(token, now_utc())
    except PatronError as exc:  # expired or unknown: a page that says so, with the error's status
        status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 500)
        return _page("Invitation", f"<p>{html.escape(exc.message)}</p>", status)
    return _page("Join", _ASK.format(store=html.escape(shown["store"] or "this store")))


@bp.route(
    "/join/{token}",
    methods=["POST"],
    content_types=["application/x-www-form-urlencoded", "application/json", "text/plain"],
)
@operation("Join from an invitation", "public", {200: None}, errors=(400, 404, 409), public=True, media=HTML)
@api
def join(token: str) -> Response:
    """The tap: enrols the link's customer (channel invite); a member again changes nothing."""
    from chalicelib.domain.models import now_utc

    outcome, view = container().invites.join(token, now_utc())
    if outcome == "joined":
        count("MembersJoinedByInvite")
    number = html.escape(view.number or "")
    said = "You are already a member" if outcome == "already_member" else "Welcome: you are a member"
    return _page("Joined", f"<p>{said}. Your member number is <strong>{number}</strong>.</p>")
