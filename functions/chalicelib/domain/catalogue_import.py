"""`patron import products`: a source's whole catalogue, pulled through its Admin API or read
from an export file (parsers/product_files.py, docs/import.md#products), into the catalogue
store with the webhooks' versioning (docs/storefront-admin.md#catalogue-import).

Each pulled product is written as a delivery of its own with no trigger time, so a product
the store changed later (a newer `updated_at`, or the same one a Shopify webhook stamped with
its trigger time) is never overwritten by an older pull; the same product pulled twice is a
duplicate. A record that does not parse is counted as rejected with its reason, and the pull
goes on. Products carry no personal data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from chalicelib.domain.models import Delivery, Platform, Product, Source
from chalicelib.domain.ports import CatalogueStore
from chalicelib.domain.store_admin import AdminApiError

TOPIC = "products/import"
MAX_REASONS = 20  # the summary names this many rejected records, then only counts them
REF = "_ref"  # a file record's own name in a reason (`product <handle>`, `line 3`), when it has one

# A platform's pulled record (a GraphQL node, a REST item) as the catalogue's Product
RecordParser = Callable[[Mapping[str, Any], Delivery], Product]


class ImportSummary(BaseModel):
    source_id: str
    read: int = 0
    stored: int = 0  # new, or newer than what the catalogue held
    unchanged: int = 0  # the same product as stored
    kept_newer: int = 0  # the catalogue already held a newer version (a later webhook)
    rejected: int = 0
    reasons: list[str] = []  # `product <id>: <why>`, the first MAX_REASONS


class CatalogueImport:
    def __init__(
        self,
        catalogue: CatalogueStore,
        parsers: Mapping[Platform, RecordParser],
        clock: Callable[[], datetime],
    ) -> None:
        self.catalogue = catalogue
        self.parsers = parsers
        self.clock = clock

    def run(
        self, source: Source, records: Iterable[Mapping[str, Any]], parse: RecordParser | None = None
    ) -> ImportSummary:
        """Each record as `parse` reads it (an export file's format), else as the source's
        platform's Admin API parser does."""
        parse = parse or self.parsers.get(source.platform)
        if parse is None:
            raise AdminApiError(f"a {source.platform} source has no Admin API to import products from")
        summary = ImportSummary(source_id=source.source_id)
        base = Delivery(  # one delivery for the whole import: each record is stamped from it
            workspace_id=source.workspace_id,
            source_id=source.source_id,
            platform=source.platform,
            topic=TOPIC,
            received_at=self.clock(),
            shop_domain=source.shop_domain,
        )
        for record in records:
            summary.read += 1
            try:
                product = parse(record, base)
            except ValueError as exc:  # pydantic's ValidationError included
                summary.rejected += 1
                if len(summary.reasons) < MAX_REASONS:
                    why = " ".join(str(exc).split())[:200]
                    ref = record.get(REF) or f"product {record.get('id', '?')}"
                    summary.reasons.append(f"{ref}: {why}")
                continue
            digest = hashlib.sha256(product.model_dump_json().encode()).hexdigest()
            outcome = self.catalogue.save(base.model_copy(update={"body_hash": digest}), product)
            if outcome == "stored":
                summary.stored += 1
            elif outcome == "stale":
                summary.kept_newer += 1
            else:
                summary.unchanged += 1
        return summary
