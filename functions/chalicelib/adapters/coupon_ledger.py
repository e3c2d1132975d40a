"""Coupons' redemptions and the coupon list, on the coupon items (`W#<ws>#CPN` / `<code>`).

A redemption sets `ro` (the order's key), `rat` and `rrev` on the coupon in one
transaction with the flow's statistics (`codes_redeemed`, `coupon_revenue`), each write
conditioned on what the domain read (docs/data-model.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.adapters.codec import from_item, to_av
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.flows import coupon_from_item
from chalicelib.adapters.messaging import once_with_counts
from chalicelib.domain.messaging.flow_definition import IssuedCoupon

# the status filters of a page (`:now` an ISO time: `exp` sorts as text)
STATUS_FILTERS = {
    "issued": "attribute_not_exists(ro) AND exp > :now",
    "redeemed": "attribute_exists(ro)",
    "expired": "attribute_not_exists(ro) AND exp <= :now",
}


class DynamoCouponLedger:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def _update(
        self, workspace_id: str, code: str, expression: str, condition: str, values: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.t.table,
                "Key": {"pk": {"S": f"W#{workspace_id}#CPN"}, "sk": {"S": code}},
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeValues": {k: to_av(v) for k, v in values.items()},
            }
        }

    def get(self, workspace_id: str, code: str) -> IssuedCoupon | None:
        item = self.t.get(f"W#{workspace_id}#CPN", code, consistent=True)
        return None if item is None else coupon_from_item(item)

    def redeem(
        self, workspace_id: str, code: str, order_key: str, revenue: Decimal, at: str, scope: str | None
    ) -> bool:
        guard = self._update(
            workspace_id,
            code,
            "SET ro = :o, rat = :at, rrev = :r",
            "attribute_exists(pk) AND attribute_not_exists(ro)",
            {":o": order_key, ":at": at, ":r": revenue},
        )
        counts: dict[str, dict[str, int | Decimal]] = (
            {scope: {"codes_redeemed": 1, "coupon_revenue": revenue}} if scope else {}
        )
        return once_with_counts(self.t, workspace_id, guard, counts)

    def revise(
        self,
        workspace_id: str,
        code: str,
        order_key: str,
        before: Decimal,
        revenue: Decimal,
        scope: str | None,
    ) -> bool:
        guard = self._update(
            workspace_id,
            code,
            "SET rrev = :r",
            "ro = :o AND rrev = :b",
            {":o": order_key, ":b": before, ":r": revenue},
        )
        counts = {scope: {"coupon_revenue": revenue - before}} if scope else {}
        return once_with_counts(self.t, workspace_id, guard, counts)

    def unredeem(
        self, workspace_id: str, code: str, order_key: str, before: Decimal, scope: str | None
    ) -> bool:
        guard = self._update(
            workspace_id,
            code,
            "REMOVE ro, rat, rrev",
            "ro = :o AND rrev = :b",
            {":o": order_key, ":b": before},
        )
        counts: dict[str, dict[str, int | Decimal]] = (
            {scope: {"codes_redeemed": -1, "coupon_revenue": -before}} if scope else {}
        )
        return once_with_counts(self.t, workspace_id, guard, counts)

    def page(
        self,
        workspace_id: str,
        status: str | None,
        key_prefix: str | None,
        now: str,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[IssuedCoupon], str | None]:
        pk = f"W#{workspace_id}#CPN"
        filters: list[str] = []
        values: dict[str, Any] = {":pk": {"S": pk}}
        if status:
            filters.append(STATUS_FILTERS[status])
            if ":now" in STATUS_FILTERS[status]:
                values[":now"] = {"S": now}
        if key_prefix:
            filters.append("begins_with(mk, :mk)")
            values[":mk"] = {"S": key_prefix}
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": values,
            "Limit": limit,
        }
        if filters:
            kwargs["FilterExpression"] = " AND ".join(f"({f})" for f in filters)
        if cursor:
            kwargs["ExclusiveStartKey"] = {"pk": {"S": pk}, "sk": {"S": cursor}}
        response = self.t.client.query(**kwargs)
        last = response.get("LastEvaluatedKey")
        coupons = [coupon_from_item(from_item(i) or {}) for i in response.get("Items", [])]
        return coupons, (last["sk"]["S"] if last else None)
