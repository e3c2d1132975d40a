"""The web console's static files (docs/console.md): `GET /console`, the page, and `GET
/console/{asset}`, `GET /console/pages/{asset}`, its scripts and styles, read from
chalicelib/console/ (part of the deployed package). Public: the page asks for a workspace
API key and sends it to the documented API itself; these routes serve no workspace's data."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.domain.errors import NotFound
from chalicelib.handlers.http import api
from chalicelib.handlers.openapi import HTML, operation

bp = Blueprint(__name__)

CONSOLE = Path(__file__).resolve().parents[1] / "console"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,80}$")
# Vendored files carry their version in the name: cached for good. The console's own files
# are revalidated on every load (their ETag answers 304 while they are unchanged).
FOREVER = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# The page loads only its own files and calls only its own API; pictures may also come from
# any https host (the catalogue's product images live on the shop's CDN).
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: https:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


_READ: dict[str, tuple[str, str, str]] = {}  # the files found (a few dozen): read once per container


def _file(relative: str) -> tuple[str, str, str] | None:
    """(text, content type, ETag) of a console file, or None: only names of files under
    CONSOLE with a known type (no path separator, no leading dot)."""
    if relative in _READ:
        return _READ[relative]
    folder, _, name = relative.rpartition("/")
    if not _NAME.fullmatch(name) or folder not in ("", "pages"):
        return None
    path = CONSOLE / relative
    kind = TYPES.get(path.suffix)
    if kind is None or not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    _READ[relative] = (text, kind, '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"')
    return _READ[relative]


def _serve(relative: str) -> Response:
    found = _file(relative)
    if found is None:
        raise NotFound(f"no console file {relative}")
    text, kind, etag = found
    name = relative.rpartition("/")[2]
    headers: dict[str, str | list[str]] = {
        "Content-Type": kind,
        "Cache-Control": FOREVER if name.startswith("uplot-") else REVALIDATE,
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
    }
    if kind.startswith("text/html"):
        headers["Content-Security-Policy"] = POLICY
    if bp.current_request.headers.get("if-none-match") == etag:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=text, status_code=200, headers=headers)


@bp.route("/console", methods=["GET"])
@operation(
    "The web console (signs in with an API key)", "console", {200: None, 304: None}, public=True, media=HTML
)
@api
def console_page() -> Response:
    return _serve("index.html")


@bp.route("/console/{asset}", methods=["GET"])
@operation(
    "A console file (script, style sheet)",
    "console",
    {200: None, 304: None},
    errors=(404,),
    public=True,
    media="text/plain",
)
@api
def console_asset(asset: str) -> Response:
    if asset == "index.html":  # the page is /console (its relative links resolve from there)
        raise NotFound("no console file index.html")
    return _serve(asset)


@bp.route("/console/pages/{asset}", methods=["GET"])
@operation(
    "A console page's script",
    "console",
    {200: None, 304: None},
    errors=(404,),
    public=True,
    media="text/javascript",
)
@api
def console_page_module(asset: str) -> Response:
    return _serve(f"pages/{asset}")
