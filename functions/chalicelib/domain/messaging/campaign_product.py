"""A campaign's featured product: `product` = `SOURCE_ID.PRODUCT_ID` when it is created.

It is checked against the catalogue then (one GetItem; an unknown or deleted product is a
400), and its title, page and picture are kept on the campaign: every recipient's message
takes them (`{{ product.title }}`, `{{ product.url }}`, `{{ product.image }}`) with no
catalogue read at send time. A campaign without a product whose templates use product.*
is refused at creation: its messages would have nothing to show.
"""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.domain.errors import BadRequest
from chalicelib.domain.messaging.campaign_model import FeaturedProduct
from chalicelib.domain.messaging.model import Template
from chalicelib.domain.messaging.render import parse
from chalicelib.domain.ports import CatalogueReader


def featured_product(
    catalogue: CatalogueReader | None, workspace_id: str, ref: str | None, templates: Sequence[Template]
) -> FeaturedProduct | None:
    """The campaign's product as the catalogue has it now (None: no product); refuses an
    unknown or deleted one, and product.* in a template of a campaign without one."""
    if ref is None:
        using = [t.template_id for t in templates if uses_product(t)]
        if using:
            raise BadRequest(
                f"template {using[0]} uses product.* but the campaign names no product: "
                "give it one (product = SOURCE_ID.PRODUCT_ID)",
                [{"field": "product", "error": f"required by template {t}"} for t in using],
            )
        return None
    source_id, _, product_id = ref.partition(".")
    stored = catalogue.product(workspace_id, source_id, product_id) if catalogue is not None else None
    if stored is None or stored.product is None:
        raise BadRequest(
            f"product {ref} is not in the catalogue (see `patron import products`)",
            [{"field": "product", "error": f"unknown product {ref}"}],
        )
    if stored.deleted_at is not None:
        raise BadRequest(
            f"product {ref} was deleted from the store on {stored.deleted_at}",
            [{"field": "product", "error": f"deleted product {ref}"}],
        )
    p = stored.product
    return FeaturedProduct(ref=ref, title=p.title, url=p.url, image=p.image)


def uses_product(template: Template) -> bool:
    """Whether any part of the template prints a product.* field."""
    fields = (template.subject, template.html, template.text, template.sms)
    return any((part.name or "").startswith("product.") for text in fields if text for part in parse(text))
