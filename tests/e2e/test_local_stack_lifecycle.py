"""Starting, finding and stopping the local stack as a user does: one stack per set of
ports, its record in a per-user state directory found from any directory, a dead stack
reported in one line, the demo sender verified, and a 404 for a path no route matches."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from patron.local import DEMO_SENDER, MEMORY_NOTE
from tests.e2e.test_local_stack import PATRON, free_port

pytestmark = pytest.mark.e2e
KEY = "pk_never_echo_this_key_0123456789"


def environment(state_dir: Path) -> dict[str, str]:
    env = {**os.environ, "PATRON_STATE_DIR": str(state_dir)}
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PATRON_HOME"):
        env.pop(name, None)
    return env


def patron(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """A CLI run; the timeout bounds a hang (today's second stack), it is not a timing check."""
    return subprocess.run([PATRON, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`patron local` started from one directory, its state in a directory of our choosing."""
    state_dir = tmp_path_factory.mktemp("state")
    started_in = tmp_path_factory.mktemp("started-in")
    env = environment(state_dir)
    port, aws_port = free_port(), free_port()
    process = subprocess.Popen(
        [PATRON, "local", "--port", str(port), "--aws-port", str(aws_port)],
        env=env,
        cwd=started_in,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:  # the start-up lines, up to "ready URL"
        lines.append(line)
        if line.startswith("ready "):
            break
    if lines[-1:] != [f"ready http://127.0.0.1:{port}\n"]:
        process.kill()  # no stack left behind
        process.communicate(timeout=60)
        pytest.fail("the local stack did not become ready: " + "".join(lines))
    yield {
        "env": env,
        "state_dir": state_dir,
        "started_in": started_in,
        "port": port,
        "aws_port": aws_port,
        "output": "".join(lines),
        "process": process,
    }
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 0


@pytest.mark.parametrize("taken", ["port", "aws_port"])
@pytest.mark.parametrize("command", ["local", "demo"])
def test_a_second_stack_on_a_port_in_use_exits_at_once_naming_the_port_and_the_stack(running, command, taken):
    # Given a local stack serving its API and its embedded AWS on two ports
    state = running["state_dir"] / "local.json"
    ports = {"port": free_port(), "aws_port": free_port(), taken: running[taken]}
    # When `patron local` (or `make demo`'s `patron demo`) is started on one of them
    done = patron(running["env"], command, "--port", str(ports["port"]), "--aws-port", str(ports["aws_port"]))
    # Then it exits at once, non-zero, with one line naming the port and the running stack
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"port {running[taken]} " in lines[0] and f"recorded in {state}" in lines[0]
    assert f"pid {running['process'].pid}" in lines[0]
    # And the running stack's record is untouched
    assert json.loads(state.read_text())["pid"] == running["process"].pid


def test_a_second_stack_on_other_ports_exits_too_while_the_first_is_recorded(running):
    # Given a running local stack recorded in the state directory
    # When another one is started on free ports with the same state directory
    done = patron(running["env"], "local", "--port", str(free_port()), "--aws-port", str(free_port()))
    # Then it refuses in one line, naming the running one and how to run a second
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "already running" in done.stderr and "PATRON_STATE_DIR" in done.stderr
    assert f"http://127.0.0.1:{running['port']}" in done.stderr


def test_the_state_dir_override_lets_the_cli_find_the_stack_from_any_directory(running, tmp_path):
    # Given a stack started in one directory, with PATRON_STATE_DIR set
    # Then it recorded itself there, and not in the directory it was started from
    recorded = json.loads((running["state_dir"] / "local.json").read_text())
    assert recorded["api_url"] == f"http://127.0.0.1:{running['port']}"
    assert not (running["started_in"] / ".patron").exists()
    # When a CLI command runs from another directory
    done = patron(running["env"], "outbox", "--json", cwd=tmp_path)
    # Then it reaches the stack
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), list)


def test_start_up_verifies_the_demo_sender_and_says_data_lives_in_memory(running):
    # Given a freshly started local stack, nobody having verified anything
    # When its embedded SES is asked about the demo sender
    ses = boto3.client(
        "ses",
        endpoint_url=f"http://127.0.0.1:{running['aws_port']}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    attributes = ses.get_identity_verification_attributes(Identities=[DEMO_SENDER])
    # Then it is verified, and the start-up said so, and that data is gone when it stops
    assert attributes["VerificationAttributes"][DEMO_SENDER]["VerificationStatus"] == "Success"
    assert f"sender {DEMO_SENDER} verified" in running["output"]
    assert MEMORY_NOTE in running["output"]


def test_an_unknown_api_path_answers_404_in_the_apps_shape_without_echoing_the_key(running):
    # Given a caller with a bearer key
    request = urllib.request.Request(
        f"http://127.0.0.1:{running['port']}/no/such/path?x=1", headers={"Authorization": f"Bearer {KEY}"}
    )
    # When it calls a path no route matches
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=30)
    raw = answer.value.read()
    # Then the answer is a 404 in the app's error shape, and the key is nowhere in it
    assert answer.value.code == 404
    assert json.loads(raw) == {"error": "not_found", "message": "no API route matches /no/such/path"}
    assert KEY.encode() not in raw and KEY not in str(answer.value.headers)


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("GET", "/nothing-here", 404, "not_found"),  # one segment: the app's own catch-all
        ("DELETE", "/", 404, "not_found"),
        ("PUT", "/messaging/stats", 401, "unauthorized"),  # a wrong method, but the key first
        ("POST", "/segments", 401, "unauthorized"),  # a body that is not JSON, but the key first
    ],
)
def test_the_local_stack_answers_in_the_one_error_shape(running, method, path, status, error):
    # Given a caller with an unknown key and a body that is not JSON
    request = urllib.request.Request(
        f"http://127.0.0.1:{running['port']}{path}",
        data=b"{garbage",
        method=method,
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    # When it calls the local stack over HTTP
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=30)
    raw = answer.value.read()
    # Then the answer is the status in the one error shape, and the key is nowhere in it
    assert answer.value.code == status
    body = json.loads(raw)
    assert set(body) <= {"error", "message", "details"} and body["error"] == error
    assert KEY.encode() not in raw and KEY not in str(answer.value.headers)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("who", ["process gone", "process alive, ports closed"])
def test_a_dead_stack_is_reported_in_one_line_and_its_record_removed(tmp_path, who):
    # Given a state file left by a stack that was killed (its process gone), or whose
    # recorded process runs but no longer serves (its ports closed)
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    state = state_dir / "local.json"
    port, aws_port = free_port(), free_port()
    pid = dead_pid() if who == "process gone" else os.getpid()
    state.write_text(
        json.dumps(
            {
                "api_url": f"http://127.0.0.1:{port}",
                "webhook_url": f"http://127.0.0.1:{free_port()}",
                "aws_url": f"http://127.0.0.1:{aws_port}",
                "stage": "local",
                "region": "us-east-1",
                "pid": pid,
            }
        )
    )
    # When a CLI command looks for the stack, from another directory
    done = patron(environment(state_dir), "outbox", cwd=tmp_path)
    # Then it says so in one line, with no traceback, and removes the stale record
    assert done.returncode != 0
    assert done.stderr == (
        f"error: the local stack recorded in {state} is not running: start it with patron local\n"
    )
    assert not state.exists()


def test_the_demo_kept_running_serves_its_curl_hint_until_sigterm(tmp_path):
    # Given `patron demo --keep-running` (what `make demo` runs in a terminal) on a small store
    env = environment(tmp_path / "state")
    port = free_port()
    process = subprocess.Popen(
        [
            PATRON,
            "demo",
            "--keep-running",
            "--customers",
            "5",
            "--port",
            str(port),
            "--aws-port",
            str(free_port()),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        hint, seen = "", []
        for line in process.stdout:  # the summary, then the hint, then "ready URL"
            seen.append(line)
            if line.startswith("try: curl "):
                hint = line
            if line.startswith("ready "):
                break
        assert hint, "".join(seen)
        # When the summary is done, the curl it suggests is tried, and the CLI looks for the stack
        key, url = hint.split("Bearer ")[1].split("'")[0], hint.split("'")[-2]
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            customers = json.loads(answer.read())["customers"]
        outbox = patron(env, "outbox", "--json")
        # Then the stack still serves: the customer is found, the CLI reaches the stack
        assert url.startswith(f"http://127.0.0.1:{port}/customers?email=") and len(customers) == 1
        assert outbox.returncode == 0 and json.loads(outbox.stdout), outbox.stderr
        # And SIGTERM stops it cleanly, its state record removed
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
        assert process.returncode == 0
        assert not (tmp_path / "state" / "local.json").exists()
    finally:  # a failed step leaves no stack behind
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=60)
