"""The recommender's stored model in the CRM table (docs/data-model.md#recommendations).

- product signals: `W#<ws>#REC` / `P#<product id>`: `b` buyers, `cat` category, `tw`
  together, `nx` next, `sm` similar (links `[product id, score, count(, gap days)]`), `rs`
  repeat share, `rg` repeat gap days, `h` a hash of them;
- the popular list: `W#<ws>#REC` / `POP`: `l`, `[product id, score, category]` best first;
- the summary: `W#<ws>#REC` / `META`: `at`, `o`, `c`, `wd`, `np`.

Scores are stored as Numbers of at most 6 decimals, so what is read equals what was saved
(the model rounds them to 6 already). A save writes only the products whose hash moved and
deletes those the model no longer has: one Query of the stored hashes, then BatchWriteItem.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from chalicelib.adapters.codec import batch_write, to_item
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.recommend.model import Link, ModelSummary, Popular, ProductSignals, RecommenderModel
from chalicelib.domain.timemath import iso, parse_iso

SK = "P#"  # + the product id
POPULAR = "POP"
META = "META"
MAX_READ = 100  # BatchGetItem's keys


def model_partition(workspace_id: str) -> str:
    return f"W#{workspace_id}#REC"


def score(value: float) -> Decimal:
    """A score as a Number of at most 6 decimals (trailing zeros dropped)."""
    text = f"{round(value, 6):.6f}".rstrip("0").rstrip(".")
    return Decimal(text or "0")


def _links(links: Sequence[Link]) -> list[list[Any]]:
    out = []
    for link in links:
        row: list[Any] = [link.product_id, score(link.score), link.count]
        if link.gap_days is not None:
            row.append(link.gap_days)
        out.append(row)
    return out


def _links_of(rows: Any) -> tuple[Link, ...]:
    return tuple(
        Link(str(r[0]), float(r[1]), int(r[2]), int(r[3]) if len(r) > 3 and r[3] is not None else None)
        for r in rows or ()
    )


def signals_fields(signals: ProductSignals) -> dict[str, Any]:
    """A product's signals as its item's attributes (None: absent), `h` included."""
    fields: dict[str, Any] = {
        "b": signals.buyers,
        "cat": signals.category,
        "tw": _links(signals.together) or None,
        "nx": _links(signals.next) or None,
        "sm": _links(signals.similar) or None,
        "rs": score(signals.repeat_share) if signals.repeat_share else None,
        "rg": signals.repeat_gap_days,
    }
    body = json.dumps({k: v for k, v in fields.items() if v is not None}, default=str, sort_keys=True)
    fields["h"] = hashlib.sha256(body.encode()).hexdigest()[:16]
    return fields


def signals_of(item: dict[str, Any]) -> ProductSignals:
    return ProductSignals(
        product_id=str(item["sk"])[len(SK) :],
        buyers=int(item.get("b", 0)),
        category=item.get("cat"),
        together=_links_of(item.get("tw")),
        next=_links_of(item.get("nx")),
        similar=_links_of(item.get("sm")),
        repeat_share=float(item.get("rs", 0)),
        repeat_gap_days=int(item["rg"]) if item.get("rg") is not None else None,
    )


class DynamoRecommenderModels:
    """`domain/recommend/ports.RecommenderModels` on the CRM table."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def save(self, workspace_id: str, model: RecommenderModel) -> int:
        pk = model_partition(workspace_id)
        stored = self._stored_hashes(pk)
        requests: list[dict[str, Any]] = []
        for product_id, signals in model.products.items():
            fields = signals_fields(signals)
            if stored.get(product_id) == fields["h"]:
                continue
            item = {"pk": pk, "sk": SK + product_id, "t": "rec_product", **fields}
            requests.append({"PutRequest": {"Item": to_item(item)}})
        for product_id in stored:
            if product_id not in model.products:
                key = {"pk": {"S": pk}, "sk": {"S": SK + product_id}}
                requests.append({"DeleteRequest": {"Key": key}})
        batch_write(self.t.client, self.t.table, requests)
        popular = [[p.product_id, score(p.score), p.category] for p in model.popular]
        self.t.put({"pk": pk, "sk": POPULAR, "t": "rec_popular", "l": popular})
        summary = ModelSummary.of(model)
        self.t.put(
            {
                "pk": pk,
                "sk": META,
                "t": "rec_meta",
                "at": iso(summary.trained_at),
                "o": summary.orders,
                "c": summary.customers,
                "wd": summary.window_days,
                "np": summary.products,
            }
        )
        return len(requests) + 2

    def _stored_hashes(self, pk: str) -> dict[str, str]:
        """Every stored product's hash: one paginated Query of the partition's products."""
        items = self.t.partition(pk, prefix=SK, attributes=["sk", "h"])
        return {str(i["sk"])[len(SK) :]: str(i.get("h", "")) for i in items}

    def signals(self, workspace_id: str, product_ids: Sequence[str]) -> dict[str, ProductSignals]:
        wanted = list(dict.fromkeys(product_ids))
        if len(wanted) > MAX_READ:
            raise ValueError(f"at most {MAX_READ} products per read")
        if not wanted:
            return {}
        pk = model_partition(workspace_id)
        items = self.t.batch_get([(pk, SK + p) for p in wanted], consistent=False)
        found = {s.product_id: s for s in map(signals_of, items)}
        return {p: found[p] for p in wanted if p in found}

    def popular(self, workspace_id: str) -> tuple[Popular, ...]:
        item = self.t.get(model_partition(workspace_id), POPULAR)
        if item is None:
            return ()
        return tuple(Popular(str(r[0]), float(r[1]), r[2]) for r in item.get("l", []))

    def summary(self, workspace_id: str) -> ModelSummary | None:
        item = self.t.get(model_partition(workspace_id), META)
        if item is None:
            return None
        trained_at = parse_iso(item.get("at"))
        if trained_at is None:
            return None
        return ModelSummary(
            trained_at=trained_at,
            orders=int(item["o"]),
            customers=int(item["c"]),
            window_days=int(item["wd"]),
            products=int(item["np"]),
        )
