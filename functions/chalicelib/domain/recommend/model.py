"""The recommender's value types (docs/recommendations.md).

Training reads `Basket`s (one counted order's kept products: refunded ones removed) and
gives a `RecommenderModel`: per product, its `ProductSignals` (bought together, bought
next with the typical gap, similar, repeat purchase), and the recent window's
popularity. Serving reads only the slices it needs (the customer's own products' signals
and the popular list) and ranks candidates into `Recommendation`s, each with its `Reason`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

DAY = 86400

ReasonKind = Literal[
    "override",  # a hand-written "after X offer Y" pair of a flow
    "repeat_due",  # the customer's own item, due again (usually every `days` days)
    "bought_next",  # usually bought `days` days after `product_id`
    "bought_together",  # bought together with `product_id`
    "similar",  # bought by the same customers as `product_id` (related)
    "popular_in_category",  # popular lately in `category`
    "popular",  # popular lately
]


@dataclass(frozen=True)
class Basket:
    """One counted order as the recommender sees it: who, when (epoch seconds, UTC) and the
    distinct products kept (a refunded product is no sign of liking)."""

    customer_id: str
    at: int
    products: tuple[str, ...]


@dataclass(frozen=True)
class Link:
    """From one product to another: `score` in [0, 1] (a conditional share: of the orders or
    customers with the first product, those with the second), `count` the orders or
    customers behind it, `gap_days` (bought next only) the median days between the two."""

    product_id: str
    score: float
    count: int
    gap_days: int | None = None


@dataclass(frozen=True)
class ProductSignals:
    """What the store's orders say about one product."""

    product_id: str
    buyers: int  # distinct customers who kept it
    category: str | None = None
    together: tuple[Link, ...] = ()  # bought in the same order (complementary), best first
    next: tuple[Link, ...] = ()  # bought in a later order (complementary, in sequence), best first
    similar: tuple[Link, ...] = ()  # bought by the same customers (related), best first
    repeat_share: float = 0.0  # of its buyers with a later order, those who bought it again
    repeat_gap_days: int | None = None  # median days between two purchases of it by one customer


@dataclass(frozen=True)
class Popular:
    """A product popular over the recent window (`score`: its recency-weighted buyers)."""

    product_id: str
    score: float
    category: str | None = None


@dataclass(frozen=True)
class RecommenderModel:
    """A workspace's trained model."""

    trained_at: datetime
    orders: int  # baskets trained on
    customers: int
    window_days: int  # popularity's recent window
    products: Mapping[str, ProductSignals] = field(default_factory=dict)
    popular: tuple[Popular, ...] = ()  # best first


@dataclass(frozen=True)
class Reason:
    """Why a product is recommended: its kind, and the anchor product, days or category
    the kind speaks of."""

    kind: ReasonKind
    product_id: str | None = None
    days: int | None = None
    category: str | None = None

    def text(self, names: Mapping[str, str] | None = None) -> str:
        """The reason in a few English words; `names` gives product titles by id."""
        anchor = (names or {}).get(self.product_id or "", self.product_id or "")
        match self.kind:
            case "override":
                return f"chosen for buyers of {anchor}"
            case "repeat_due":
                return f"due again (usually every {self.days} days)" if self.days else "due again"
            case "bought_next":
                return (
                    f"usually bought {self.days} days after {anchor}"
                    if self.days
                    else f"usually bought after {anchor}"
                )
            case "bought_together":
                return f"bought together with {anchor}"
            case "similar":
                return f"customers who bought {anchor} also bought it"
            case "popular_in_category":
                return f"popular in {self.category}"
            case _:
                return "popular with this store's customers"


@dataclass(frozen=True)
class Recommendation:
    """One ranked product with its score (higher first) and reason."""

    product_id: str
    score: float
    reason: Reason


@dataclass(frozen=True)
class RecommendedProduct:
    """A recommendation as a message or the API shows it: the catalogue's title, page,
    picture and price (None when the catalogue does not know them), and the reason."""

    product_id: str
    score: float
    reason: Reason
    reason_text: str
    source_id: str | None = None
    title: str | None = None
    url: str | None = None
    image: str | None = None
    price: Decimal | None = None  # rounded to the currency's minor units
    currency: str | None = None


@dataclass(frozen=True)
class ModelSummary:
    """What a stored model was trained on, and when (the store's `META` item)."""

    trained_at: datetime
    orders: int
    customers: int
    window_days: int
    products: int

    @classmethod
    def of(cls, model: RecommenderModel) -> ModelSummary:
        return cls(model.trained_at, model.orders, model.customers, model.window_days, len(model.products))
