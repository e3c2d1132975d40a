"""The CLI's conventions, read off the commands themselves: help on every option, `--json` on
every read command, `-w WS` everywhere (the old positional form still taken), campaign ids as
`campaign list` shows them, and a README walkthrough that works as written."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import click
import pytest

import patron.cli
from tests.cli_runs import run
from tests.unit.test_cli_errors import KNOWN, FakeWorkspaces, Recorder, fake_container

README = Path(__file__).resolve().parents[2] / "README.md"

READ_COMMANDS = [
    "workspace list",
    "workspace show",
    "segment list",
    "segment show",
    "segment members",
    "template list",
    "template preview",
    "flow list",
    "flow dry-run",
    "flow runs",
    "campaign list",
    "campaign show",
    "stats",
    "outbox",
    "customers show",
    "privacy list",
    "privacy export",
    "quarantine list",
    "report",
    "merges list",
    "dlq list",
    "model fit",
    "bench ingest",
    "bench import",
    "bench segments",
    "bench model",
    "bench freshness",
    "bench campaign",
    "bench report",
    "bench cost",
    "bench points",
]


def commands(group: click.Group = patron.cli.cli, path: str = "") -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        full = f"{path} {name}".strip()
        if isinstance(command, click.Group):
            found.update(commands(command, full))
        else:
            found[full] = command
    return found


@pytest.fixture
def on(monkeypatch: pytest.MonkeyPatch):
    def use(found: Any) -> Any:
        monkeypatch.setattr(patron.cli, "_container", lambda args: found)
        return found

    return use


def test_every_option_has_help_text():
    # Given every command of the CLI
    found = commands()
    # Then each of its options says what it is for
    missing = [
        f"{name} {opt.opts[0]}"
        for name, command in found.items()
        for opt in command.params
        if isinstance(opt, click.Option) and not opt.help and opt.name != "help"
    ]
    assert missing == []
    assert all(command.help for command in found.values())


def test_every_read_command_takes_json():
    found = commands()
    assert [c for c in READ_COMMANDS if "as_json" not in {p.name for p in found[c].params}] == []


def test_the_workspace_is_dash_w_everywhere():
    # Given every command that acts on one workspace
    found = commands()
    named = {name for name, c in found.items() for p in c.params if p.name == "workspace"}
    # Then it is the option -w/--workspace, never a positional argument
    for name in named:
        (param,) = [p for p in found[name].params if p.name == "workspace"]
        assert isinstance(param, click.Option) and param.opts == ["--workspace", "-w"], name
    assert {"workspace show", "workspace set-rate", "source add", "workspace messaging", "stats"} <= named


def test_the_old_positional_workspace_still_works_with_a_note(on):
    tenancy = Recorder()
    on(fake_container(tenancy=tenancy))
    # When set-rate is given the workspace the old way
    result = run("workspace", "set-rate", KNOWN, "EUR", "1.08")
    # Then it is set, and a note says the new form
    assert result.exit_code == 0, result.stderr
    assert tenancy.calls == [("set_rate", (KNOWN, "EUR", "1.08"))]
    assert result.stderr == f"note: the workspace as first argument is deprecated; use -w {KNOWN}\n"


def test_workspace_list_shows_every_workspace(on):
    on(fake_container(workspaces=FakeWorkspaces()))
    as_json = run("workspace", "list", "--json")
    table = run("workspace", "list")
    assert (
        as_json.stdout
        == '{"workspaces": [{"workspace_id": "ws_known", "name": "Known", "currency": "USD"}]}\n'
    )
    assert KNOWN in table.stdout and "Known" in table.stdout


def test_stats_take_the_campaign_id_campaign_list_shows(on):
    report = SimpleNamespace(model_dump=lambda mode: {"scopes": []}, scopes=[], currency="USD")
    stats = Recorder(report)
    on(fake_container(messaging_stats=stats))
    # When stats are asked by campaign id, by scope with the bare id, and by scope camp#ID
    for args in (["--campaign", "cmp0a1b"], ["--scope", "cmp0a1b"], ["--scope", "camp#cmp0a1b"]):
        assert run("stats", "-w", KNOWN, *args, "--json").exit_code == 0
    # Then each reads the campaign's scope
    assert stats.calls == [("report", (KNOWN, "camp#cmp0a1b"))] * 3


def test_campaign_commands_take_the_listed_id_and_the_scope_form(on):
    campaigns = Recorder({"campaign_id": "cmp0a1b", "status": "paused"})
    on(fake_container(campaigns=campaigns))
    assert run("campaign", "pause", "-w", KNOWN, "cmp0a1b").exit_code == 0
    assert run("campaign", "show", "-w", KNOWN, "camp#cmp0a1b").exit_code == 0
    assert campaigns.calls == [("pause", (KNOWN, "cmp0a1b")), ("progress", (KNOWN, "cmp0a1b"))]


def test_source_add_help_states_the_secret_rules():
    result = run("source", "add", "--help")
    assert "at least 16 characters" in " ".join(result.stdout.split())


def test_the_readme_walkthrough_uses_a_valid_secret_and_a_snippet_that_ends_in_a_line():
    text = README.read_text()
    # Given the README's walkthrough: the source it adds, and the webhook snippet that follows
    (secret,) = set(re.findall(r"bin/patron source add .*--secret (\S+)", text))
    snippet = text[text.index("<<'PY'") : text.index("\nPY\n")]
    # Then the secret is one `source add` accepts, the snippet signs with it,
    # and a refused delivery prints its status and answer instead of a traceback
    assert len(secret) >= 16
    assert f'"{secret}"' in snippet
    assert "except urllib.error.HTTPError" in snippet
    # and the commands are in the one convention, -w WS
    walkthrough = text[text.index("## Using the local stack") : text.index("## Admin API")]
    assert not re.search(r"patron (source add|workspace set-rate|workspace show) ws_", walkthrough)
