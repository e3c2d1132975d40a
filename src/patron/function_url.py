"""The webhook function behind a local address, invoked as a Lambda Function URL invokes it.

In a region, storefronts post to the `webhook_url` function's Function URL (the default
front door, docs/webhooks.md). moto cannot create `AWS::Lambda::Url`, so the local
stack serves the same function itself: each request becomes a payload-format-2.0 event
(lower-cased headers, the body base64-encoded, as a Function URL sends a body it does
not take for text), the function's handler runs in process, and its answer
(`statusCode`, `headers`, `body`) goes back. A handler that raises answers 502, as a
Function URL does when its function fails.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger("patron.function_url")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

# Connections the kernel queues before the server accepts them. socketserver's default
# (5) made a burst of simultaneous deliveries (Shopify sends bursts) get connection
# resets; the local front doors keep this many waiting instead, one thread each once
# accepted.
LISTEN_BACKLOG = 256


class BurstServer(ThreadingHTTPServer):
    """A threaded HTTP server that queues a burst of connections instead of resetting them."""

    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True


def request_event(
    method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
) -> dict[str, Any]:
    """An HTTP request as the event a Function URL gives its function (payload 2.0)."""
    url = urlsplit(target)
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": url.path or "/",
        "rawQueryString": url.query,
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "accountId": "anonymous",
            "domainName": headers.get("Host", "127.0.0.1"),
            "http": {
                "method": method,
                "path": url.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": f"local-{now:.6f}",
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


class FunctionUrlServer:
    """`handler` (a Lambda handler) at http://127.0.0.1:<port> (0: any free port)."""

    def __init__(self, handler: Handler, function_name: str, port: int = 0) -> None:
        from patron.poller import LambdaContext

        def invoke(event: dict[str, Any]) -> dict[str, Any]:
            return handler(event, LambdaContext(function_name, memory_limit_in_mb=256, timeout_ms=10_000))

        class Request(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                event = request_event(
                    self.command, self.path, dict(self.headers), body, self.client_address[0]
                )
                try:
                    response = invoke(event)
                except Exception:  # the function failed: logged, and 502 as a Function URL answers
                    log.exception("the function behind the local Function URL failed")
                    response = {"statusCode": 502, "body": '{"message":"Internal Server Error"}'}
                payload = str(response.get("body") or "")
                raw = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
                self.send_response(int(response.get("statusCode", 200)))
                headers = {"Content-Type": "application/json"} | dict(response.get("headers") or {})
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "connection"):
                        self.send_header(name, str(value))
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet, like the local API server

        self._server = BurstServer(("127.0.0.1", port), Request)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FunctionUrlServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="function-url", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
