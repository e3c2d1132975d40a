"""The `patron` command line (click): one module per command group, errors as one line.

`patron --debug ...` shows the traceback of an error; shell completion is click's own
(`_PATRON_COMPLETE=bash_source patron`, README)."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from patron.cli.base import CliError, Target
from patron.cli.errors import one_line


def _container(args: Target) -> Any:
    """Wiring for the stage a command acts on: the running local stack unless --stage."""
    return _connect(args)[0]


def _connect(args: Target) -> tuple[Any, Any, Any]:
    """(container, stack info, client factory) for the local stack or --stage."""
    from patron.cli.connect import connect

    return connect(args.stage)


class PatronGroup(click.Group):
    """The root group: every error, a usage mistake included, ends in one line on stderr and a
    non-zero exit; `--debug` adds the traceback."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv or bool(os.environ.get("PATRON_DEBUG"))
        try:
            rv = super().main(
                argv,
                prog_name=prog_name or "patron",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
            code = rv if isinstance(rv, int) else 0
        except _PipeClosed:
            code = _quiet_broken_pipe()
        except SystemExit as exc:
            if isinstance(exc.code, str):
                click.echo(f"error: {exc.code.removeprefix('error: ')}", err=True)
                code = 1
            else:
                code = int(exc.code or 0)
        except Exception as exc:  # noqa: BLE001 - the last net: one line, the traceback on --debug
            if debug:
                traceback.print_exc()
            message, code = one_line(exc)
            click.echo(message, err=True)
        if standalone_mode:
            sys.exit(code)
        return code

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise _PipeClosed() from None  # before click's own handling turns it into exit 1


class _PipeClosed(Exception):
    """stdout's reader left (`patron flow list | head`)."""


def _quiet_broken_pipe() -> int:
    """`patron flow list | head`: the reader left; say nothing more (no traceback at exit)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (CliRunner)
        pass
    return 141  # as a shell reports a process ended by SIGPIPE


@click.group(cls=PatronGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="patron", prog_name="patron", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="show the traceback of an error")
def cli(debug: bool) -> None:
    """Patron: serverless CRM for online stores.

    Commands act on the running local stack (`patron local`) unless given --stage.
    The workspace is `-w WS` everywhere; `--json` prints any read command's result for scripts.
    """


def _register() -> None:
    from patron.cli import (
        bench,
        campaign,
        coupons,
        customers,
        flow,
        history,
        import_products,
        loyalty_expiry,
        loyalty_liability,
        messaging,
        openapi,
        operations,
        privacy,
        quarantine,
        recommend,
        recommend_api,
        sales,
        segment,
        service,
        service_csat,
        source,
        stack_cmds,
        template,
        tickets,
        workspace,
    )

    for module in (
        stack_cmds,
        workspace,
        source,
        segment,
        template,
        flow,
        coupons,
        campaign,
        messaging,
        customers,
        privacy,
        quarantine,
        history,
        operations,
        openapi,
        bench,
        import_products,
        loyalty_expiry,
        loyalty_liability,
        tickets,
        service_csat,
        service,
        sales,
        recommend,
        recommend_api,
    ):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> int:
    """The `patron` entry point; returns the exit code (tests call it with a list)."""
    return int(cli.main(argv, prog_name="patron", standalone_mode=False))


__all__ = ["CliError", "cli", "main"]

if __name__ == "__main__":
    sys.exit(main())
