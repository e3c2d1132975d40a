"""The anonymous points tally and the erasure of a customer's ledger into it
(docs/data-model.md#erasure-folds-a-ledger-into-the-tally).

`W#<ws>#PTSANON` / `T`: `pts` the sum of the folded entries, `k_<kind>` the signed points
per entry kind, `lt<yyyymmdd>` their lots and `dbt` their debt, `ne` entries folded, `nc` ledgers
closed; changed only by `ADD`. A page of a customer's entries leaves in one
`TransactWriteItems`: each entry's `Delete` (conditioned on it being there) and its
earning's pointer, `ADD` of minus their points to the balance, `ADD` of them to the tally.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.codec import from_item, to_av
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.points_ledger import (
    BALANCE_SK,
    DEBT,
    entry_from_item,
    entry_sk,
    ledger_pk,
    lot_attribute,
    lot_bucket_key,
    lots_from_item,
    order_pointer_pk,
)
from chalicelib.domain.loyalty.model import EARN, LedgerEntry
from chalicelib.domain.loyalty.tally import PointsTally, fold

TALLY_SK = "T"
KIND_PREFIX = "k_"
PAGE = 40  # entries per transaction: 40 deletes, up to 40 pointers, the balance, the tally
ATTEMPTS = 20  # transactions cancelled by a concurrent writer before giving up


def tally_pk(workspace_id: str) -> str:
    return f"W#{workspace_id}#PTSANON"


def tally_adds(delta: PointsTally, sign: int) -> tuple[str, dict[str, str], dict[str, Any]]:
    """`ADD` clauses moving `sign` x the delta: the tally's (1) or the balance's (-1)."""
    names: dict[str, str] = {"#p": "pts"}
    values: dict[str, Any] = {":p": to_av(sign * delta.total)}
    clauses = ["#p :p"]
    for i, (day, n) in enumerate(sorted(delta.lots.items())):
        names[f"#l{i}"], values[f":l{i}"] = lot_attribute(day), to_av(sign * n)
        clauses.append(f"#l{i} :l{i}")
    if delta.debt:
        names["#d"], values[":d"] = DEBT, to_av(sign * delta.debt)
        clauses.append("#d :d")
    if sign > 0:
        for i, (kind, n) in enumerate(sorted(delta.by_kind.items())):
            names[f"#k{i}"], values[f":k{i}"] = f"{KIND_PREFIX}{kind}", to_av(n)
            clauses.append(f"#k{i} :k{i}")
        names["#ne"], values[":ne"] = "ne", to_av(delta.entries)
        names["#nc"], values[":nc"] = "nc", to_av(delta.customers)
        clauses += ["#ne :ne", "#nc :nc"]
    return "ADD " + ", ".join(clauses), names, values


def tally_from_item(item: dict[str, Any] | None) -> PointsTally:
    if item is None:
        return PointsTally()
    lots = lots_from_item(item)
    kinds = {k[len(KIND_PREFIX) :]: int(v) for k, v in item.items() if k.startswith(KIND_PREFIX)}
    return PointsTally(
        total=int(item.get("pts", 0)),
        by_kind=kinds,
        lots=lots,
        entries=int(item.get("ne", 0)),
        customers=int(item.get("nc", 0)),
        debt=int(item.get(DEBT, 0)),
    )


def tally_item(workspace_id: str, tally: PointsTally) -> dict[str, Any]:
    """The tally as stored (what `tally_adds` builds up from nothing); `tally_from_item` reads it."""
    item: dict[str, Any] = {"pk": tally_pk(workspace_id), "sk": TALLY_SK, "t": "ptsanon"}
    item |= {"pts": tally.total, "ne": tally.entries, "nc": tally.customers}
    item |= {DEBT: tally.debt} if tally.debt else {}
    item |= {lot_attribute(d): n for d, n in tally.lots.items()}
    item |= {f"{KIND_PREFIX}{k}": n for k, n in tally.by_kind.items()}
    return item


class DynamoPointsTally:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def tally(self, workspace_id: str) -> PointsTally:
        return tally_from_item(self.t.get(tally_pk(workspace_id), TALLY_SK, consistent=True))

    def fold(self, workspace_id: str, customer_id: str) -> int:
        folded = conflicts = 0
        while conflicts < ATTEMPTS:
            page = self._page(workspace_id, customer_id)
            if page:
                if self._fold_page(workspace_id, customer_id, page):
                    folded += len(page)
                else:  # an entry went (a concurrent retry) or came meanwhile: read again
                    conflicts += 1
                continue
            if not self.t.get(ledger_pk(workspace_id, customer_id), BALANCE_SK, consistent=True):
                return folded  # no balance (nothing earned, or closed by a concurrent retry)
            if self._close(workspace_id, customer_id):
                return folded
            conflicts += 1  # an entry came meanwhile (the balance is not 0), or it just went
        raise RuntimeError("the ledger kept changing while it was being erased; retry the erasure")

    def _page(self, workspace_id: str, customer_id: str) -> list[LedgerEntry]:
        response = self.t.client.query(
            TableName=self.t.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :e)",
            ExpressionAttributeValues={":pk": {"S": ledger_pk(workspace_id, customer_id)}, ":e": {"S": "E#"}},
            Limit=PAGE,
            ConsistentRead=True,
        )
        return [entry_from_item(from_item(i) or {}) for i in response.get("Items", [])]

    def _fold_page(self, workspace_id: str, customer_id: str, page: list[LedgerEntry]) -> bool:
        delta = fold(page)
        # the lot-day buckets naming the customer (docs/loyalty.md#expiry): deleted first,
        # idempotently, so a crash after the transaction leaves none behind
        for day in sorted({d for e in page for d, n in e.lots if n > 0}):
            bucket_pk, bucket_sk = lot_bucket_key(workspace_id, day, customer_id)
            self.t.client.delete_item(
                TableName=self.t.table, Key={"pk": {"S": bucket_pk}, "sk": {"S": bucket_sk}}
            )
        pk = ledger_pk(workspace_id, customer_id)
        actions: list[dict[str, Any]] = []
        for entry in page:
            sk = entry_sk(entry.key)
            actions.append(
                {
                    "Delete": {
                        "TableName": self.t.table,
                        "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                }
            )
            if entry.key.kind == EARN and entry.order_id:
                pointer = {"pk": {"S": order_pointer_pk(workspace_id, entry.order_id)}, "sk": {"S": "O"}}
                actions.append({"Delete": {"TableName": self.t.table, "Key": pointer}})
        actions.append(self._add(pk, BALANCE_SK, delta, -1))
        actions.append(self._add(tally_pk(workspace_id), TALLY_SK, delta, 1))
        return self._transact(actions)

    def _close(self, workspace_id: str, customer_id: str) -> bool:
        """Deletes the (now empty) balance, counting the ledger closed; False if there is
        none, or it is not 0 (an entry written meanwhile)."""
        delete = {
            "Delete": {
                "TableName": self.t.table,
                "Key": {"pk": {"S": ledger_pk(workspace_id, customer_id)}, "sk": {"S": BALANCE_SK}},
                "ConditionExpression": "pts = :zero",
                "ExpressionAttributeValues": {":zero": {"N": "0"}},
            }
        }
        closed = PointsTally(customers=1)
        return self._transact([delete, self._add(tally_pk(workspace_id), TALLY_SK, closed, 1)])

    def _add(self, pk: str, sk: str, delta: PointsTally, sign: int) -> dict[str, Any]:
        adds, names, values = tally_adds(delta, sign)
        names["#t"] = "t"
        values[":t"] = {"S": "ptsanon" if sign > 0 else "ptsbal"}
        return {
            "Update": {
                "TableName": self.t.table,
                "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                "UpdateExpression": f"SET #t = :t {adds}",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def _transact(self, actions: list[dict[str, Any]]) -> bool:
        return self.t.transact(actions)
