"""Satisfaction surveys (docs/service.md#csat-satisfaction-surveys): the workspace's settings
and report (Admin API), and the public one-tap links (the signature is the authentication)."""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import parse_qs

from chalice import Blueprint, Response

from chalicelib.container import container
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import api, count, model_body, model_query
from chalicelib.handlers.openapi import HTML, operation

bp = Blueprint(__name__)
CSAT = "chalicelib.domain.service.csat"
SERVICE = "chalicelib.domain.service.csat_service"

_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<body style="font-family: sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem">
<h1>{title}</h1>{body}</body></html>"""
CLOSED = {
    "withdrawn": "This survey is no longer open: your request was reopened.",
    "expired": "This survey is no longer open.",
    "answered": "This survey is no longer open.",
}


def _page(title: str, body: str, status: int = 200) -> Response:
    text = _PAGE.format(title=html.escape(title), body=body)
    return Response(body=text, status_code=status, headers={"Content-Type": "text/html; charset=utf-8"})


def _show(shown: Any) -> Response:
    """The page of a SurveyPage: closed (410), the scores to choose from, or the thanks with
    the comment box (and the reasons for a low score)."""
    if shown.state == "closed":
        return _page("Survey closed", f"<p>{html.escape(CLOSED.get(shown.why, CLOSED['expired']))}</p>", 410)
    store = html.escape(shown.store or "us")
    if shown.state == "choose":
        links = " ".join(f'<a href="{html.escape(t)}">{s}</a>' for s, t in sorted(shown.choices.items()))
        ask = f"<p>Rate {store}, 1 (not at all) to 5 (very satisfied):</p><p>{links}</p>"
        return _page("How did we do?", ask)
    options = "".join(
        f'<label><input type="radio" name="reason" value="{html.escape(r)}"> '
        f"{html.escape(r.replace('_', ' '))}</label><br>"
        for r in shown.reasons
    )
    picker = f"<p>What went wrong?</p><p>{options}</p>" if options else ""
    form = (
        f'<form method="post">{picker}<p><label>Anything to add?<br><textarea name="comment" rows="4" '
        'cols="40" maxlength="2000"></textarea></label></p><button type="submit">Send</button></form>'
    )
    return _page("Thank you", f"<p>You rated {store} {shown.score} out of 5.</p>{form}")


@bp.route("/csat/{token}", methods=["GET"])
@operation(
    "A survey link: records its score, shows the comment box (and reasons for a low score)",
    "public",
    {200: None, 410: None},
    errors=(400, 404, 409),
    public=True,
    media=HTML,
    description="The SMS link (no score) shows the five scores to choose from. 410: the survey is "
    "no longer open (withdrawn, expired).",
)
@api
def csat_link(token: str) -> Response:
    from chalicelib.domain.models import now_utc

    shown = container().csat.open_link(token, now_utc())
    if shown.state == "recorded":
        count("CsatAnswers")
    return _show(shown)


@bp.route(
    "/csat/{token}",
    methods=["POST"],
    content_types=["application/x-www-form-urlencoded", "application/json"],
)
@operation(
    "A survey's comment and reason (the score is the link's)",
    "public",
    {200: None, 410: None},
    body=f"{SERVICE}:CsatAnswerIn",
    errors=(400, 404, 409),
    public=True,
    media=HTML,
)
@api
def csat_answer(token: str) -> Response:
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.service.csat_service import CsatAnswerIn

    request = bp.current_request
    given = request.raw_body or b""
    raw = given.encode() if isinstance(given, str) else given
    if (request.headers.get("content-type") or "").startswith("application/x-www-form-urlencoded"):
        form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        raw = json.dumps(form).encode()
    body = model_body(CsatAnswerIn, raw, "survey answer", b"{}")
    shown = container().csat.answer(token, body, now_utc())
    if shown.state == "closed":
        return _show(shown)
    return _page("Thank you", "<p>Thank you: your answer is recorded.</p>")


@bp.route("/service/csat", methods=["GET"])
@operation("The workspace's satisfaction survey settings", "service", {200: f"{CSAT}:CsatSettings"})
@api
def csat_settings() -> Any:
    return container().csat.settings(workspace_id())


@bp.route("/service/csat", methods=["PUT"])
@operation(
    "Set the satisfaction survey: on/off, delay, expiry, channel, reasons",
    "service",
    {200: f"{CSAT}:CsatSettings"},
    body=f"{CSAT}:CsatSettings",
    errors=(400,),
)
@api
def put_csat_settings() -> Any:
    from chalicelib.domain.service.csat import CsatSettings

    ws = workspace_id()
    body = model_body(CsatSettings, bp.current_request.raw_body, "survey settings")
    return container().csat.save_settings(ws, body)


@bp.route("/service/reports/csat", methods=["GET"])
@operation(
    "CSAT (share of 4s and 5s) and response rate per agent, kind or period of sending",
    "service",
    {200: f"{CSAT}:CsatReport"},
    query=f"{CSAT}:CsatQuery",
    errors=(400,),
)
@api
def csat_report() -> Any:
    """`?from=YYYY-MM-DD&to=YYYY-MM-DD&by=agent|kind|period&period=day|week|month`"""
    from chalicelib.domain.service.csat import CsatQuery

    ws = workspace_id()
    query = model_query(CsatQuery, dict(bp.current_request.query_params or {}), "report query")
    return container().csat.report(ws, query.since, query.until, query.by, query.period)
