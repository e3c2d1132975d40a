"""A tiny JSON-over-HTTP client for the local stack (loopback only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

LOOPBACK = ("http://127.0.0.1:", "http://localhost:", "http://[::1]:")


def _request(url: str, **kwargs: Any) -> urllib.request.Request:
    if not url.startswith(LOOPBACK):
        raise ValueError(f"the local stack client talks to loopback only, not {url!r}")
    return urllib.request.Request(url, **kwargs)  # noqa: S310 - checked above


def _call(request: urllib.request.Request) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - checked
            return int(response.status), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.loads(exc.read() or b"null")


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    return _call(_request(url, data=body, headers=headers, method="POST"))


def get(url: str, api_key: str) -> tuple[int, Any]:
    return _call(_request(url, headers={"Authorization": f"Bearer {api_key}"}))
