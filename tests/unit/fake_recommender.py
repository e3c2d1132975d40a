"""A `Recommender` (domain/recommend/ports.py) that answers a fixed list and records what it
was asked: the messages' tests check the placement, limit and exclusions they pass."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from chalicelib.domain.recommend.model import Reason, RecommendedProduct


class FakeRecommender:
    def __init__(self, *products: RecommendedProduct) -> None:
        self.products = list(products)
        self.calls: list[dict[str, Any]] = []

    def for_customer(
        self,
        workspace_id: str,
        customer_id: str,
        *,
        placement: str | None = None,
        limit: int = 10,
        exclude: Sequence[str] = (),
    ) -> list[RecommendedProduct]:
        self.calls.append(
            {
                "workspace_id": workspace_id,
                "customer_id": customer_id,
                "placement": placement,
                "limit": limit,
                "exclude": tuple(exclude),
            }
        )
        return [p for p in self.products if p.product_id not in exclude][:limit]


def product(
    product_id: str,
    title: str | None,
    price: str | None = "12.50",
    reason: Reason | None = None,
    url: str | None = None,
    image: str | None = None,
) -> RecommendedProduct:
    """A recommended product as the serve part fills it from the catalogue."""
    why = reason or Reason("bought_together", product_id="hook", days=None)
    return RecommendedProduct(
        product_id=product_id,
        score=0.5,
        reason=why,
        reason_text=why.text({"hook": "Fishing hook"}),
        source_id="src_1",
        title=title,
        url=url if url is not None else f"https://shop.example/products/{product_id}",
        image=image if image is not None else f"https://cdn.example/{product_id}.jpg",
        price=None if price is None else Decimal(price),
        currency="EUR" if price is not None else None,
    )
