"""A customer's historical points entry (domain/loyalty/history.py) on the CRM table:
`W#<ws>#PTS#<cid>` / `E#import#historical#earn`, written with `attribute_not_exists`, or
moved by compare-and-set on its points (`p`), with the balance's `ADD` of the difference
in the same `TransactWriteItems` (docs/data-model.md#points-ledger). No order pointer and
no pending lot: its points are available at once, in its own lot (`lt`); a fall
takes them back as a reversal would (that lot first, then the oldest, the rest is debt)."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.codec import to_av, to_item
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.points_ledger import DynamoPointsLedger, entry_item, entry_sk, ledger_pk
from chalicelib.domain.loyalty.model import LedgerEntry
from chalicelib.domain.timemath import iso


class DynamoHistoricalPoints:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def set_historical(self, stored: LedgerEntry | None, entry: LedgerEntry, change: LedgerEntry) -> bool:
        pk = ledger_pk(entry.workspace_id, entry.customer_id)
        if stored is None:
            write: dict[str, Any] = {
                "Put": {
                    "TableName": self.t.table,
                    "Item": to_item(entry_item(entry)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        else:
            as_stored = entry_item(entry)  # its lots as stored (a map by day)
            write = {
                "Update": {
                    "TableName": self.t.table,
                    "Key": {"pk": {"S": pk}, "sk": {"S": entry_sk(entry.key)}},
                    "UpdateExpression": "SET p = :p, #base = :base, #at = :at, lt = :lt, dbt = :dbt",
                    "ConditionExpression": "p = :was",
                    "ExpressionAttributeNames": {"#base": "base", "#at": "at"},
                    "ExpressionAttributeValues": {
                        ":p": to_av(entry.points),
                        ":base": to_av(entry.base),
                        ":at": to_av(iso(entry.at)),
                        ":lt": to_av(as_stored.get("lt", {})),
                        ":dbt": to_av(entry.debt),
                        ":was": to_av(stored.points),
                    },
                }
            }
        add = DynamoPointsLedger(self.t).balance_update(change)
        return self.t.transact([write, add])
