"""Engagement, attribution and the statistics read side, in the CRM table.

- `W#<ws>#ENG#<cid>` / `E`: a customer's engagement, changed by atomic updates only;
- `W#<ws>#ATTR` / `<order pk>`: an order attributed to a click, written once (with the
  statistics it adds, in one transaction);
- `W#<ws>#STATS` / `<scope>`: read whole for the report.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.adapters.codec import to_av
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.messaging import (
    _key,
    once_with_counts,
    opt_out_key,
    put_if_absent,
    stats_keys,
    sum_counters,
)
from chalicelib.domain.messaging.model import EngagementState, LastClick


class DynamoEngagement:
    """Deliveries, opens and clicks per customer. The times move forward only (a late,
    older event adds to the counts without moving them back)."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def _update(self, workspace_id: str, customer_id: str, expression: str, **kwargs: Any) -> bool:
        """One update of the item; False when its condition failed."""
        names = {"#ws": "ws", **kwargs.pop("names", {})}
        values = {
            ":t": {"S": "engagement"},
            ":ws": {"S": workspace_id},
            ":cid": {"S": customer_id},
            **{k: to_av(v) for k, v in kwargs.pop("values", {}).items()},
        }
        sets, _, adds = f" {expression}".partition(" ADD ")
        sets = sets.strip().removeprefix("SET ").strip()
        update = "SET t = :t, #ws = :ws, cid = :cid" + (f", {sets}" if sets else "")
        if adds:
            update += f" ADD {adds}"
        request: dict[str, Any] = {
            "TableName": self.t.table,
            "Key": _key(f"W#{workspace_id}#ENG#{customer_id}", "E"),
            "UpdateExpression": update,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if kwargs.get("condition"):
            request["ConditionExpression"] = kwargs["condition"]
        try:
            self.t.client.update_item(**request)
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def delivered(self, workspace_id: str, customer_id: str, at: str) -> None:
        values = {":one": 1, ":at": at}
        if not self._update(
            workspace_id,
            customer_id,
            "SET ld = :at ADD nd :one, ds :one",
            values=values,
            condition="attribute_not_exists(ld) OR ld <= :at",
        ):
            self._update(workspace_id, customer_id, "ADD nd :one, ds :one", values={":one": 1})

    def opened(self, workspace_id: str, customer_id: str, at: str) -> None:
        # the newest open: the one before it becomes `po`, and the unanswered deliveries reset
        if self._update(
            workspace_id,
            customer_id,
            "SET po = if_not_exists(lo, :none), lo = :at, ds = :zero ADD #no :one",
            names={"#no": "no"},
            values={":one": 1, ":zero": 0, ":at": at, ":none": ""},
            condition="attribute_not_exists(lo) OR lo <= :at",
        ):
            return
        # an older open reported late: it may still be the second newest
        if not self._update(
            workspace_id,
            customer_id,
            "SET po = :at ADD #no :one",
            names={"#no": "no"},
            values={":one": 1, ":at": at},
            condition="attribute_not_exists(po) OR po < :at",
        ):
            self._update(workspace_id, customer_id, "ADD #no :one", names={"#no": "no"}, values={":one": 1})

    def clicked(
        self,
        workspace_id: str,
        customer_id: str,
        at: str,
        key: str,
        scope: str | None,
        variant: str | None,
    ) -> None:
        if not self._update(
            workspace_id,
            customer_id,
            "SET lc = :at, ds = :zero ADD nc :one",
            values={":one": 1, ":zero": 0, ":at": at},
            condition="attribute_not_exists(lc) OR lc <= :at",
        ):
            self._update(workspace_id, customer_id, "ADD nc :one", values={":one": 1})
        if scope is None:
            return  # a transactional message's click (a tracking link) is not a marketing click
        click = {"k": key, "s": scope, "at": at, **({"v": variant} if variant else {})}
        self._update(
            workspace_id,
            customer_id,
            "SET lk = :lk",
            names={"#at": "at"},
            values={":lk": click, ":at": at},
            condition="attribute_not_exists(lk) OR lk.#at <= :at",
        )

    def get(self, workspace_id: str, customer_id: str) -> EngagementState | None:
        item = self.t.get(f"W#{workspace_id}#ENG#{customer_id}", "E")
        return None if item is None else engagement_from_item(item)

    def get_many(self, workspace_id: str, customer_ids: list[str]) -> dict[str, EngagementState]:
        """Engagement by customer id (one BatchGetItem per 100), eventually consistent;
        customers never messaged are absent."""
        items = self.t.batch_get([(f"W#{workspace_id}#ENG#{c}", "E") for c in customer_ids], consistent=False)
        return {str(i["cid"]): engagement_from_item(i) for i in items}


def engagement_from_item(item: dict[str, Any]) -> EngagementState:
    """`W#<ws>#ENG#<cid>` / `E`: `nd`, `no`, `nc`, `ds`, `ld`, `lo`, `po`, `lc` and the last
    click `lk` (`k` key, `s` scope, `v` variant, `at`)."""
    click = item.get("lk")
    return EngagementState(
        deliveries=int(item.get("nd", 0)),
        opens=int(item.get("no", 0)),
        clicks=int(item.get("nc", 0)),
        since_engaged=int(item.get("ds", 0)),
        last_delivery=item.get("ld"),
        last_open=item.get("lo"),
        prior_open=item.get("po"),
        last_click_at=item.get("lc"),
        last_click=None
        if not click
        else LastClick(
            key=click["k"], scope=click.get("s") or None, variant=click.get("v") or None, at=click["at"]
        ),
    )


class DynamoAttributions:
    """`W#<ws>#ATTR` / `<order pk>`: the message an order is attributed to, written once
    together with the orders and revenue it adds to that message's statistics."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def record(
        self,
        workspace_id: str,
        order_pk: str,
        attribution: dict[str, Any],
        counts: dict[str, dict[str, int | Decimal]],
    ) -> bool:
        item = {"pk": f"W#{workspace_id}#ATTR", "sk": order_pk, "t": "attribution", **attribution}
        return once_with_counts(self.t, workspace_id, put_if_absent(self.t, item), counts)

    def get(self, workspace_id: str, order_pk: str) -> dict[str, Any] | None:
        return self.t.get(f"W#{workspace_id}#ATTR", order_pk)


class DynamoOptOuts:
    """An unsubscribe that names the message it came from: the opt-out item, written only if
    absent, and the scope's `unsubscribed` counter, in one transaction."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def opt_out_once(
        self,
        workspace_id: str,
        channel: str,
        customer_id: str,
        source: str,
        at: str,
        counts: dict[str, dict[str, int | Decimal]],
    ) -> bool:
        pk, sk = opt_out_key(workspace_id, channel, customer_id)
        item = {
            "pk": pk,
            "sk": sk,
            "t": "opt_out",
            "src": source,
            "at": at,
        }
        return once_with_counts(self.t, workspace_id, put_if_absent(self.t, item), counts)


class DynamoStatsReport:
    """Every scope's counters of a workspace: the base partition and the event shards."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def all(self, workspace_id: str) -> dict[str, dict[str, int | Decimal]]:
        """Every scope, summed over the base partition and the event shards."""
        by_scope: dict[str, list[dict[str, Any]]] = {}
        for pk, _ in stats_keys(workspace_id, ""):
            start = None
            while True:
                items, start = self.t.query(pk, limit=500, start=start, newest_first=False)
                for item in items:
                    by_scope.setdefault(item["sk"], []).append(item)
                if start is None:
                    break
        return {scope: sum_counters(items) for scope, items in sorted(by_scope.items())}

    def get(self, workspace_id: str, scope: str) -> dict[str, int | Decimal] | None:
        items = self.t.batch_get(stats_keys(workspace_id, scope), consistent=False)
        return sum_counters(items) if items else None
