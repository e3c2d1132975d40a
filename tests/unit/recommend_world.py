"""A small store for the recommendation service's unit tests: in-memory customers, catalogue,
sources, workspace and placements, and a model with planted signals (a series, an
accessory, a consumable, popular products)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from chalicelib.domain.catalogue import StoredProduct
from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry
from chalicelib.domain.models import Product, ProductVariant
from chalicelib.domain.recommend.model import Link, Popular, ProductSignals, RecommenderModel
from chalicelib.domain.recommend.placements import (
    RecommendationSettings,
    RecommendationSettingsIn,
    StoredPlacements,
)
from chalicelib.domain.recommend.service import RecommendationService
from chalicelib.domain.workspace_settings import WorkspaceSettings
from tests.unit.fake_recommend import FakeRecommenderModels

WS = "ws_1"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
SHOP = "shop"


def at(days_ago: float) -> int:
    return int((NOW - timedelta(days=days_ago)).timestamp())


class FakeOrders:
    """Profiles by id (a merged-away id points to its survivor) and moved entries."""

    def __init__(self) -> None:
        self.profiles: dict[str, CustomerProfile] = {}
        self.pointers: dict[str, str] = {}
        self.moved: dict[str, dict[str, OrderEntry]] = {}

    def load(self, workspace_id: str, customer_id: str) -> CustomerProfile | None:
        return self.profiles.get(self.pointers.get(customer_id, customer_id))

    def moved_entries(
        self, workspace_id: str, customer_ids: list[str], keys: list[str] | None = None
    ) -> dict[str, OrderEntry]:
        out: dict[str, OrderEntry] = {}
        for cid in customer_ids:
            out |= self.moved.get(cid, {})
        return out


class FakeStoredCatalogue:
    """Stored products by (source, id); a read of more than 100 keys fails as BatchGetItem would."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], StoredProduct] = {}
        self.reads: list[int] = []

    def put(self, source_id: str, product: Product, deleted_at: str | None = None) -> None:
        self.items[(source_id, product.product_id)] = StoredProduct(
            source_id=source_id, product_id=product.product_id, product=product, deleted_at=deleted_at
        )

    def stored_products(self, workspace_id: str, refs: Sequence[tuple[str, str]]) -> list[StoredProduct]:
        if len(set(refs)) > 100:
            raise ValueError("at most 100 keys per BatchGetItem")
        self.reads.append(len(refs))
        return [self.items[r] for r in dict.fromkeys(refs) if r in self.items]


@dataclass
class FakeSources:
    ids: list[str] = field(default_factory=lambda: [SHOP])

    def source_ids(self, workspace_id: str) -> list[str]:
        return list(self.ids)


@dataclass
class FakeWorkspace:
    currency: str = "EUR"

    def settings(self, workspace_id: str) -> WorkspaceSettings | None:
        return WorkspaceSettings(workspace_id, currency=self.currency, id_salt="salt")

    def adopt_currency(self, workspace_id: str, currency: str) -> WorkspaceSettings:
        raise AssertionError("not used")


class FakePlacementStore:
    """recommend.placements.PlacementStore in memory, with the adapter's version rule."""

    def __init__(self) -> None:
        self.stored: dict[str, StoredPlacements] = {}
        self.by: dict[str, str] = {}

    def read(self, workspace_id: str) -> StoredPlacements | None:
        return self.stored.get(workspace_id)

    def write(self, workspace_id: str, settings: RecommendationSettingsIn, expected: int, by: str) -> bool:
        found = self.stored.get(workspace_id)
        if (found.version if found else 0) != expected:
            return False
        self.stored[workspace_id] = StoredPlacements(settings, expected + 1)
        self.by[workspace_id] = by
        return True


def product(
    pid: str,
    title: str,
    price: str | None = "10.00",
    *,
    currency: str | None = None,
    status: str | None = "active",
    categories: tuple[str, ...] = (),
    inventory: Sequence[int | None] = (5,),
) -> Product:
    return Product(
        product_id=pid,
        title=title,
        url=f"https://shop.example/products/{pid}",
        image=f"https://cdn.example/{pid}.jpg",
        price=Decimal(price) if price is not None else None,
        currency=currency,
        status=status,
        categories=categories,
        variants=tuple(ProductVariant(variant_id=f"{pid}-{i}", inventory=q) for i, q in enumerate(inventory)),
        updated_at=NOW - timedelta(days=100),
    )


def planted_model() -> RecommenderModel:
    """vol-1 leads to vol-2 (bought next, 20 days), is bought with a bookmark, and its
    readers also buy vol-3 (similar); coffee comes back every 10 days, tea every 60."""
    products = {
        "vol-1": ProductSignals(
            "vol-1",
            buyers=40,
            category="books",
            together=(Link("bookmark", 0.5, 20),),
            next=(Link("vol-2", 0.9, 36, gap_days=20),),
            similar=(Link("vol-3", 0.6, 24),),
        ),
        "coffee": ProductSignals(
            "coffee", buyers=30, category="grocery", repeat_share=0.8, repeat_gap_days=10
        ),
        "tea": ProductSignals("tea", buyers=10, category="grocery", repeat_share=0.5, repeat_gap_days=60),
    }
    popular = (
        Popular("mug", 9.0, "kitchen"),
        Popular("vol-2", 8.0, "books"),
        Popular("beans", 4.0, "grocery"),
    )
    return RecommenderModel(
        trained_at=NOW - timedelta(hours=3),
        orders=100,
        customers=60,
        window_days=30,
        products=products,
        popular=popular,
    )


@dataclass
class World:
    models: FakeRecommenderModels
    orders: FakeOrders
    catalogue: FakeStoredCatalogue
    sources: FakeSources
    workspace: FakeWorkspace
    placements: FakePlacementStore
    service: RecommendationService

    def customer(self, cid: str, *orders: tuple[float, list[str]], source: str = SHOP) -> None:
        """A customer whose orders (days ago, products) are in the profile."""
        entries = {
            f"{source}.{cid}-{n}": OrderEntry(version=1, placed_at=at(days), products=products)
            for n, (days, products) in enumerate(orders)
        }
        self.orders.profiles[cid] = CustomerProfile(workspace_id=WS, customer_id=cid, orders=entries)


def world(*, trained: bool = True, currency: str = "EUR", sources: Sequence[str] = (SHOP,)) -> World:
    models = FakeRecommenderModels()
    if trained:
        models.save(WS, planted_model())
    orders, catalogue, placements = FakeOrders(), FakeStoredCatalogue(), FakePlacementStore()
    found, workspace = FakeSources(list(sources)), FakeWorkspace(currency)
    service = RecommendationService(
        models=models,
        customers=orders,
        catalogue=catalogue,
        sources=found,
        workspaces=workspace,
        settings=RecommendationSettings(placements),
        clock=lambda: NOW,
    )
    return World(models, orders, catalogue, found, workspace, placements, service)


def stocked(w: World) -> World:
    """Every product of the planted model in the catalogue, published and in stock."""
    for pid, title, cats in (
        ("vol-1", "Volume One", ("Books",)),
        ("vol-2", "Volume Two", ("Books",)),
        ("vol-3", "Volume Three", ("Books",)),
        ("bookmark", "Bookmark", ("Accessories",)),
        ("coffee", "Coffee", ()),
        ("tea", "Tea", ()),
        ("mug", "Mug", ("Kitchen",)),
        ("beans", "Beans", ()),
    ):
        w.catalogue.put(SHOP, product(pid, title, categories=cats))
    return w
