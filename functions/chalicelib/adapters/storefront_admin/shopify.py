"""Shopify's GraphQL Admin API: POST {shop}/admin/api/{version}/graphql.json with the custom
app's X-Shopify-Access-Token.

Rules it follows (shopify.dev/docs/api/usage/limits): every answer's
`extensions.cost.throttleStatus` (currentlyAvailable, restoreRate) and `requestedQueryCost`
say how full the bucket is; when the last query would not fit, the next one waits
(cost - available) / restoreRate seconds first. A `THROTTLED` error is waited out the same way
and tried again; other `errors` raise AdminQueryError; a mutation's `userErrors` raise
AdminUserErrors; 429 and 5xx are retried by the shared policy (Retry-After honoured); 401/403
raise AdminAuthError.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from chalicelib.adapters.storefront_admin.http import (
    HttpResponse,
    RetryPolicy,
    Transport,
    exchange,
    gave_up,
    send_once,
    urllib_transport,
)
from chalicelib.domain.store_admin import (
    AdminApiError,
    AdminAuthError,
    AdminQueryError,
    AdminUserErrors,
    ShopifyCredentials,
)


def graphql_url(shop_domain: str, api_version: str, endpoint: str | None = None) -> str:
    base = (endpoint or f"https://{shop_domain}").rstrip("/")
    return f"{base}/admin/api/{api_version}/graphql.json"


class ShopifyAdmin:
    def __init__(
        self,
        shop_domain: str,
        credentials: ShopifyCredentials,
        endpoint: str | None = None,
        policy: RetryPolicy | None = None,
        transport: Transport = urllib_transport,
    ) -> None:
        self.url = graphql_url(shop_domain, credentials.api_version, endpoint)
        self._token = credentials.access_token
        self.policy = policy or RetryPolicy()
        self._transport = transport
        self._ready_at: float | None = None  # monotonic time the bucket holds the last cost again

    def query(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of one query or mutation, waiting for the bucket and through throttling.
        One count of tries covers everything retried: THROTTLED, 429, 5xx, timeouts."""
        body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        headers = {"Content-Type": "application/json", "X-Shopify-Access-Token": self._token}
        last = "no answer"
        for attempt in range(self.policy.attempts):
            self._wait_for_bucket()
            response = send_once(self._transport, self.policy, "POST", self.url, headers, body)
            if isinstance(response, str) or response.status >= 500:
                last = response if isinstance(response, str) else f"HTTP {response.status}"
                self._back_off(attempt, None if isinstance(response, str) else response)
                continue
            answer = _answer(response)
            self._note_cost(answer)
            errors = answer.get("errors") or []
            throttled = bool(errors) and all(_code(e) == "THROTTLED" for e in errors)
            if throttled or response.status == 429:
                last = "throttled"
                if self._ready_at is None:  # no cost figures: Retry-After, else the backoff
                    self._back_off(attempt, response)
                continue
            if errors:
                raise AdminQueryError(f"Shopify refused the query: {_messages(errors)}", errors)
            data = answer.get("data")
            return data if isinstance(data, dict) else {}
        raise gave_up(self.policy, last, "POST", self.url)

    def _back_off(self, attempt: int, response: HttpResponse | None) -> None:
        """The next try waits (in _wait_for_bucket) as the policy says."""
        if attempt + 1 < self.policy.attempts:
            self._ready_at = self.policy.monotonic() + self.policy.backoff(attempt, response)

    def mutate(self, mutation: str, variables: Mapping[str, Any], field: str) -> dict[str, Any]:
        """The payload of mutation `field` (e.g. discountCodeBasicCreate); its `userErrors`
        raise AdminUserErrors."""
        payload = self.query(mutation, variables).get(field) or {}
        user_errors = payload.get("userErrors") or []
        if user_errors:
            raise AdminUserErrors(f"Shopify refused {field}: {_messages(user_errors)}", user_errors)
        return dict(payload)

    def nodes(
        self, query: str, connection: Sequence[str], variables: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every node of a connection, page after page: the query takes `$after: String` and
        selects `pageInfo { hasNextPage endCursor }` with `nodes` (or `edges { node }`) at the
        path `connection` under `data` (e.g. ("orders",))."""
        after: str | None = None
        while True:
            data: Any = self.query(query, {**(variables or {}), "after": after})
            for name in connection:
                data = (data or {}).get(name)
            if not isinstance(data, dict):
                raise AdminApiError(f"Shopify's answer has no connection at {'.'.join(connection)}")
            nodes = data.get("nodes")
            if nodes is None:
                nodes = [edge["node"] for edge in data.get("edges") or []]
            yield from nodes
            info = data.get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                return
            after = str(info["endCursor"])

    def download(self, url: str) -> bytes:
        """A file Shopify links to (a bulk operation's result): a signed URL, so no access
        token is sent; retried by the same policy through the same transport."""
        response = exchange(self._transport, self.policy, "GET", url, {})
        if response.status != 200:
            raise AdminApiError(f"Shopify's file answered HTTP {response.status}", response.status)
        return response.body

    def _wait_for_bucket(self) -> None:
        if self._ready_at is not None:
            wait = self._ready_at - self.policy.monotonic()
            self._ready_at = None
            if wait > 0:
                self.policy.sleep(wait)

    def _note_cost(self, answer: dict[str, Any]) -> None:
        """When the bucket cannot hold another query of the same cost, note when it will."""
        cost = (answer.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        try:
            requested = float(cost["requestedQueryCost"])
            available = float(status["currentlyAvailable"])
            rate = float(status["restoreRate"])
        except (KeyError, TypeError, ValueError):
            return
        if requested > available and rate > 0:
            self._ready_at = self.policy.monotonic() + (requested - available) / rate


def _answer(response: HttpResponse) -> dict[str, Any]:
    if response.status in (401, 403):
        raise AdminAuthError(
            f"Shopify refused the access token (HTTP {response.status}): reconnect the source",
            response.status,
        )
    if response.status == 429:  # its body, if any, may still say how full the bucket is
        try:
            answer = response.json()
        except AdminApiError:
            answer = None
        return answer if isinstance(answer, dict) else {}
    if response.status >= 400:
        raise AdminApiError(f"Shopify answered HTTP {response.status}", response.status)
    answer = response.json()
    if not isinstance(answer, dict):
        raise AdminApiError("Shopify's answer is not a JSON object", response.status)
    if isinstance(answer.get("errors"), str | dict):  # REST-style errors: one message
        answer["errors"] = [{"message": str(answer["errors"])}]
    return answer


def _code(error: Any) -> str | None:
    return ((error or {}).get("extensions") or {}).get("code") if isinstance(error, dict) else None


def _messages(errors: Sequence[Any]) -> str:
    """Each error as `field: message` on one line."""
    parts = []
    for error in errors:
        if not isinstance(error, dict):
            parts.append(str(error))
            continue
        where = error.get("field")
        where = ".".join(str(f) for f in where) if isinstance(where, list) else where
        message = " ".join(str(error.get("message") or error.get("code") or "error").split())
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)
