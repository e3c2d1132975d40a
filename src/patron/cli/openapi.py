"""`patron openapi`: writes the API's OpenAPI 3.1 description (as `GET /openapi.json` serves it)
to docs/openapi.json, the committed copy a test compares with the routes."""

from __future__ import annotations

from pathlib import Path

import click

from patron.stack import ROOT

COMMITTED = ROOT / "docs" / "openapi.json"


def openapi_text() -> str:
    """The document of functions/app.py's routes, as `GET /openapi.json` answers it."""
    from chalicelib.handlers.openapi import document, dumps
    from patron.stack import load_app

    return dumps(document(load_app().routes))


@click.command("openapi")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=COMMITTED,
    show_default="docs/openapi.json",
    help="Where to write the document ('-' for stdout)",
)
def openapi(out: Path) -> None:
    """Write the API's OpenAPI 3.1 description (built from the routes' pydantic models)."""
    text = openapi_text()
    if str(out) == "-":
        click.echo(text, nl=False)
        return
    out.write_text(text)
    click.echo(f"wrote {out} ({len(text)} bytes)")


COMMANDS = [openapi]
