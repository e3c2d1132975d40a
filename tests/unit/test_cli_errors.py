"""The CLI as a user meets it when something is wrong: one clear line on stderr and a
non-zero exit, never a traceback unless --debug (click's CliRunner, and real runs)."""

from __future__ import annotations

import io
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

import patron.cli
from chalicelib.domain.errors import BadRequest
from tests.cli_runs import run

KNOWN = "ws_known"


class FakeWorkspaces:
    """The workspace store as the CLI reads it: settings (one GetItem) and the ids."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.reads: list[str] = []

    def settings(self, workspace_id: str) -> Any:
        if self.error:
            raise self.error
        self.reads.append(workspace_id)
        if workspace_id != KNOWN:
            return None
        return SimpleNamespace(workspace_id=KNOWN, name="Known", currency="USD", rates={}, sender_email="")

    def workspace_ids(self) -> list[str]:
        return [KNOWN]


class Recorder:
    """Any service: records the calls made to it, answers with `answer`."""

    def __init__(self, answer: Any = None, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.answer, self.error = answer, error

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args))
            if self.error:
                raise self.error
            return self.answer

        return call


def fake_container(**services: Any) -> Any:
    return SimpleNamespace(workspaces=services.pop("workspaces", FakeWorkspaces()), **services)


@pytest.fixture
def on(monkeypatch: pytest.MonkeyPatch):
    """Point the CLI at a fake container; returns it."""

    def use(found: Any) -> Any:
        monkeypatch.setattr(patron.cli, "_container", lambda args: found)
        return found

    return use


def test_a_command_on_an_unknown_workspace_says_so_and_writes_nothing(on):
    # Given a stack without the workspace ws_doesnotexist
    segments = Recorder({"segment_id": "seg1"})
    on(fake_container(segments=segments))
    # When a segment is created in it
    result = run("segment", "create", "-w", "ws_doesnotexist", "vips", "orders_count >= 3")
    # Then one line says the workspace is not found and how to list them, exit 1, nothing written
    assert result.exit_code == 1
    assert result.stderr == "error: workspace ws_doesnotexist not found (patron workspace list)\n"
    assert segments.calls == []


def test_set_rate_on_an_unknown_workspace_is_one_line_not_a_conditional_check_traceback(on):
    # Given a store whose conditional write fails for a workspace that does not exist
    failed = ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "x"}}, "UpdateItem")
    tenancy = Recorder(error=failed)
    on(fake_container(tenancy=tenancy))
    # When the rate is set, with the old positional workspace and with -w
    old = run("workspace", "set-rate", "ws_doesnotexist", "EUR", "1.08")
    new = run("workspace", "set-rate", "-w", "ws_doesnotexist", "EUR", "1.08")
    # Then both end in the one line, exit 1, before any write
    for result in (old, new):
        assert result.exit_code == 1
        assert (
            result.stderr.splitlines()[-1]
            == "error: workspace ws_doesnotexist not found (patron workspace list)"
        )
        assert "Traceback" not in result.stderr
    assert tenancy.calls == []


def test_every_command_taking_a_workspace_checks_it_first(on):
    # Given a stack with only ws_known
    workspaces = FakeWorkspaces()
    on(fake_container(workspaces=workspaces))
    commands = [
        ["workspace", "show"],
        ["workspace", "sending"],
        ["workspace", "messaging", "--notify", "shipped"],
        ["source", "add", "--platform", "shopify", "--shop-domain", "a.myshopify.com", "--secret", "s" * 20],
        ["source", "update", "src_1"],
        ["source", "rotate-secret", "src_1", "--finish"],
        ["segment", "list"],
        ["segment", "show", "seg1"],
        ["segment", "members", "seg1"],
        ["segment", "export", "seg1"],
        ["template", "list"],
        ["template", "save", "t1", "--name", "T"],
        ["template", "preview", "t1", "--customer", "c1"],
        ["template", "test-send", "t1", "--customer", "c1", "--to", "a@example.com"],
        ["flow", "list"],
        ["flow", "runs", "--customer", "c1"],
        ["flow", "dry-run", "f1", "--customer", "c1"],
        ["campaign", "list"],
        ["campaign", "show", "cmp1"],
        ["campaign", "create", "--name", "N", "--segment", "lifecycle:active", "--variant", "a=t1"],
        ["stats"],
        ["customers", "show", "c1"],
        ["customers", "erase", "c1"],
        ["customers", "export", "c1"],
        ["privacy", "list"],
        ["privacy", "export", "req1"],
        ["privacy", "erase-source", "src_1"],
        ["quarantine", "list"],
        ["quarantine", "replay", "q1"],
        ["report"],
        ["merges", "list"],
        ["phones", "renormalize"],
    ]
    for command in commands:
        # When each is run on ws_nope
        result = run(*command, "-w", "ws_nope")
        # Then each says the workspace is not found, exit 1
        assert (result.exit_code, result.stderr) == (
            1,
            "error: workspace ws_nope not found (patron workspace list)\n",
        ), command
    assert set(workspaces.reads) == {"ws_nope"}


def test_a_missing_flow_file_is_one_line(on, tmp_path):
    # Given no file flows/nope.json
    flows = Recorder({"flow_id": "f", "version": 1})
    on(fake_container(flows=flows))
    # When it is applied
    result = run("flow", "apply", "-w", KNOWN, str(tmp_path / "flows" / "nope.json"))
    # Then one line names it, exit 1, nothing applied
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path / 'flows' / 'nope.json'}: no such file or directory\n"
    assert flows.calls == []


def test_a_missing_replay_body_is_one_line(on):
    on(fake_container(quarantine=Recorder()))
    # When a quarantined delivery is replayed with a body file that does not exist
    result = run("quarantine", "replay", "q1", "--body", "/nonexistent.json")
    # Then one line names the file, exit 1
    assert (result.exit_code, result.stderr) == (1, "error: /nonexistent.json: no such file\n")


def test_a_patron_error_is_one_line_with_its_field_errors(on):
    # Given a service refusing the input
    refused = BadRequest(
        "webhook secret must be at least 16 characters", [{"field": "secret", "error": "short"}]
    )
    on(fake_container(tenancy=Recorder(error=refused)))
    # When a source is added
    result = run(
        "source", "add", "-w", KNOWN, "--platform", "shopify", "--shop-domain", "a.b", "--secret", "x"
    )
    # Then the refusal is one line, exit 2
    assert result.exit_code == 2
    assert result.stderr == "error: webhook secret must be at least 16 characters (secret: short)\n"


def test_an_unreachable_stack_is_one_line_and_the_traceback_only_with_debug(on):
    # Given a state file naming a stack that is not there any more
    gone = EndpointConnectionError(endpoint_url="http://127.0.0.1:5000/")
    on(fake_container(workspaces=FakeWorkspaces(error=gone)))
    # When a command runs, then with --debug
    plain = run("flow", "list", "-w", KNOWN)
    debug = run("--debug", "flow", "list", "-w", KNOWN)
    # Then it says where it looked and what to do, in one line; --debug adds the traceback
    expected = "error: cannot reach the stack at http://127.0.0.1:5000/: is `patron local` running?"
    assert (plain.exit_code, plain.stderr) == (1, expected + "\n")
    assert debug.exit_code == 1
    assert "Traceback" in debug.stderr and debug.stderr.splitlines()[-1] == expected


def test_an_aws_error_is_one_line(on):
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "Query")
    on(fake_container(flows=Recorder(error=denied)))
    result = run("flow", "list", "-w", KNOWN)
    assert (result.exit_code, result.stderr) == (1, "error: AWS answered AccessDenied: not allowed\n")


def test_a_usage_mistake_is_one_line(on):
    # When a required option is left out
    result = run("segment", "list")
    # Then one line says which, and where help is
    assert result.exit_code == 2
    assert result.stderr == "error: Missing option '--workspace' / '-w'. (see `patron segment list --help`)\n"


def test_a_closed_pipe_ends_quietly(on, monkeypatch, capsys):
    # Given `patron flow list | head`: the reader has gone
    on(
        fake_container(
            flows=Recorder([{"flow_id": "f", "name": "F", "version": 1, "enabled": True, "trigger": {}}])
        )
    )

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    # When the list is printed
    code = patron.cli.main(["flow", "list", "-w", KNOWN])
    # Then it ends without a traceback, with the code a shell gives a process ended by SIGPIPE
    assert code == 141
    assert capsys.readouterr().err == ""


def test_no_running_local_stack_is_one_line(monkeypatch, tmp_path):
    # Given no local stack running (an empty PATRON_HOME, and a home without state)
    for name in ("PATRON_HOME", "HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"):
        monkeypatch.setenv(name, str(tmp_path))
    monkeypatch.chdir(tmp_path)
    # When a command needs it
    result = run("workspace", "list")
    # Then one line says so and how to start one
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "patron local" in result.stderr


def patron_process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "patron", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_real_command_prints_its_version():
    done = patron_process("--version")
    assert (done.returncode, done.stdout) == (0, "patron 0.1.0\n")


def test_the_real_command_names_a_missing_file_in_one_line(tmp_path):
    missing = tmp_path / "flows" / "nope.json"
    done = patron_process("flow", "apply", "-w", "ws_x", str(missing))
    assert done.returncode == 1
    assert done.stderr == f"error: {missing}: no such file or directory\n"


def test_the_real_command_completes_in_bash():
    # When bash asks for completion as the README shows (_PATRON_COMPLETE=bash_source)
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from patron.cli import main; sys.exit(main())"],
        env={**__import__("os").environ, "_PATRON_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then it prints the completion script for `patron`
    assert done.returncode == 0
    assert "_patron_completion" in done.stdout
