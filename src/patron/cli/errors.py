"""Errors as one clear line: what went wrong and, where there is one, the fix."""

from __future__ import annotations

import json
from typing import Any

import click

from chalicelib.domain.errors import PatronError
from patron.cli.base import CliError

DEBUG_HINT = "(--debug shows the traceback)"


def one_line(exc: BaseException) -> tuple[str, int]:
    """(the line for stderr, the exit code) of an error that reached the command line."""
    if isinstance(exc, click.UsageError):
        where = exc.ctx.command_path if exc.ctx else "patron"
        return f"error: {exc.format_message()} (see `{where} --help`)", exc.exit_code
    if isinstance(exc, CliError):
        return f"error: {exc.format_message()}", exc.code
    if isinstance(exc, click.ClickException):
        return f"error: {exc.format_message()}", exc.exit_code
    if isinstance(exc, click.Abort):
        return "aborted", 1
    if isinstance(exc, PatronError):
        return f"error: {exc.message}{_details(exc.details)}", 2
    found = _aws(exc)
    if found:
        return found, 1
    if isinstance(exc, OSError) and exc.filename:
        return f"error: {exc.filename}: {exc.strerror or exc}", 1
    return f"error: {type(exc).__name__}: {exc} {DEBUG_HINT}", 1


def _details(details: Any) -> str:
    """A PatronError's field errors, on the same line."""
    if not details:
        return ""
    if isinstance(details, list) and all(isinstance(d, dict) for d in details):
        parts = [f"{d.get('field', '?')}: {d.get('error', d)}" for d in details]
        return f" ({'; '.join(parts)})"
    return f" ({json.dumps(details, default=str)})"


def _aws(exc: BaseException) -> str | None:
    """botocore's errors: an unreachable stack, or what AWS answered."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
    except ImportError:  # pragma: no cover - botocore is a dependency
        return None
    if isinstance(exc, EndpointConnectionError):
        url = exc.kwargs.get("endpoint_url", "")
        if "127.0.0.1" in url or "localhost" in url:
            return f"error: cannot reach the stack at {url}: is `patron local` running?"
        return f"error: cannot reach AWS at {url}: check the network and the stage's region"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "error"), error.get("Message", "")
        if code == "ConditionalCheckFailedException":
            return (
                "error: the change conflicts with what is stored (an item that is not there, or is "
                "already there: check the ids, shop domain or name you gave)"
            )
        return f"error: AWS answered {code}: {message}".rstrip(": ")
    if isinstance(exc, BotoCoreError):
        return f"error: {exc}"
    return None
