"""`patron recommend ...`: product recommendations (docs/recommendations.md). This file
holds the group and `train`; other commands join the group from their own modules
(recommend_api.py: a customer's, a product's, the placements)."""

from __future__ import annotations

import click

from patron.cli.base import json_option, print_json, stage_option, workspace_container, workspace_option


@click.group("recommend")
def recommend() -> None:
    """Product recommendations: the model trained from the orders, a customer's, a product's,
    the placements' settings."""


@recommend.command("train")
@workspace_option()
@json_option
@stage_option
def train(workspace: str, as_json: bool, stage: str | None) -> None:
    """Train the workspace's model now, as the daily `recommend_train` job does (which still
    runs today: unchanged products are not written again). Prints the orders and customers
    trained on, the products modelled and the items written."""
    from chalicelib.domain.models import now_utc

    print_json(
        workspace_container(workspace).recommend_training.train_now(workspace, now_utc()), compact=as_json
    )


recommend_group = recommend  # the name the training part gave it
COMMANDS: list[click.Command] = [recommend]
