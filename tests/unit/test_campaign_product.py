"""A campaign's featured product on the catalogue's fake: found once, refused when unknown
or deleted, required by templates that print product.*."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import BadRequest
from chalicelib.domain.messaging.campaign_product import featured_product, uses_product
from chalicelib.domain.messaging.model import Template
from chalicelib.domain.models import Delivery, Platform, Product, ProductDeletion
from tests.unit.fake_catalogue import FakeCatalogue

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PLAIN = Template("plain", 1, subject="Hello {{ first_name }}", text="Spring sale")
FEATURE = Template(
    "feature", 1, subject="New: {{ product.title | default: 'news' }}", text="{{ product.url }}"
)


def catalogue_with_mug() -> FakeCatalogue:
    catalogue = FakeCatalogue()
    delivery = Delivery(
        workspace_id="ws_1",
        source_id="src_1",
        platform=Platform.SHOPIFY,
        topic="products/update",
        received_at=T0,
    )
    catalogue.save(
        delivery, Product(product_id="42", title="Stoneware Mug", url="https://d.example/mug", updated_at=T0)
    )
    return catalogue


def test_a_known_product_gives_its_template_values():
    # Given the mug in the catalogue
    catalogue = catalogue_with_mug()
    # When a campaign names it
    found = featured_product(catalogue, "ws_1", "src_1.42", [FEATURE])
    # Then its title and page are the campaign's product.* values (it has no picture)
    assert found is not None and found.ref == "src_1.42"
    assert found.values() == {"product.title": "Stoneware Mug", "product.url": "https://d.example/mug"}


def test_an_unknown_or_deleted_product_and_product_fields_without_one_are_refused():
    catalogue = catalogue_with_mug()
    # When a campaign names a product of another source, Then it is unknown
    with pytest.raises(BadRequest, match="not in the catalogue"):
        featured_product(catalogue, "ws_1", "src_2.42", [PLAIN])
    # When the mug is deleted, Then naming it is refused
    gone = Delivery(
        workspace_id="ws_1",
        source_id="src_1",
        platform=Platform.SHOPIFY,
        topic="products/delete",
        received_at=T0,
        body_hash="deleted",
    )
    catalogue.delete(gone, ProductDeletion(product_id="42", at=T0 + timedelta(days=1)))
    with pytest.raises(BadRequest, match="was deleted"):
        featured_product(catalogue, "ws_1", "src_1.42", [PLAIN])
    # When no product is named but a template prints product.*, Then it is refused
    with pytest.raises(BadRequest, match="uses product"):
        featured_product(catalogue, "ws_1", None, [PLAIN, FEATURE])
    # And without product.* a campaign needs none
    assert featured_product(None, "ws_1", None, [PLAIN]) is None
    assert uses_product(FEATURE) and not uses_product(PLAIN)
