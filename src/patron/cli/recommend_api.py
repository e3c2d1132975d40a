"""`patron recommend customer|product|settings`: the CLI twins of
`GET /customers/{id}/recommendations`, `GET /products/{id}/related` and
`GET/PUT /recommendations/settings` (docs/recommendations.md, "API")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from patron.cli.base import (
    CliError,
    json_option,
    print_json,
    print_table,
    stage_option,
    workspace_container,
    workspace_option,
)
from patron.cli.recommend import recommend


def _rows(items: list[Any]) -> list[list[Any]]:
    return [
        [
            i.product_id,
            i.title,
            f"{i.price} {i.currency}" if i.price is not None else None,
            f"{i.score:.3f}",
            i.reason.text,
        ]
        for i in items
    ]


COLUMNS = ("product", "title", "price", "score", "why")


@recommend.command("customer")
@workspace_option()
@click.argument("customer_id")
@click.option("--placement", help="a placement's rules and number of products (email, sms, web, ...)")
@click.option("--limit", type=click.IntRange(1, 50), help="how many (default: the placement's, else 10)")
@json_option
@stage_option
def customer(
    workspace: str,
    customer_id: str,
    placement: str | None,
    limit: int | None,
    as_json: bool,
    stage: str | None,
) -> None:
    """A customer's recommended products, best first, with their reasons."""
    shown = workspace_container(workspace).recommender.customer(workspace, customer_id, placement, limit)
    if as_json:
        print_json(shown, compact=True)
        return
    trained = shown.trained_at or "never (popular products only, once trained)"
    print_table(f"{shown.customer_id} (model trained {trained})", COLUMNS, _rows(shown.items))


@recommend.command("product")
@workspace_option()
@click.argument("product_id", metavar="SOURCE.PID")
@click.option("--limit", type=click.IntRange(1, 50), default=10, show_default=True, help="how many per list")
@json_option
@stage_option
def product(workspace: str, product_id: str, limit: int, as_json: bool, stage: str | None) -> None:
    """A product's related (substitutes) and complementary products."""
    shown = workspace_container(workspace).recommender.related(workspace, product_id, limit)
    if as_json:
        print_json(shown, compact=True)
        return
    print_table("related", COLUMNS, _rows(shown.related))
    print_table("complementary", COLUMNS, _rows(shown.complementary))


@recommend.group("settings")
def settings() -> None:
    """The placements: their category rules and number of products."""


@settings.command("get")
@workspace_option()
@json_option
@stage_option
def get_settings(workspace: str, as_json: bool, stage: str | None) -> None:
    """The placements with their version (as GET /recommendations/settings)."""
    print_json(workspace_container(workspace).recommendation_settings.current(workspace), compact=as_json)


@settings.command("set")
@workspace_option()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--version", "expected", type=int, help="refuse unless the stored version is still this one")
@json_option
@stage_option
def set_settings(workspace: str, file: Path, expected: int | None, as_json: bool, stage: str | None) -> None:
    """Replace the placements with FILE's (JSON, as PUT /recommendations/settings)."""
    from pydantic import ValidationError

    from chalicelib.domain.recommend.placements import RecommendationSettingsIn
    from chalicelib.parsers import field_errors

    try:
        body = RecommendationSettingsIn.model_validate(json.loads(file.read_text()))
    except json.JSONDecodeError as exc:
        raise CliError(f"{file} is not JSON ({exc.msg})", 2) from exc
    except ValidationError as exc:
        problems = "; ".join(f"{e['field'] or 'settings'}: {e['error']}" for e in field_errors(exc))
        raise CliError(f"invalid recommendation settings ({problems})", 2) from exc
    written = workspace_container(workspace).recommendation_settings.replace(workspace, body, expected, "cli")
    print_json(written, compact=as_json)


COMMANDS: list[click.Command] = []  # attached to the `recommend` group above
