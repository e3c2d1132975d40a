"""`patron recommend ...`: product recommendations (docs/recommendations.md). The group;
its commands live in their own modules (recommend_api.py: a customer's, a product's, the
placements)."""

from __future__ import annotations

import click


@click.group("recommend")
def recommend() -> None:
    """Product recommendations: a customer's, a product's, the placements' settings."""


COMMANDS = [recommend]
