"""The catalogue's products in the CRM table: `W#<ws>#PR#<source>` / `P#<product id>` (a
source's products share a partition: erasing the source Queries them, no scan).

Written by the webhook path, one conditional `UpdateItem` per delivery, only over an
older version (the ingest table's condition); a deletion sets `del` and keeps the rest.
Read by the customer views, one `BatchGetItem` (docs/data-model.md#the-catalogue).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.adapters.codec import to_av
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.catalogue import CatalogueEntry, StoredProduct
from chalicelib.domain.models import Delivery, Product, ProductDeletion, ProductVariant, RecordVersion
from chalicelib.domain.ports import WriteOutcome
from chalicelib.domain.timemath import iso

SK = "P#"  # + the platform's product id
NEWER = "attribute_not_exists(ver) OR (ver <= :ver AND (attribute_not_exists(h) OR h <> :h))"


def catalogue_partition(workspace_id: str, source_id: str) -> str:
    """The partition of one source's products."""
    return f"W#{workspace_id}#PR#{source_id}"


def product_key(workspace_id: str, source_id: str, product_id: str) -> dict[str, Any]:
    return {"pk": {"S": catalogue_partition(workspace_id, source_id)}, "sk": {"S": SK + product_id}}


def product_fields(product: Product) -> dict[str, Any]:
    """A product as its item's attributes (None: the attribute is removed)."""
    return {
        "pid": product.product_id,
        "ti": product.title,
        "hd": product.handle,
        "url": product.url,
        "img": product.image,
        "pr": product.price,
        "cp": product.compare_at_price,
        "cur": product.currency,
        "ven": product.vendor,
        "ty": product.product_type,
        "cat": list(product.categories) or None,
        "tg": list(product.tags) or None,
        "st": product.status,
        "var": [
            {
                k: v
                for k, v in {"i": x.variant_id, "s": x.sku, "p": x.price, "q": x.inventory}.items()
                if v is not None
            }
            for x in product.variants
        ]
        or None,
        "ua": iso(product.updated_at),
    }


def product_of(item: dict[str, Any]) -> Product:
    """A stored (not deleted) product item as the product it was written from."""

    def money(value: Any) -> Decimal | None:
        return Decimal(str(value)) if value is not None else None

    return Product(
        product_id=str(item["pid"]),
        title=str(item["ti"]),
        handle=item.get("hd"),
        url=item.get("url"),
        image=item.get("img"),
        price=money(item.get("pr")),
        compare_at_price=money(item.get("cp")),
        currency=item.get("cur"),
        vendor=item.get("ven"),
        product_type=item.get("ty"),
        categories=tuple(item.get("cat") or ()),
        tags=tuple(item.get("tg") or ()),
        status=item.get("st"),
        variants=tuple(
            ProductVariant(
                variant_id=str(v["i"]),
                sku=v.get("s"),
                price=money(v.get("p")),
                inventory=int(v["q"]) if v.get("q") is not None else None,
            )
            for v in item.get("var") or ()
        ),
        updated_at=datetime.fromisoformat(str(item["ua"])),
    )


def entry_of(item: dict[str, Any]) -> CatalogueEntry:
    return CatalogueEntry(
        source_id=str(item["src"]),
        product_id=str(item["pid"]),
        title=item.get("ti"),
        url=item.get("url"),
        image=item.get("img"),
        deleted="del" in item,
    )


def stored_product(item: dict[str, Any]) -> StoredProduct:
    """A catalogue item whole; its product is None when only a deletion was ever stored."""
    return StoredProduct(
        source_id=str(item["src"]),
        product_id=str(item["pid"]),
        product=product_of(item) if "ti" in item else None,
        deleted_at=item.get("del"),
    )


class DynamoCatalogueStore:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def save(self, delivery: Delivery, product: Product) -> WriteOutcome:
        ver = RecordVersion(updated_at=product.updated_at, triggered_at=delivery.triggered_at).key()
        return self._update(delivery, product.product_id, ver, product_fields(product), remove_deleted=True)

    def delete(self, delivery: Delivery, deletion: ProductDeletion) -> WriteOutcome:
        ver = RecordVersion(updated_at=deletion.at).key()
        return self._update(
            delivery, deletion.product_id, ver, {"pid": deletion.product_id, "del": iso(deletion.at)}, False
        )

    def products(self, workspace_id: str, refs: Sequence[tuple[str, str]]) -> list[CatalogueEntry]:
        if not refs:
            return []
        keys = [(k["pk"]["S"], k["sk"]["S"]) for k in (product_key(workspace_id, s, p) for s, p in refs)]
        items = self.t.batch_get(keys, consistent=False)
        return [entry_of(i) for i in items if i.get("t") == "product"]

    def stored_products(self, workspace_id: str, refs: Sequence[tuple[str, str]]) -> list[StoredProduct]:
        """The products of these (source, product id) pairs whole, deleted ones too: one
        `BatchGetItem` (eventually consistent, at most 100 keys: the recommendations)."""
        if not refs:
            return []
        keys = [(k["pk"]["S"], k["sk"]["S"]) for k in (product_key(workspace_id, s, p) for s, p in refs)]
        items = self.t.batch_get(keys, consistent=False)
        return [stored_product(i) for i in items if i.get("t") == "product"]

    def product(self, workspace_id: str, source_id: str, product_id: str) -> StoredProduct | None:
        key = product_key(workspace_id, source_id, product_id)
        item = self.t.get(key["pk"]["S"], key["sk"]["S"])
        return stored_product(item) if item is not None and item.get("t") == "product" else None

    def _update(
        self, delivery: Delivery, product_id: str, ver: str, fields: dict[str, Any], remove_deleted: bool
    ) -> WriteOutcome:
        values = {"t": "product", "ws": delivery.workspace_id, "src": delivery.source_id} | fields
        values |= {"ver": ver, "h": delivery.body_hash or ""}
        names: dict[str, str] = {}
        vals: dict[str, Any] = {":ver": to_av(ver), ":h": to_av(delivery.body_hash or "")}
        sets, removes = [], []
        for i, (name, value) in enumerate(values.items()):
            names[f"#a{i}"] = name
            if value is None:
                removes.append(f"#a{i}")
            else:
                vals[f":a{i}"] = to_av(value)
                sets.append(f"#a{i} = :a{i}")
        if remove_deleted:
            names["#del"] = "del"
            removes.append("#del")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        client = self.t.client
        try:
            client.update_item(
                TableName=self.t.table,
                Key=product_key(delivery.workspace_id, delivery.source_id, product_id),
                UpdateExpression=expression,
                ConditionExpression=NEWER,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=vals,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except client.exceptions.ConditionalCheckFailedException as exc:
            stored = (exc.response.get("Item") or {}).get("ver", {}).get("S")
            return "stale" if stored is not None and stored > ver else "duplicate"
        return "stored"
