"""WooCommerce's REST API: {site}/wp-json/wc/v3/... with HTTP basic auth (consumer key as the
user, consumer secret as the password; WooCommerce accepts it over HTTPS).

Rules it follows (woocommerce.github.io/woocommerce-rest-api-docs): lists are read a page at a
time with `per_page=100` and `page=N` until the `X-WP-TotalPages` header's page; an error is
JSON {"code", "message", "data": {"status"}} and raises WooCommerceApiError (401/403:
AdminAuthError); 429 and 5xx are retried by the shared policy (Retry-After honoured).
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

from chalicelib.adapters.storefront_admin.http import (
    HttpResponse,
    RetryPolicy,
    Transport,
    exchange,
    urllib_transport,
)
from chalicelib.domain.store_admin import (
    AdminApiError,
    AdminAuthError,
    WooCommerceApiError,
    WooCommerceCredentials,
)

PER_PAGE = 100  # the REST API's largest page


def rest_base(shop_domain: str, endpoint: str | None = None) -> str:
    return f"{(endpoint or f'https://{shop_domain}').rstrip('/')}/wp-json/wc/v3"


class WooCommerceAdmin:
    def __init__(
        self,
        shop_domain: str,
        credentials: WooCommerceCredentials,
        endpoint: str | None = None,
        policy: RetryPolicy | None = None,
        transport: Transport = urllib_transport,
    ) -> None:
        self.base = rest_base(shop_domain, endpoint)
        pair = f"{credentials.consumer_key}:{credentials.consumer_secret}".encode()
        self._auth = "Basic " + base64.b64encode(pair).decode()
        self.policy = policy or RetryPolicy()
        self._transport = transport

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._call("GET", path, params, None).json()

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        return self._call("POST", path, None, body).json()

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]:
        """Each page of a list (e.g. "orders"), first to the last X-WP-TotalPages names."""
        page = 1
        while True:
            response = self._call("GET", path, {**(params or {}), "per_page": PER_PAGE, "page": page}, None)
            items = response.json()
            if not isinstance(items, list):
                raise AdminApiError(f"WooCommerce's {path} is not a list", response.status)
            yield items
            try:
                total = int(response.headers.get("x-wp-totalpages", "1"))
            except ValueError as exc:
                raise AdminApiError("WooCommerce's X-WP-TotalPages is not a number") from exc
            if page >= total or not items:
                return
            page += 1

    def items(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        for page in self.pages(path, params):
            yield from page

    def _call(
        self, method: str, path: str, params: Mapping[str, Any] | None, body: Mapping[str, Any] | None
    ) -> HttpResponse:
        url = f"{self.base}/{path.lstrip('/')}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        headers = {"Authorization": self._auth, "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        response = exchange(self._transport, self.policy, method, url, headers, data)
        if response.status >= 400:
            raise _error(response)
        return response


def _error(response: HttpResponse) -> AdminApiError:
    try:
        answer = json.loads(response.body or b"{}")
    except ValueError:
        answer = {}
    answer = answer if isinstance(answer, dict) else {}
    code = str(answer.get("code") or f"http_{response.status}")
    message = " ".join(str(answer.get("message") or "no message").split())
    status = (answer.get("data") or {}).get("status") if isinstance(answer.get("data"), dict) else None
    status = status if isinstance(status, int) else response.status
    if status in (401, 403):
        return AdminAuthError(
            f"WooCommerce refused the consumer key ({code}, HTTP {status}): reconnect the source", status
        )
    return WooCommerceApiError(
        f"WooCommerce refused the request ({code}, HTTP {status}): {message}", code, status
    )
