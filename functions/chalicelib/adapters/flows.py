"""Flow definitions, flow runs (in the sparse due index) and coupons, in the CRM table."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.adapters.cache import TtlCache
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.person_index import index_items
from chalicelib.domain.messaging.flow_definition import IssuedCoupon, StoredFlow
from chalicelib.domain.messaging.model import FlowRun, RunContext
from chalicelib.domain.models import now_utc
from chalicelib.domain.timemath import iso

WATERMARK = "FLOWTICK"
REENTRY = "~last#"  # sorts after every run of the customer
SHARDS = 16  # the due index spreads a day's runs over this many buckets (by customer id)


def _run_pk(workspace_id: str, customer_id: str) -> str:
    return f"W#{workspace_id}#FR#{customer_id}"


class DynamoFlowStore:
    """`W#<ws>#FLOW` / `<flow>`: definitions. `W#<ws>#FR#<cid>` / `<flow>#<key>`: runs, with
    `rk` = `F#<day>#<shard>` and `nchk` = due time in the sparse `by_recheck` index while
    active. `W#<ws>#FR#<cid>` / `~last#<flow>`: when the customer last entered the flow."""

    def __init__(self, table: CrmTable, cache_seconds: float = 30, due_index: str = "by_recheck") -> None:
        self.t = table
        self.due_index = due_index
        self._lists: TtlCache[list[dict[str, Any]]] = TtlCache(cache_seconds)

    # -- definitions ----------------------------------------------------------------
    def put_flow(self, workspace_id: str, flow: StoredFlow, expected_version: int | None) -> None:
        values = flow_item(workspace_id, flow)
        values["ua"] = iso(now_utc())
        self.t.put_versioned(values, expected_version, "flow")
        self._lists.invalidate(workspace_id)

    def flow(self, workspace_id: str, flow_id: str) -> StoredFlow | None:
        item = self.get_flow(workspace_id, flow_id)
        return None if item is None else flow_from_item(item)

    def flows(self, workspace_id: str) -> list[StoredFlow]:
        return [flow_from_item(item) for item in self.list_flows(workspace_id)]

    def get_flow(self, workspace_id: str, flow_id: str) -> dict[str, Any] | None:
        """The stored item (`flow` maps it)."""
        return next((f for f in self.list_flows(workspace_id) if f["id"] == flow_id), None)

    def list_flows(self, workspace_id: str) -> list[dict[str, Any]]:
        """Cached briefly: every order, checkout and profile change asks which flows it starts."""

        def load() -> list[dict[str, Any]]:
            items, cursor = self.t.query(f"W#{workspace_id}#FLOW", limit=100, newest_first=False)
            while cursor:
                more, cursor = self.t.query(
                    f"W#{workspace_id}#FLOW", limit=100, start=cursor, newest_first=False
                )
                items.extend(more)
            return items

        return self._lists.get(workspace_id, load)

    # -- runs -----------------------------------------------------------------------
    def start_run(self, run: FlowRun) -> bool:
        item = run_item(run)
        try:
            self.t.put(item, "attribute_not_exists(pk)")
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def take_reentry(self, workspace_id: str, customer_id: str, flow_id: str, at: str, cutoff: str) -> bool:
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": _run_pk(workspace_id, customer_id)}, "sk": {"S": REENTRY + flow_id}},
                UpdateExpression="SET #at = :at, t = :t",
                ConditionExpression="attribute_not_exists(#at) OR #at < :cutoff",
                ExpressionAttributeNames={"#at": "at"},
                ExpressionAttributeValues={
                    ":at": {"S": at},
                    ":cutoff": {"S": cutoff},
                    ":t": {"S": "reentry"},
                },
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def runs(self, workspace_id: str, customer_id: str) -> list[FlowRun]:
        found: list[FlowRun] = []
        cursor = None
        while True:
            page, cursor = self.t.query(
                _run_pk(workspace_id, customer_id), limit=100, start=cursor, newest_first=False
            )
            found.extend(run_from_item(i) for i in page if i.get("t") == "flowrun")
            if cursor is None:
                return found

    def get_run(self, workspace_id: str, customer_id: str, run_id: str) -> FlowRun | None:
        item = self.t.get(_run_pk(workspace_id, customer_id), run_id, consistent=True)
        return None if item is None else run_from_item(item)

    def save_run(self, run: FlowRun, expected_step: int, expected_due: str | None) -> bool:
        """Conditioned on the step and due time it was read at: two ticks, or a tick and an
        exit event, cannot both move a run."""
        try:
            self.t.put(
                run_item(run),
                "#step = :step AND #due = :due AND st = :active",
                {":step": expected_step, ":due": expected_due or "", ":active": "active"},
                names={"#step": "step", "#due": "due"},
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def due(self, day: date, until: str) -> Iterator[tuple[str, str, str]]:
        """The day's buckets one after the other, each read when the previous is done."""
        for shard in range(SHARDS):
            for pk, sk in self.t.due_keys(self.due_index, f"F#{day:%Y-%m-%d}#{shard:02d}", until):
                _, workspace_id, _, customer_id = pk.split("#", 3)
                yield workspace_id, customer_id, sk

    def watermark(self) -> str | None:
        return self.t.watermark(WATERMARK)

    def set_watermark(self, until: str) -> None:
        self.t.set_watermark(WATERMARK, until)


def flow_item(workspace_id: str, flow: StoredFlow) -> dict[str, Any]:
    """A flow definition's item: `id`, `name`, `ver`, `on`, `def` (the definition's JSON),
    `trg` (its trigger event), `ua` (saved at)."""
    item: dict[str, Any] = {
        "pk": f"W#{workspace_id}#FLOW",
        "sk": flow.id,
        "t": "flow",
        "ws": workspace_id,
        "id": flow.id,
        "name": flow.name,
        "ver": flow.version,
        "on": flow.enabled,
        "def": flow.definition,
        "trg": flow.trigger,
    }
    if flow.updated_at is not None:
        item["ua"] = flow.updated_at
    return item


def flow_from_item(item: dict[str, Any]) -> StoredFlow:
    return StoredFlow(
        id=item["id"],
        name=item["name"],
        version=int(item["ver"]),
        enabled=bool(item.get("on")),
        trigger=item.get("trg"),
        definition=item["def"],
        updated_at=item.get("ua"),
    )


def due_bucket(day: date, customer_id: str) -> str:
    """`F#<day>#<shard>`: the shard from the customer id's last four hex digits."""
    shard = int(customer_id[-4:], 16) % SHARDS if re.fullmatch(r"[0-9a-f]{4}", customer_id[-4:]) else 0
    return f"F#{day:%Y-%m-%d}#{shard:02d}"


# a run's attributes: `ws`, `cid`, `id` (<flow>#<key>), `flow`, `key`, `st`, `step`, `at`,
# `started`, `due`, `ctx`, `seg`, `bday`, `tries`, `err`, `why`, `log`; `rk` and `nchk` (the
# due index) while active. Absent values are not stored.
_RUN_LAYOUT = ("pk", "sk", "t", "rk", "nchk")
_RUN_FIELDS = {
    "ws": "workspace_id",
    "cid": "customer_id",
    "id": "run_id",
    "flow": "flow_id",
    "key": "key",
    "st": "status",
    "step": "step",
    "at": "at",
    "started": "started",
    "due": "due",
    "ctx": "context",
    "seg": "segment",
    "bday": "birthday",
    "tries": "tries",
    "err": "error",
    "why": "reason",
    "log": "log",
}


def run_item(run: FlowRun) -> dict[str, Any]:
    """The stored item of a run (None values are left out when written)."""
    item: dict[str, Any] = {**run.extra}
    item.update({name: getattr(run, field) for name, field in _RUN_FIELDS.items()})
    item["ctx"] = context_item(run.context)
    item.update(pk=_run_pk(run.workspace_id, run.customer_id), sk=run.run_id, t="flowrun")
    if run.status == "active" and run.filed is not None:
        # in the due index only while active
        item["rk"], item["nchk"] = due_bucket(run.filed, run.customer_id), run.due
    return item


def run_from_item(item: dict[str, Any]) -> FlowRun:
    values: dict[str, Any] = {field: item.get(name) for name, field in _RUN_FIELDS.items()}
    values["step"] = int(item["step"])
    values["context"] = context_of(item.get("ctx"))
    if item.get("tries") is not None:
        values["tries"] = int(item["tries"])
    rk = item.get("rk")
    filed = date.fromisoformat(rk.split("#")[1]) if isinstance(rk, str) and rk.startswith("F#") else None
    extra = {k: v for k, v in item.items() if k not in _RUN_FIELDS and k not in _RUN_LAYOUT}
    return FlowRun(**values, filed=filed, extra=extra)


# a run's context (`ctx`): an order's `num` and `products`; a checkout's `url`, `total`,
# `cur`, `products` and `p` (the guest's contact, as the checkout stores it); both `prd`, the
# first line's [source id, product id] when it has one, `src`, the source it came from, and
# `pids`, every line's product id and SKU (never recommended in the run's messages)
_ORDER_CONTEXT = ("num", "products", "prd", "src", "pids")
_CHECKOUT_CONTEXT = ("url", "total", "cur", "products", "p", "prd", "src", "pids")


def context_item(context: RunContext | None) -> dict[str, Any] | None:
    if context is None:
        return None
    item: dict[str, Any]
    if context.kind == "order":
        item = {"num": context.order_number, "products": context.products}
    else:
        item = {
            "url": context.checkout_url,
            "total": context.total,
            "cur": context.currency,
            "products": context.products,
            "p": dict(context.guest) if context.guest is not None else None,
        }
    if context.product is not None:
        item["prd"] = list(context.product)
    if context.source_id is not None:
        item["src"] = context.source_id  # runs started before it was kept have none
    if context.product_ids:
        item["pids"] = list(context.product_ids)  # runs started before it was kept have none
    return item | dict(context.extra)


def context_of(stored: dict[str, Any] | None) -> RunContext | None:
    if stored is None:
        return None
    if "num" in stored:
        named: tuple[str, ...] = _ORDER_CONTEXT
        context = RunContext(
            "order",
            products=stored.get("products"),
            order_number=stored.get("num"),
            source_id=stored.get("src"),
        )
    else:
        named = _CHECKOUT_CONTEXT
        context = RunContext(
            "checkout",
            products=stored.get("products"),
            checkout_url=stored.get("url"),
            total=stored.get("total"),
            currency=stored.get("cur"),
            guest=stored.get("p"),
            source_id=stored.get("src"),
        )
    prd = stored.get("prd")
    product = (str(prd[0]), str(prd[1])) if isinstance(prd, list | tuple) and len(prd) == 2 else None
    return dataclasses.replace(
        context,
        product=product,
        product_ids=tuple(str(p) for p in stored.get("pids") or ()),
        extra={k: v for k, v in stored.items() if k not in named},
    )


class DynamoCoupons:
    """`W#<ws>#CPN` / `<code>`: issued once (conditional put); a retry gets the stored one.
    Each is listed in its customer's person index (`W#<ws>#PX#<cid>` / `CPN#<code>`)."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def issue(self, workspace_id: str, coupon: IssuedCoupon) -> IssuedCoupon:
        item = coupon_item(workspace_id, dataclasses.replace(coupon, issued_at=iso(now_utc())))
        try:
            self.t.put(item, "attribute_not_exists(pk)")
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return coupon_from_item(self.t.get(f"W#{workspace_id}#CPN", coupon.code, consistent=True) or item)
        if coupon.customer_id:  # the person index: an erasure of the customer deletes it
            self.t.put(index_items(workspace_id, [(coupon.customer_id, f"CPN#{coupon.code}")])[0])
        return coupon_from_item(item)

    def get(self, workspace_id: str, code: str) -> IssuedCoupon | None:
        item = self.t.get(f"W#{workspace_id}#CPN", code)
        return None if item is None else coupon_from_item(item)

    def registered(self, workspace_id: str, code: str, source_id: str, store_id: str) -> bool:
        """The store's id of an issued code, set once (`attribute_not_exists(sid)`)."""
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": f"W#{workspace_id}#CPN"}, "sk": {"S": code}},
                UpdateExpression="SET sid = :sid, src = :src, reg = :reg",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(sid)",
                ExpressionAttributeValues={
                    ":sid": {"S": store_id},
                    ":src": {"S": source_id},
                    ":reg": {"BOOL": True},
                },
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True


def coupon_item(workspace_id: str, coupon: IssuedCoupon) -> dict[str, Any]:
    """A coupon's item: `cid`, `mk` (the message key), `pct` or `amt` and `cur`, `exp`
    (expires at), `ia` (issued at); redeemed: `ro` (order key), `rat`, `rrev` (net revenue);
    None values are left out when written."""
    return {
        "pk": f"W#{workspace_id}#CPN",
        "sk": coupon.code,
        "t": "coupon",
        "ws": workspace_id,
        "cid": coupon.customer_id,
        "mk": coupon.message_key,
        "pct": coupon.percent_off,
        "amt": coupon.amount_off,
        "cur": coupon.currency,
        "exp": coupon.expires_at,
        "ia": coupon.issued_at,
        "src": coupon.source_id,
        "sid": coupon.store_id,
        "reg": coupon.registered,
        "ro": coupon.order_key,
        "rat": coupon.redeemed_at,
        "rrev": coupon.revenue,
    }


def coupon_from_item(item: dict[str, Any]) -> IssuedCoupon:
    def number(name: str) -> Decimal | None:
        return None if item.get(name) is None else Decimal(str(item[name]))

    return IssuedCoupon(
        code=item["sk"],
        customer_id=item.get("cid") or "",
        message_key=item.get("mk") or "",
        expires_at=item["exp"],
        percent_off=number("pct"),
        amount_off=number("amt"),
        currency=item.get("cur"),
        issued_at=item.get("ia"),
        source_id=item.get("src"),
        store_id=item.get("sid"),
        registered=None if item.get("reg") is None else bool(item["reg"]),
        order_key=item.get("ro"),
        redeemed_at=item.get("rat"),
        revenue=number("rrev"),
    )
