"""The web console's files from the Chalice app (docs/console.md): public routes, the right
Content-Type and cache headers, revalidation by ETag, and a 404 in the API's error shape for
anything that is not one of its files."""

from __future__ import annotations

import json

import pytest

from chalicelib.handlers import console_api


@pytest.fixture
def http(stage):
    return stage.http.http


def test_the_page_is_served_without_a_key_with_its_security_headers(http):
    # Given no Authorization header at all
    # When the console's page is asked for
    answer = http.get("/console")
    # Then it is the HTML page, revalidated on each load, loading only its own files
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.headers["Cache-Control"] == "no-cache"
    policy = dict(d.strip().split(" ", 1) for d in answer.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'"
    # pictures only may come from another host, over https (the catalogue's product images)
    assert policy["img-src"] == "'self' data: blob: https:"
    assert policy["connect-src"] == "'self'"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    page = answer.body.decode()
    assert '<script type="module" src="console/app.js">' in page
    assert "https://" not in page and "http://" not in page  # no CDN


@pytest.mark.parametrize(
    ("path", "kind", "cache"),
    [
        ("/console/app.js", "text/javascript; charset=utf-8", "no-cache"),
        ("/console/lib.js", "text/javascript; charset=utf-8", "no-cache"),
        ("/console/style.css", "text/css; charset=utf-8", "no-cache"),
        ("/console/pages/overview.js", "text/javascript; charset=utf-8", "no-cache"),
        ("/console/uplot-1.6.32.iife.min.js", "text/javascript; charset=utf-8", console_api.FOREVER),
        ("/console/uplot-1.6.32.min.css", "text/css; charset=utf-8", console_api.FOREVER),
    ],
)
def test_each_asset_has_its_content_type_and_cache_header(http, path, kind, cache):
    # Given the console's files in the package (chalicelib/console/)
    # When one is asked for, with no key
    answer = http.get(path)
    # Then it comes with its type; the versioned vendor files are cached for good
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == kind
    assert answer.headers["Cache-Control"] == cache
    assert answer.body


def test_an_unchanged_asset_is_answered_304_by_its_etag(http):
    # Given the ETag the first answer gave
    etag = http.get("/console/lib.js").headers["ETag"]
    # When the browser revalidates with it
    answer = http.get("/console/lib.js", headers={"If-None-Match": etag})
    # Then nothing is sent again
    assert answer.status_code == 304 and answer.body in (b"", None)
    # And another ETag gets the file
    assert http.get("/console/lib.js", headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/console/nope.js",
        "/console/index.html",
        "/console/.hidden.js",
        "/console/..%2Fhandlers%2Fhttp.py",
        "/console/pages/..%2Fapp.js",
        "/console/pages/nope.js",
        "/console/console_api.py",
    ],
)
def test_anything_else_is_a_404_in_the_apis_error_shape(http, path):
    # Given a name that is not one of the console's files
    # When it is asked for
    answer = http.get(path)
    # Then it is a 404 with the API's one error shape, and no file's content
    assert answer.status_code == 404
    body = json.loads(answer.body)
    assert body["error"] == "not_found" and "message" in body
