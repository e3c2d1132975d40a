"""`patron local`: the whole stack in one process on a laptop.

- moto server on 127.0.0.1 as the embedded AWS,
- infra/resources.json provisioned into it through CloudFormation,
- the Chalice app served over HTTP (Chalice's own local server),
- a poller reading the real DynamoDB Streams API and invoking the stream handler
  as Lambda does,
- the app's scheduled functions run at their rate.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from patron import stack

log = logging.getLogger("patron.local")


def state_file() -> Path:
    """Where the running local stack says how to reach it (PATRON_HOME, default ./.patron)."""
    return Path(os.environ.get("PATRON_HOME", Path.cwd() / ".patron")) / "local.json"


LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def isolate_from_real_aws() -> None:
    """The local stack signs with fake keys and talks to loopback only."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(LOCAL_ENV)


def _quiet_handler() -> Any:
    """Chalice's request handler without a log line per request."""
    from chalice.local import ChaliceRequestHandler

    class Quiet(ChaliceRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

    return Quiet


def _burst_server() -> Any:
    """Chalice's threaded local server with the front doors' listen backlog (a burst of
    deliveries waits to be accepted instead of being reset; see patron/function_url.py)."""
    from chalice.local import ThreadedHTTPServer

    from patron.function_url import LISTEN_BACKLOG

    class Burst(ThreadedHTTPServer):
        request_queue_size = LISTEN_BACKLOG

    return Burst


def _atomic_moto_server(port: int) -> Any:
    """moto's threaded server on 127.0.0.1, one request at a time.

    DynamoDB evaluates a condition and applies its update atomically; moto's backends
    do not lock, so two concurrent conditional writes to one item could both pass.
    Serializing requests gives the local stack the guarantee the real service gives.
    """
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from patron import motofast, sesv2_bulk
    from patron.outbox import PATH, OutboxRecorder

    motofast.install()
    sesv2_bulk.install()  # SES v2 SendBulkEmail, with each recipient's headers
    lock = threading.Lock()
    outbox = OutboxRecorder()  # what SES and SNS sent, for `patron outbox` (patron/outbox.py)

    class Atomic(ThreadedMotoServer):
        def _server_entry(self) -> None:
            dispatcher = DomainDispatcherApplication(create_backend_app)

            def app(environ: Any, start_response: Any) -> Any:
                if environ.get("PATH_INFO") == PATH:
                    return outbox.respond(environ, start_response)
                with lock:
                    body = outbox.capture(environ)
                    answer = list(dispatcher(environ, start_response))
                    outbox.observe(environ, body)
                    return answer

            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    return Atomic(ip_address="127.0.0.1", port=port, verbose=False)


@dataclass
class _Job:
    name: str
    every: float
    due: float


def scheduled_jobs() -> list[tuple[str, int]]:
    """(name, every N seconds) of the app's `@schedule` handlers with a rate expression."""
    from chalice.app import ScheduledEventConfig

    found = []
    for source in stack.load_app().event_sources:
        if isinstance(source, ScheduledEventConfig):
            expression = source.schedule_expression
            # chalice's Rate and Cron objects render through to_string(); str() is their repr
            text = expression.to_string() if hasattr(expression, "to_string") else str(expression)
            match = _RATE.match(text)
            if match:
                found.append((source.name, int(match.group(1)) * _UNIT[match.group(2)]))
    return found


class LocalStack:
    def __init__(
        self, port: int = 8000, aws_port: int = 5000, stage: str = "local", url_port: int = 0
    ) -> None:
        self.port = port
        self.aws_port = aws_port
        self.url_port = url_port  # the webhook function's local Function URL (0: any free port)
        self._url: Any = None
        self.stage = stage
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self._moto: Any = None
        self._http: Any = None
        self.harness: Any = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook_url(self) -> str:
        """The default front door: the `webhook_url` function as its Function URL runs it
        (POST <this>/webhooks/{shopify,woocommerce,generic})."""
        if self._url is None:
            raise RuntimeError("the local stack is not started")
        return str(self._url.url)

    @property
    def aws_url(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    def start(self) -> LocalStack:
        isolate_from_real_aws()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._moto = _atomic_moto_server(self.aws_port)
        self._moto.start()
        from patron.harness import Harness

        self.harness = Harness(stage=self.stage, endpoint_url=self.aws_url, public_url=self.api_url)
        self._serve_http()
        from chalicelib.handlers.webhooks import webhook_url
        from patron.function_url import FunctionUrlServer

        self._url = FunctionUrlServer(webhook_url, "webhook_url", self.url_port).start()
        self._spawn("stream-poller", lambda: self.harness.poller.run(self.stop_event, 0.25))
        if self.harness.profile_poller is not None:
            self._spawn("profile-poller", lambda: self.harness.profile_poller.run(self.stop_event, 0.25))
        if self.harness.campaign_poller is not None:
            self._spawn("campaign-poller", lambda: self.harness.campaign_poller.run(self.stop_event, 0.25))
        self._spawn("scheduler", self._run_schedules)
        state = state_file()
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(
            json.dumps(
                {
                    "api_url": self.api_url,
                    "webhook_url": self.webhook_url,
                    "aws_url": self.aws_url,
                    "stage": self.stage,
                    "region": self.harness.region,
                    "pid": os.getpid(),
                }
            )
        )
        return self

    def _serve_http(self) -> None:
        from chalice import local as chalice_local
        from chalice.cli.factory import CLIFactory

        factory = CLIFactory(project_dir=str(stack.FUNCTIONS))
        app = factory.load_chalice_app()
        config = factory.create_config_obj(chalice_stage_name=self.stage)
        # As chalice.local.create_local_server, with a request handler that keeps quiet.
        chalice_local.CustomLocalChalice.__bases__ = (chalice_local.LocalChalice, app.__class__)
        app.__class__ = chalice_local.CustomLocalChalice
        self._http = chalice_local.LocalDevServer(
            app, config, "127.0.0.1", self.port, handler_cls=_quiet_handler(), server_cls=_burst_server()
        )
        self._spawn("http", self._http.server.serve_forever)

    def _spawn(self, name: str, target: Any) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _run_schedules(self) -> None:
        """Run every @app.schedule handler at its rate (EventBridge does this in a region)."""

        jobs = [_Job(name, seconds, time.monotonic() + seconds) for name, seconds in scheduled_jobs()]
        while not self.stop_event.wait(1.0):
            for job in jobs:
                if time.monotonic() >= job.due:
                    job.due = time.monotonic() + job.every
                    try:
                        self.run_schedule(job.name)
                    except Exception:  # as EventBridge: logged, and the next run still comes
                        logging.getLogger("patron.local").exception("scheduled job %s failed", job.name)

    def run_schedule(self, name: str) -> Any:
        from patron.poller import LambdaContext

        app = stack.load_app()
        for source in app.event_sources:
            if source.name == name:
                module = __import__(source.handler_string.rsplit(".", 1)[0], fromlist=["_"])
                handler = getattr(module, source.handler_string.rsplit(".", 1)[1])
                event = {
                    "version": "0",
                    "id": str(uuid.uuid4()),
                    "detail-type": "Scheduled Event",
                    "source": "aws.events",
                    "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "resources": [f"arn:aws:events:us-east-1:123456789012:rule/patron-local-{name}"],
                    "detail": {},
                    "region": "us-east-1",
                    "account": "123456789012",
                }
                # the function's own timeout (chalice.json): jobs that work to a time budget use it
                config = json.loads((stack.ROOT / "chalice.json").read_text())["lambda_functions"]
                timeout_ms = int(config.get(name, {}).get("lambda_timeout", 60)) * 1000
                return handler(event, LambdaContext(name, timeout_ms=timeout_ms))
        raise KeyError(name)

    def wait_idle(self, timeout: float = 300.0) -> bool:
        """Block until the stream poller has caught up with everything written so far."""
        pollers = self.harness.pollers
        starts = [p.stats.empty_polls for p in pollers]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # two rounds in a row found nothing new, on every stream
            if all(p.stats.empty_polls >= s + 2 for p, s in zip(pollers, starts, strict=True)):
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        self.stop_event.set()
        if self._http is not None:
            self._http.shutdown()
        if self._url is not None:
            self._url.stop()
        if self._moto is not None:
            self._moto.stop()
        state = state_file()
        if state.exists():
            state.unlink()


def serve(port: int, aws_port: int) -> int:
    local = LocalStack(port=port, aws_port=aws_port).start()
    stopped = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(
        f"webhooks {local.webhook_url}/webhooks/{{shopify,woocommerce,generic}} (the Function URL)",
        flush=True,
    )
    print(f"ready {local.api_url}", flush=True)
    print(f"embedded AWS at {local.aws_url}; Ctrl-C stops", flush=True)
    # Wake now and then: a signal the kernel hands to another thread (a burst leaves many)
    # runs its Python handler only when the main thread runs, not while it blocks for good.
    while not stopped.wait(0.5):
        pass
    local.stop()
    print("stopped", flush=True)
    return 0


def attach() -> dict[str, Any]:
    """Connection details of the running local stack (for CLI commands)."""
    state = state_file()
    if not state.exists():
        raise SystemExit(
            "no local stack is running: start one with `patron local` "
            "(or pass --stage STAGE for a deployed stage)"
        )
    return dict(json.loads(state.read_text()))
