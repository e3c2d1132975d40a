"""What every command group shares: the stack a command acts on, the workspace check, output
(JSON for scripts, rich tables for people) and the one-line errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


class CliError(click.ClickException):
    """An ordinary mistake: one line on stderr and a non-zero exit, never a traceback."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Target:
    """What `_container(args)` is given: the stage a command acts on (None: the local stack)."""

    stage: str | None = None


def target() -> Target:
    """The current command's target, set by --stage (see `stage_option`)."""
    ctx = click.get_current_context()
    stage = ctx.params.get("stage")
    return Target(stage=stage)


def container() -> Any:
    """The wiring of the stage the current command acts on. Looked up on the package at call
    time, so that tests can put an in-process stage in its place (`patron.cli._container`)."""
    import patron.cli

    return patron.cli._container(target())


def connect() -> tuple[Any, Any, Any]:
    """(container, stack info, client factory) of the stage the current command acts on."""
    import patron.cli

    return patron.cli._connect(target())


# -- options -----------------------------------------------------------------------------------
def stage_option(f: F) -> F:
    return click.option(
        "--stage", metavar="STAGE", help="act on a deployed stage (default: the running local stack)"
    )(f)


def page_options(f: F) -> F:
    """`--limit` and `--cursor` of a command that prints one page of a ledger or an audit."""
    limit = click.option(
        "--limit", type=click.IntRange(1, 200), default=50, show_default=True, help="entries per page"
    )
    return limit(click.option("--cursor", metavar="C", help="the next_cursor of the page before")(f))


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="print JSON on one line (for scripts)")(f)


def workspace_option(required: bool = True) -> Callable[[F], F]:
    def decorate(f: F) -> F:
        return click.option(
            "--workspace",
            "-w",
            "workspace",
            required=required,
            metavar="WS",
            help="the workspace id (ws_..., see `patron workspace list`)",
        )(f)

    return decorate


def existing_workspace(container: Any, workspace_id: str) -> Any:
    """The workspace's settings (one GetItem), or a one-line error if there is no such workspace."""
    settings = container.workspaces.settings(workspace_id)
    if settings is None:
        raise CliError(f"workspace {workspace_id} not found (patron workspace list)")
    return settings


def workspace_container(workspace_id: str) -> Any:
    """The container, once the workspace is known to exist."""
    found = container()
    existing_workspace(found, workspace_id)
    return found


class LegacyWorkspace(click.Command):
    """A command that took the workspace as its first positional argument before `-w WS` was
    the convention: that form still works for one release, with a note on stderr."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not any(a in ("-w", "--workspace") or a.startswith(("--workspace=", "-w")) for a in args):
            valued = {
                name
                for p in self.params
                if isinstance(p, click.Option) and not p.is_flag and not p.count
                for name in p.opts
            }
            i = 0
            while i < len(args):
                token = args[i]
                if token.startswith("-"):
                    i += 2 if token in valued else 1
                    continue
                if token.startswith("ws_"):
                    args = [*args[:i], *args[i + 1 :], "--workspace", token]
                    click.echo(
                        f"note: the workspace as first argument is deprecated; use -w {token}", err=True
                    )
                break
        return super().parse_args(ctx, args)


# -- input -------------------------------------------------------------------------------------
def read_text(value: str | None) -> str:
    """A literal, or @FILE for a file's contents."""
    if value and value.startswith("@"):
        return read_file(value[1:]).decode()
    return value or ""


def read_file(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot read it ({exc.strerror})") from None


# -- output ------------------------------------------------------------------------------------
def plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value


def print_json(value: Any, compact: bool = False) -> None:
    """JSON on stdout: indented for people, one line with --json (for scripts)."""
    click.echo(json.dumps(plain(value), indent=None if compact else 2, default=str))


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A table for people (rich); scripts take --json."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")  # ids are never cut short
    for row in rows:
        table.add_row(*("-" if cell is None else str(cell) for cell in row))
    # a terminal's width; piped, wide enough for a row on one line
    width = None if sys.stdout.isatty() else 200
    Console(file=sys.stdout, width=width).print(table)
