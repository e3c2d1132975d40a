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
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from patron import stack

log = logging.getLogger("patron.local")

# The embedded SES verifies this sender at start-up, so a campaign or a flow on the
# local stack sends (`patron workspace messaging -w WS --sender hello@demo-books.example`).
DEMO_SENDER = "hello@demo-books.example"
MEMORY_NOTE = "data lives in memory: everything is gone when the stack stops"


class LocalStackError(SystemExit):
    """Why the local stack cannot start or cannot be reached: one line, exit status 1."""


def state_dir() -> Path:
    """Where the running local stack records how to reach it, one per user, so the CLI finds
    it from any directory: PATRON_STATE_DIR (PATRON_HOME, its older name), else
    $XDG_STATE_HOME/patron, else ~/.local/state/patron."""
    for name in ("PATRON_STATE_DIR", "PATRON_HOME"):
        if os.environ.get(name):
            return Path(os.environ[name]).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state") / "patron"


def state_file() -> Path:
    return state_dir() / "local.json"


def _read_state(path: Path) -> dict[str, Any] | None:
    """The recorded stack, or None; an unreadable record counts as a stale one."""
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return dict(state) if isinstance(state, dict) else {}


def _ports(state: dict[str, Any]) -> set[int]:
    found = set()
    for key in ("api_url", "aws_url", "webhook_url"):
        try:
            port = urlsplit(str(state.get(key, ""))).port
        except ValueError:
            port = None
        if port:
            found.add(port)
    return found


def port_open(port: int) -> bool:
    """Something accepts connections on 127.0.0.1:port."""
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def port_free(port: int) -> bool:
    """127.0.0.1:port can be listened on (as the stack's servers bind: SO_REUSEADDR, so a
    port a stopped stack left in TIME_WAIT counts as free)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _pid_alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _alive(state: dict[str, Any]) -> bool:
    """The recorded process still runs and still answers on the API and the embedded AWS."""
    for key in ("api_url", "aws_url"):
        try:
            port = urlsplit(str(state.get(key, ""))).port
        except ValueError:
            return False
        if not port or not port_open(port):
            return False
    return _pid_alive(state.get("pid"))


def running_stack() -> dict[str, Any]:
    """The running local stack's connection details (api_url, webhook_url, aws_url, stage,
    region, pid): how every CLI command finds it. A record whose stack is gone (killed,
    or its ports closed) is removed and reported in one line."""
    path = state_file()
    state = _read_state(path)
    if state is None:
        raise LocalStackError(
            "no local stack is running: start one with `patron local` "
            "(or pass --stage STAGE for a deployed stage)"
        )
    if not _alive(state):
        path.unlink(missing_ok=True)
        raise LocalStackError(
            f"the local stack recorded in {path} is not running: start it with patron local"
        )
    return state


attach = running_stack  # the name CLI commands have used


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
    """Chalice's request handler without a log line per request, and with a 404 in the
    app's error shape for a path no route matches (Chalice's local gateway answers 403
    with an AWS signing error that echoes the caller's Authorization header back)."""
    from http.server import BaseHTTPRequestHandler

    from chalice.local import ChaliceRequestHandler, LocalGateway

    class Gateway(LocalGateway):
        def handle_request(self, method: str, path: str, headers: Any, body: Any) -> Any:
            try:
                self._generate_lambda_event(method, path, headers, body)
            except ValueError:  # no route matches the path
                message = {"error": "not_found", "message": f"no API route matches {urlsplit(path).path}"}
                return {
                    "statusCode": 404,
                    "headers": {"Content-Type": "application/json"},
                    "multiValueHeaders": {},
                    "body": json.dumps(message),
                }
            return super().handle_request(method, path, headers, body)

    class Quiet(ChaliceRequestHandler):
        def __init__(
            self, request: Any, client_address: Any, server: Any, app_object: Any, config: Any
        ) -> None:
            self.local_gateway = Gateway(app_object, config)
            BaseHTTPRequestHandler.__init__(self, request, client_address, server)

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
        self,
        port: int = 8000,
        aws_port: int = 5000,
        stage: str = "local",
        url_port: int = 0,
        record: bool = True,
    ) -> None:
        self.port = port
        # record in the state file, for the CLI (a benchmark's private stack does not)
        self.record = record
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

    def preflight(self) -> None:
        """Refuse to start, in one line, before anything is started or called: when a port is
        taken (a second stack would otherwise wait forever for its embedded AWS while
        talking to the first one's), or when the state file records a stack still running.
        A record whose stack is gone is removed."""
        path = state_file()
        state = _read_state(path)
        live = state if state is not None and _alive(state) else None
        if self.record and state is not None and live is None:
            path.unlink(missing_ok=True)
        for port, what, option in (
            (self.port, "the API", "--port"),
            (self.aws_port, "the embedded AWS", "--aws-port"),
            (self.url_port, "the webhook Function URL", None),
        ):
            if port and not port_free(port):
                owner = (
                    f"the local stack recorded in {path} (pid {live.get('pid')}, {live.get('api_url')})"
                    if live is not None and port in _ports(live)
                    else "another program"
                )
                fix = f"stop it, or pass another {option}" if option else "stop it"
                raise LocalStackError(f"port {port} (for {what}) is in use by {owner}: {fix}")
        if self.record and live is not None:
            raise LocalStackError(
                f"a local stack is already running ({live.get('api_url')}, pid {live.get('pid')}, "
                f"recorded in {path}): stop it, or set PATRON_STATE_DIR to record a second one elsewhere"
            )

    def start(self) -> LocalStack:
        self.preflight()
        isolate_from_real_aws()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._moto = _atomic_moto_server(self.aws_port)
        self._moto.start()
        from patron.harness import Harness

        self.harness = Harness(stage=self.stage, endpoint_url=self.aws_url, public_url=self.api_url)
        # the demo sender, verified in the embedded SES: campaigns and flows send locally
        self.harness.client("ses").verify_email_identity(EmailAddress=DEMO_SENDER)
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
        if self.record:
            state = state_file()
            state.parent.mkdir(parents=True, exist_ok=True)
            written = state.with_name(f".{state.name}.{os.getpid()}")
            written.write_text(
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
            written.replace(state)  # whole, or not at all, for a CLI reading it meanwhile
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
        if self.stop_event.is_set():  # stopped already
            return
        self.stop_event.set()
        if self._http is not None:
            self._http.shutdown()
        if self._url is not None:
            self._url.stop()
        if self._moto is not None:
            self._moto.stop()
        state = state_file()
        if self.record and (_read_state(state) or {}).get("pid") == os.getpid():  # ours only
            state.unlink(missing_ok=True)


def serve(port: int, aws_port: int) -> int:
    local = LocalStack(port=port, aws_port=aws_port).start()
    print(
        f"webhooks {local.webhook_url}/webhooks/{{shopify,woocommerce,generic}} (the Function URL)",
        flush=True,
    )
    print(f"sender {DEMO_SENDER} verified in the embedded SES", flush=True)
    print(f"{MEMORY_NOTE}; the CLI finds this stack through {state_file()}", flush=True)
    print(f"ready {local.api_url}", flush=True)
    print(f"embedded AWS at {local.aws_url}; Ctrl-C stops", flush=True)
    serve_until_stopped(local)
    print("stopped", flush=True)
    return 0


def serve_until_stopped(local: LocalStack) -> None:
    """Keep the started stack serving until Ctrl-C or SIGTERM, then stop it."""
    stopped = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stopped.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        # Wake now and then: a signal the kernel hands to another thread (a burst leaves many)
        # runs its Python handler only when the main thread runs, not while it blocks for good.
        while not stopped.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        local.stop()


def record_console(workspace_id: str, api_key: str) -> None:
    """Add the demo workspace's key to this process's stack record (only its owner reads it:
    0600), so `patron console` can print a key that signs in; the key dies with the stack."""
    path = state_file()
    state = _read_state(path)
    if not state or state.get("pid") != os.getpid():
        return
    written = path.with_name(f".{path.name}.{os.getpid()}")
    written.touch(mode=0o600)
    written.chmod(0o600)
    written.write_text(json.dumps({**state, "console": {"workspace_id": workspace_id, "api_key": api_key}}))
    written.replace(path)
