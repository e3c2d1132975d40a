"""The CLI as a user runs it, in process (click's CliRunner): `run("workspace", "list")`."""

from __future__ import annotations

from click.testing import CliRunner, Result

import patron.cli


def run(*args: str) -> Result:
    return CliRunner().invoke(patron.cli.cli, list(args), prog_name="patron")
