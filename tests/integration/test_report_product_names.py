"""The workspace report names its products from the catalogue (the fake and DynamoDB on
moto): churn points' products carry `title` and `url` beside the id, read in one batch for
the whole report; a deleted product keeps its last known title; an unknown one keeps its id
with title None."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chalicelib.adapters.catalogue_store import DynamoCatalogueStore
from chalicelib.adapters.profile_items import profile_of
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.models import Delivery, Platform, Product, ProductDeletion
from chalicelib.domain.workspace_analytics import build_report
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.unit.fake_catalogue import FakeCatalogue

__all__ = ["moto_stage"]

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)
T0 = datetime(2025, 12, 1, tzinfo=UTC)


def _dynamo(stage: MotoStage) -> DynamoCatalogueStore:
    return DynamoCatalogueStore(stage.crm)


catalogue = port_fixture(FakeCatalogue, _dynamo)


def delivery(source: str, body_hash: str) -> Delivery:
    return Delivery(
        workspace_id="ws_1",
        source_id=source,
        platform=Platform.SHOPIFY,
        topic="products/update",
        received_at=T0,
        body_hash=body_hash,
    )


def product(pid: str, title: str) -> Product:
    return Product(product_id=pid, title=title, url=f"https://demo.example/products/{pid}", updated_at=T0)


def lost_buyer(n: int, source: str, *products: str) -> CustomerProfile:
    """A customer who ordered once in January, from `source`, and never again."""
    at = int(datetime(2026, 1, 1 + n, tzinfo=UTC).timestamp())
    entries = {f"{source}.o{n}": {"v": 1, "t": at, "a": Decimal(20), "r": Decimal(0), "p": list(products)}}
    return profile_of({"ws": "ws_1", "cid": f"c_{n}", "m": False, "o": entries})


class Counting:
    """A catalogue reader that counts its batch reads."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.reads = inner, []

    def products(self, workspace_id: str, refs: Any) -> Any:
        self.reads.append(list(refs))
        return self.inner.products(workspace_id, refs)

    def product(self, *args: Any) -> Any:
        return self.inner.product(*args)


def test_churn_points_name_their_products_from_the_catalogue_in_one_read(catalogue):
    # Given six customers lost after one order each: the tee from the Shopify store, the mug
    # from the Woo store, the cup (deleted since) and a product the catalogue never heard of
    catalogue.save(delivery("shop", "h1"), product("tee", "Organic Tee"))
    catalogue.save(delivery("woo", "h2"), product("mug", "Stoneware Mug"))
    catalogue.save(delivery("shop", "h3"), product("cup", "Espresso Cup"))
    catalogue.delete(delivery("shop", "h4"), ProductDeletion(product_id="cup", at=T0))
    profiles = [
        *[lost_buyer(n, "shop", "tee", "cup", "ghost") for n in range(6)],
        *[lost_buyer(n, "woo", "mug") for n in range(6, 12)],
    ]
    reader = Counting(catalogue)

    # When the workspace's report is built
    report = build_report(profiles, START, END, workspace_id="ws_1", catalogue=reader)

    # Then each churn point's product carries its catalogue title and page beside its id
    rows = {r["product"]: r for r in report["churn_points"]["after_products"]}
    assert set(rows) == {"tee", "cup", "ghost", "mug"}
    assert (rows["tee"]["title"], rows["tee"]["url"]) == ("Organic Tee", "https://demo.example/products/tee")
    assert rows["mug"]["title"] == "Stoneware Mug"  # from its own source's catalogue
    # and the deleted cup keeps its last known title; the unknown product keeps its id alone
    assert rows["cup"]["title"] == "Espresso Cup"
    assert (rows["ghost"]["title"], rows["ghost"]["url"]) == (None, None)
    # and the catalogue was read once for the whole report, each product in its own source
    assert len(reader.reads) == 1
    assert sorted(reader.reads[0]) == [("shop", "cup"), ("shop", "ghost"), ("shop", "tee"), ("woo", "mug")]


def test_a_report_without_a_catalogue_leaves_the_titles_empty():
    # Given lost buyers of the tee and no catalogue wired
    profiles = [lost_buyer(n, "shop", "tee") for n in range(6)]
    # When the report is built
    report = build_report(profiles, START, END, workspace_id="ws_1")
    # Then the row has its id, and a null title and url
    (row,) = report["churn_points"]["after_products"]
    assert (row["product"], row["title"], row["url"]) == ("tee", None, None)
