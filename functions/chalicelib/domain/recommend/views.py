"""The recommendations as the API shows them (docs/recommendations.md, "API"): money as
text, the reason with its words."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from chalicelib.domain.recommend.model import RecommendedProduct
from chalicelib.domain.timemath import iso


class ReasonOut(BaseModel):
    """Why: the kind, the anchor product, the days and the category it speaks of, in words."""

    kind: str
    product_id: str | None = None
    days: int | None = None
    category: str | None = None
    text: str


class RecommendationItem(BaseModel):
    """One recommended product: the catalogue's title, page, picture and price (null when
    the catalogue does not know the product), its score and its reason."""

    product_id: str
    source_id: str | None = None
    title: str | None = None
    url: str | None = None
    image: str | None = None
    price: str | None = None  # a decimal string, rounded to the currency's minor units
    currency: str | None = None
    score: float
    reason: ReasonOut

    @classmethod
    def of(cls, p: RecommendedProduct) -> RecommendationItem:
        r = p.reason
        return cls(
            product_id=p.product_id,
            source_id=p.source_id,
            title=p.title,
            url=p.url,
            image=p.image,
            price=None if p.price is None else str(p.price),
            currency=p.currency,
            score=p.score,
            reason=ReasonOut(
                kind=r.kind, product_id=r.product_id, days=r.days, category=r.category, text=p.reason_text
            ),
        )


class CustomerRecommendations(BaseModel):
    """`GET /customers/{id}/recommendations`: the customer's products, best first."""

    customer_id: str
    placement: str | None = None
    trained_at: str | None = None  # ISO UTC; null before the first training
    items: list[RecommendationItem]

    @classmethod
    def of(
        cls,
        customer_id: str,
        placement: str | None,
        trained_at: datetime | None,
        found: list[RecommendedProduct],
    ) -> CustomerRecommendations:
        return cls(
            customer_id=customer_id,
            placement=placement,
            trained_at=iso(trained_at),
            items=[RecommendationItem.of(p) for p in found],
        )


class RelatedProducts(BaseModel):
    """`GET /products/{source.id}/related`: substitutes (`related`: bought by the same
    customers) and complements (`complementary`: bought together, then bought next)."""

    product_id: str
    source_id: str
    related: list[RecommendationItem]
    complementary: list[RecommendationItem]


class RecommendationsQuery(BaseModel):
    """`?placement=&limit=` (limit 1 to 50; without it the placement's, else 10)."""

    placement: str | None = Field(default=None, max_length=32)
    limit: int | None = Field(default=None, ge=1, le=50)


class RelatedQuery(BaseModel):
    """`?limit=` per list (1 to 50, default 10)."""

    limit: int = Field(default=10, ge=1, le=50)
