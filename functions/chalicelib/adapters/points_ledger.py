"""The points ledger on the CRM table (docs/data-model.md#points-ledger).

`W#<ws>#PTS#<cid>` holds a customer's entries, `E#<source>#<external id>#<kind>` each (the
idempotency key is the sort key, so two entries of the same second never collide), and the
balance item `BAL`: `pts` the sum of every entry, `lt<yyyymmdd>` the earned lot of that
day (its points not yet spent nor reversed; pending while the day is ahead), `dbt` the
debt (`pts == sum(lt*) - dbt`). `W#<ws>#PTSO#<order id>` / `O` names the customer whose ledger holds the
order's earning. Each entry is written with `attribute_not_exists` in one `TransactWriteItems`
with the balance's atomic `ADD` (and, for a reversal, the earning entry's compare-and-set).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from chalicelib.adapters.codec import from_item, to_av, to_item
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.loyalty.lots import with_credit_lot
from chalicelib.domain.loyalty.model import (
    EARN,
    GIVEN_BACK,
    MADE,
    PENDING,
    EntryKey,
    LedgerEntry,
    PointsBalance,
    is_activity,
)
from chalicelib.domain.loyalty.rules import CapCounter
from chalicelib.domain.timemath import iso, parse_iso

BALANCE_SK = "BAL"
LOT_SHARDS = 16  # the lot-day buckets' shards (docs/data-model.md#points-ledger)
LOT_PREFIX = "lt"
DEBT = "dbt"
LAST_ACTIVITY = "la"
INTO = "into"  # a merge moved the balance to this customer id: closed


def ledger_pk(workspace_id: str, customer_id: str) -> str:
    return f"W#{workspace_id}#PTS#{customer_id}"


def entry_sk(key: EntryKey) -> str:
    return f"E#{key.source}#{key.external_id}#{key.kind}"


def order_pointer_pk(workspace_id: str, order_id: str) -> str:
    """An order's earning, found by the order: one small item per order (no hot partition)."""
    return f"W#{workspace_id}#PTSO#{order_id}"


def cap_sk(cap: CapCounter) -> str:
    """A capped action's counter for one customer and period (beside the ledger's `E#`)."""
    return f"CAP#{cap.action}#{cap.period_key}"


def lot_shard(customer_id: str) -> int:
    return zlib.crc32(customer_id.encode()) % LOT_SHARDS


def lot_bucket_key(workspace_id: str, day: date, customer_id: str) -> tuple[str, str]:
    """The lot-day bucket item's key: the customer has a lot of `day` (the expiry sweep's
    index); `lot_bucket_customer` reads the customer back from it."""
    return lot_bucket_pk(workspace_id, day, lot_shard(customer_id)), f"C#{customer_id}"


def lot_bucket_pk(workspace_id: str, day: date, shard: int) -> str:
    return f"W#{workspace_id}#PEXP#{day:%Y%m%d}#{shard:02d}"


def lot_bucket_customer(sk: str) -> str:
    return sk[2:]


def lot_attribute(day: date) -> str:
    return f"{LOT_PREFIX}{day:%Y%m%d}"


def ledger_owner(pk: str) -> tuple[str, str]:
    """(workspace, customer) of a ledger partition key (`ledger_pk`'s inverse)."""
    workspace_id, customer_id = pk.split("#", 1)[1].split("#PTS#", 1)
    return workspace_id, customer_id


def balance_owner(item: dict[str, Any]) -> tuple[str, str]:
    """(workspace, customer) of a balance item (the CRM stream's record of it)."""
    return ledger_owner(str(item["pk"]))


def lots_from_item(item: dict[str, Any]) -> dict[date, int]:
    """The non-zero `lt<yyyymmdd>` lots of a balance (or the tally) item, by day."""
    return {
        _day(k[2:]): int(v)
        for k, v in item.items()
        if k.startswith(LOT_PREFIX) and len(k) == 10 and k[2:].isdigit() and int(v)
    }


def entry_item(entry: LedgerEntry) -> dict[str, Any]:
    """The stored entry (short attributes); `entry_from_item` reads it back."""
    item: dict[str, Any] = {
        "pk": ledger_pk(entry.workspace_id, entry.customer_id),
        "sk": entry_sk(entry.key),
        "t": "pts",
        "src": entry.key.source,
        "xid": entry.key.external_id,
        "k": entry.key.kind,
        "p": entry.points,
        "at": iso(entry.at),
    }
    optional = {
        "oid": entry.order_id,
        "rate": entry.rate,
        "base": entry.base,
        "cur": entry.currency,
        "av": entry.available_on.isoformat() if entry.available_on else None,
        "amt": entry.amount,
        "lt": {f"{day:%Y%m%d}": n for day, n in entry.lots} or None,
        "dbt": entry.debt or None,
        "rsn": entry.reason,
        "by": entry.actor,
        "code": entry.code,
        "sid": entry.store_source,
        "rs": entry.state,
    }
    item.update({k: v for k, v in optional.items() if v is not None})
    if entry.rate is not None:  # an earning entry: its reversals move these
        item.update({"ref": entry.refunded, "rev": entry.reversed, "cx": entry.cancelled})
        if entry.returned:
            item["ret"] = entry.returned
    return item


def entry_from_item(item: dict[str, Any]) -> LedgerEntry:
    workspace_id, customer_id = ledger_owner(str(item["pk"]))
    return LedgerEntry(
        workspace_id=workspace_id,
        customer_id=customer_id,
        key=EntryKey(str(item["src"]), str(item["xid"]), str(item["k"])),
        points=int(item["p"]),
        at=parse_iso(item["at"]),  # type: ignore[arg-type]
        order_id=item.get("oid"),
        rate=_decimal(item.get("rate")),
        base=_decimal(item.get("base")),
        currency=item.get("cur"),
        available_on=date.fromisoformat(item["av"]) if item.get("av") else None,
        refunded=Decimal(str(item.get("ref", 0))),
        returned=Decimal(str(item.get("ret", 0))),
        reversed=int(item.get("rev", 0)),
        cancelled=bool(item.get("cx", False)),
        amount=_decimal(item.get("amt")),
        lots=tuple(sorted((_day(k), int(v)) for k, v in (item.get("lt") or {}).items())),
        debt=int(item.get("dbt", 0)),
        reason=item.get("rsn"),
        actor=item.get("by"),
        code=item.get("code"),
        store_source=item.get("sid"),
        state=item.get("rs"),
    )


def balance_from_item(item: dict[str, Any] | None) -> PointsBalance:
    if item is None:
        return PointsBalance()
    return PointsBalance(
        total=int(item.get("pts", 0)),
        lots=lots_from_item(item),
        debt=int(item.get(DEBT, 0)),
        last_activity=parse_iso(item.get(LAST_ACTIVITY)),
        moved_to=item.get(INTO),
        recorded=True,
    )


def _day(yyyymmdd: str) -> date:
    return date(int(yyyymmdd[0:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class DynamoPointsLedger:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def balance_update(self, entry: LedgerEntry) -> dict[str, Any]:
        """The balance's `Update` in the transaction that writes `entry` (here, or in another
        adapter: the historical entry): `ADD` the entry's points to `pts` and its changes to
        its lots and the debt; each lot it takes from, and the debt it settles, conditioned on
        holding enough."""
        names = {"#p": "pts"}
        values: dict[str, Any] = {":n": to_av(entry.points), ":t": {"S": "ptsbal"}}
        adds, conds = ["#p :n"], []
        for i, (day, change) in enumerate(entry.lots):
            names[f"#l{i}"] = lot_attribute(day)
            values[f":l{i}"] = to_av(change)
            adds.append(f"#l{i} :l{i}")
            if change < 0:
                values[f":m{i}"] = to_av(-change)
                conds.append(f"#l{i} >= :m{i}")
        if entry.debt:
            names["#d"] = DEBT
            values[":d"] = to_av(entry.debt)
            adds.append("#d :d")
            if entry.debt < 0:
                values[":md"] = to_av(-entry.debt)
                conds.append("#d >= :md")
        sets = "t = :t"
        if is_activity(entry):  # the inactivity policy's clock: one attribute, no extra item
            names["#la"] = LAST_ACTIVITY
            values[":la"] = {"S": iso(entry.at)}
            sets += ", #la = :la"
        update: dict[str, Any] = {
            "TableName": self.t.table,
            "Key": {
                "pk": {"S": ledger_pk(entry.workspace_id, entry.customer_id)},
                "sk": {"S": BALANCE_SK},
            },
            "UpdateExpression": f"SET {sets} ADD {', '.join(adds)}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        names["#into"] = INTO  # a balance a merge moved away is closed (docs/data-model.md)
        update["ConditionExpression"] = " AND ".join(["attribute_not_exists(#into)", *conds])
        return {"Update": update}

    def _mark_lots(self, entry: LedgerEntry, list_lots: bool) -> None:
        """Puts the lot-day bucket of each lot the entry adds to, just before its transaction
        (1 write unit each; in the transaction it would cost 2): idempotent, and harmless when
        the transaction then fails (the sweep finds no lot there)."""
        for day, change in entry.lots if list_lots else ():
            if change > 0:
                self.mark_lot_day(entry.workspace_id, entry.customer_id, day)

    def mark_lot_day(self, workspace_id: str, customer_id: str, day: date) -> None:
        pk, sk = lot_bucket_key(workspace_id, day, customer_id)
        self.t.put({"pk": pk, "sk": sk, "t": "ptslot"})

    def expire_inactive(self, entry: LedgerEntry, last_activity: datetime) -> bool:
        """The inactivity expiry's transaction: the balance's update also conditioned on `la`."""
        add = self.balance_update(entry)
        update = add["Update"]
        update["ExpressionAttributeNames"]["#la"] = LAST_ACTIVITY
        update["ExpressionAttributeValues"][":was_la"] = {"S": iso(last_activity)}
        conds = [c for c in [update.get("ConditionExpression"), "#la = :was_la"] if c]
        update["ConditionExpression"] = " AND ".join(conds)
        return self._transact([self._put_new(entry), add])

    def customers_with_lot(self, workspace_id: str, lot_day: date) -> Iterator[str]:
        for shard in range(LOT_SHARDS):
            pk = lot_bucket_pk(workspace_id, lot_day, shard)
            kwargs: dict[str, Any] = {
                "TableName": self.t.table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": pk}},
                "ProjectionExpression": "sk",
            }
            while True:
                response = self.t.client.query(**kwargs)
                for item in response.get("Items", []):
                    yield lot_bucket_customer(item["sk"]["S"])
                last = response.get("LastEvaluatedKey")
                if not last:
                    break
                kwargs["ExclusiveStartKey"] = last

    def _put_new(self, entry: LedgerEntry) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.t.table,
                "Item": to_item(entry_item(entry)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _transact(self, actions: list[dict[str, Any]]) -> bool:
        """All or nothing; False when a condition failed (a replay, or a concurrent writer)."""
        return self.t.transact(actions)

    def entry(self, workspace_id: str, customer_id: str, key: EntryKey) -> LedgerEntry | None:
        item = self.t.get(ledger_pk(workspace_id, customer_id), entry_sk(key), consistent=True)
        return None if item is None else entry_from_item(item)

    def earning_of(self, workspace_id: str, order_id: str) -> LedgerEntry | None:
        pointer = self.t.get(order_pointer_pk(workspace_id, order_id), "O", consistent=True)
        if pointer is None:
            return None
        return self.entry(workspace_id, str(pointer["cid"]), EntryKey("order", order_id, EARN))

    def earn(self, entry: LedgerEntry, list_lots: bool = True) -> bool:
        entry = with_credit_lot(entry)
        self._mark_lots(entry, list_lots)
        actions = [self._put_new(entry), self.balance_update(entry)]
        if entry.key.kind == EARN and entry.order_id:
            pointer = {
                "pk": order_pointer_pk(entry.workspace_id, entry.order_id),
                "sk": "O",
                "cid": entry.customer_id,
            }
            actions.append({"Put": {"TableName": self.t.table, "Item": to_item(pointer)}})
        return self._transact(actions)

    def reverse(
        self,
        earning: LedgerEntry,
        reversal: LedgerEntry,
        refunded: Decimal,
        reversed_points: int,
        returned: Decimal | None = None,
    ) -> bool:
        returned = earning.returned if returned is None else returned
        was_ret = "attribute_not_exists(ret) OR ret = :was_ret" if not earning.returned else "ret = :was_ret"
        guard = {
            "Update": {
                "TableName": self.t.table,
                "Key": {
                    "pk": {"S": ledger_pk(earning.workspace_id, earning.customer_id)},
                    "sk": {"S": entry_sk(earning.key)},
                },
                "UpdateExpression": "SET #ref = :ref, rev = :rev, cx = :cx, ret = :ret",
                "ConditionExpression": f"#ref = :was_ref AND rev = :was_rev AND ({was_ret})",
                "ExpressionAttributeNames": {"#ref": "ref"},
                "ExpressionAttributeValues": {
                    ":ref": to_av(refunded),
                    ":rev": to_av(reversed_points),
                    ":cx": to_av(earning.cancelled),
                    ":ret": to_av(returned),
                    ":was_ref": to_av(earning.refunded),
                    ":was_rev": to_av(earning.reversed),
                    ":was_ret": to_av(earning.returned),
                },
            }
        }
        actions = [guard, self._put_new(reversal)]
        if reversal.points:
            actions.append(self.balance_update(reversal))
        return self._transact(actions)

    def adjust(self, entry: LedgerEntry, list_lots: bool = True) -> bool:
        entry = with_credit_lot(entry)
        self._mark_lots(entry, list_lots)
        return self._transact([self._put_new(entry), self.balance_update(entry)])

    def _settle(self, entry: LedgerEntry, state: str) -> dict[str, Any]:
        """A code redemption's state moved from `pending` (or none) to `state`, once."""
        return {
            "Update": {
                "TableName": self.t.table,
                "Key": {
                    "pk": {"S": ledger_pk(entry.workspace_id, entry.customer_id)},
                    "sk": {"S": entry_sk(entry.key)},
                },
                "UpdateExpression": "SET rs = :to",
                "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(rs) OR rs = :p)",
                "ExpressionAttributeValues": {":to": {"S": state}, ":p": {"S": PENDING}},
            }
        }

    def confirm(self, entry: LedgerEntry) -> bool:
        """One conditioned UpdateItem (1 write unit)."""
        try:
            self.t.client.update_item(**self._settle(entry, MADE)["Update"])
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def give_back(self, entry: LedgerEntry, back: LedgerEntry) -> bool:
        back = with_credit_lot(back)
        return self._transact(
            [self._settle(entry, GIVEN_BACK), self._put_new(back), self.balance_update(back)]
        )

    def transfer(self, out: LedgerEntry, into: LedgerEntry, read: PointsBalance) -> bool:
        """A merge's transfer (docs/data-model.md#merged-ledgers-one-balance): both entries, the
        merged-away balance emptied and closed (each lot, the debt and the total exactly as
        `read`), the survivor's balance given the same, all or nothing."""
        closed = self.balance_update(out)["Update"]
        names, values = closed["ExpressionAttributeNames"], closed["ExpressionAttributeValues"]
        for unused in [k for k in values if k == ":md" or (k[:2] == ":m" and k[2:].isdigit())]:
            del values[unused]  # its "holds enough" conditions: exactly as read instead
        conds = ["attribute_not_exists(#into)", "#p = :was"]
        values[":was"] = to_av(read.total)
        for i, (_, n) in enumerate(out.lots):
            values[f":w{i}"] = to_av(-n)  # the lot as read (the entry takes all of it)
            conds.append(f"#l{i} = :w{i}")
        if read.debt:
            names["#d"], values[":wd"] = DEBT, to_av(read.debt)
            conds.append("#d = :wd")
        else:
            names["#d"], values[":z"] = DEBT, to_av(0)
            conds.append("(attribute_not_exists(#d) OR #d = :z)")
        values[":into"] = {"S": into.customer_id}
        closed["UpdateExpression"] = closed["UpdateExpression"].replace("SET ", "SET #into = :into, ", 1)
        closed["ConditionExpression"] = " AND ".join(conds)
        actions = [self._put_new(out), {"Update": closed}, self._put_new(into), self.balance_update(into)]
        return self._transact(actions)

    def close(self, workspace_id: str, customer_id: str, into: str) -> bool:
        """A merged id without a balance: an empty balance closed into the survivor, only if
        none is there (docs/data-model.md#merged-ledgers-one-balance)."""
        pk = ledger_pk(workspace_id, customer_id)
        item = {"pk": pk, "sk": BALANCE_SK, "t": "ptsbal", "pts": 0, INTO: into}
        try:  # one PutItem (1 write unit), not a transaction of one (2)
            self.t.put(item, "attribute_not_exists(pk)")
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def balance(self, workspace_id: str, customer_id: str) -> PointsBalance:
        return balance_from_item(
            self.t.get(ledger_pk(workspace_id, customer_id), BALANCE_SK, consistent=True)
        )

    def entries(
        self, workspace_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[LedgerEntry], str | None]:
        pk = ledger_pk(workspace_id, customer_id)
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :e)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":e": {"S": "E#"}},
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = {"pk": {"S": pk}, "sk": {"S": cursor}}
        response = self.t.client.query(**kwargs)
        entries = [entry_from_item(from_item(i) or {}) for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return entries, (last["sk"]["S"] if last else None)

    def earn_capped(self, entry: LedgerEntry, cap: CapCounter, list_lots: bool = True) -> bool:
        """As `earn` (a bonus: no order pointer), with the cap's counter moved in the same
        transaction: `ADD n :1` only while `n < max` (docs/data-model.md#points-ledger)."""
        entry = with_credit_lot(entry)
        counter = {
            "Update": {
                "TableName": self.t.table,
                "Key": {
                    "pk": {"S": ledger_pk(entry.workspace_id, entry.customer_id)},
                    "sk": {"S": cap_sk(cap)},
                },
                "UpdateExpression": "SET t = :t ADD n :one",
                "ConditionExpression": "attribute_not_exists(n) OR n < :max",
                "ExpressionAttributeValues": {
                    ":t": {"S": "ptscap"},
                    ":one": to_av(1),
                    ":max": to_av(cap.max),
                },
            }
        }
        self._mark_lots(entry, list_lots)
        return self._transact([self._put_new(entry), self.balance_update(entry), counter])
