"""Messaging adapters: the send ledger, held notifications, counters and templates in the
CRM table. The limits (opt-outs, suppressions, caps, credits) are in limits.py, the SES and
SNS channels in channels.py (both re-exported here, where the rest imports them from)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.adapters.channels import PASSTHROUGH_TEMPLATE as PASSTHROUGH_TEMPLATE
from chalicelib.adapters.channels import THROTTLE_CODES as THROTTLE_CODES
from chalicelib.adapters.channels import AwsChannels as AwsChannels
from chalicelib.adapters.codec import to_item
from chalicelib.adapters.crm_table import CrmTable, counter_update
from chalicelib.adapters.limits import LIST_SHARDS as LIST_SHARDS
from chalicelib.adapters.limits import DynamoLimits as DynamoLimits
from chalicelib.adapters.limits import address_hash as address_hash
from chalicelib.adapters.limits import opt_out_key as opt_out_key
from chalicelib.adapters.limits import suppression_key as suppression_key
from chalicelib.domain.errors import Conflict
from chalicelib.domain.messaging.model import Claim, Template
from chalicelib.domain.messaging.stats import COUNTERS
from chalicelib.domain.models import now_utc
from chalicelib.domain.timemath import iso

LEDGER_DAYS = 400  # a message key is remembered this long


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


HELD_PK = "NOTEHELD"


class DynamoHeldNotifications:
    """`NOTEHELD` / `<ws>#<ingest key>`: orders whose notifications the provider refused
    for now (domain/pipeline.py). One partition for all workspaces: it is written only
    while a provider throttles, and emptied by the minute job."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def hold(self, workspace_id: str, item_key: str, at: datetime) -> None:
        self.t.put({"pk": HELD_PK, "sk": f"{workspace_id}#{item_key}", "t": "held", "at": iso(at)})

    def held(self, limit: int) -> list[tuple[str, str]]:
        items, _ = self.t.query(HELD_PK, limit=limit, newest_first=False)
        out = []
        for item in items:
            workspace_id, _, item_key = str(item["sk"]).partition("#")  # workspace ids have no '#'
            out.append((workspace_id, item_key))
        return out

    def release(self, workspace_id: str, item_key: str) -> None:
        self.t.client.delete_item(TableName=self.t.table, Key=_key(HELD_PK, f"{workspace_id}#{item_key}"))


class DynamoLedger:
    """`W#<ws>#MSG#<cid>` / `<message key>`: claimed once, then sent, dropped or refused."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def claim(self, workspace_id: str, customer_id: str, key: str, now: datetime, lease: timedelta) -> Claim:
        try:
            self.t.client.put_item(
                TableName=self.t.table,
                Item={
                    **_key(f"W#{workspace_id}#MSG#{customer_id}", key),
                    "t": {"S": "message"},
                    "st": {"S": "sending"},
                    "lease": {"S": iso(now + lease) or ""},
                    "at": {"S": iso(now) or ""},
                    "ttl": {"N": str(int((now + timedelta(days=LEDGER_DAYS)).timestamp()))},
                },
                # a claim whose lease ran out (a crash before the provider answered) is retaken,
                # unless SES reported it sent (`ev_send`): then the crash came after the send
                ConditionExpression=(
                    "attribute_not_exists(pk) OR "
                    "(st = :sending AND lease < :now AND attribute_not_exists(ev_send))"
                ),
                ExpressionAttributeValues={":sending": {"S": "sending"}, ":now": {"S": iso(now) or ""}},
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            held = self.t.get(f"W#{workspace_id}#MSG#{customer_id}", key, consistent=True)
            if held and held.get("st") == "sending" and held.get("ev_send"):
                self.confirm_sent(workspace_id, customer_id, key, "reported sent by SES")
                return "done"
            return "busy" if held and held.get("st") == "sending" else "done"
        return "claimed"

    def confirm_sent(self, workspace_id: str, customer_id: str, key: str, provider_id: str) -> None:
        """SES's Send event: a claim still `sending` (its sender died after SES accepted the
        message) becomes `sent`; a claim already finished is left as it is."""
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key=_key(f"W#{workspace_id}#MSG#{customer_id}", key),
                UpdateExpression="SET st = :sent, detail = :d REMOVE lease",
                ConditionExpression="st = :sending",
                ExpressionAttributeValues={
                    ":sent": {"S": "sent"},
                    ":sending": {"S": "sending"},
                    ":d": {"S": provider_id[:500]},
                },
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return  # finished already (the usual case), or no claim (a test send)

    def finish(self, workspace_id: str, customer_id: str, key: str, status: str, detail: str) -> None:
        self.t.client.update_item(
            TableName=self.t.table,
            Key=_key(f"W#{workspace_id}#MSG#{customer_id}", key),
            UpdateExpression="SET st = :s, detail = :d REMOVE lease",
            ExpressionAttributeValues={":s": {"S": status}, ":d": {"S": detail[:500]}},
        )

    def release(self, workspace_id: str, customer_id: str, key: str) -> None:
        try:
            self.t.client.delete_item(
                TableName=self.t.table,
                Key=_key(f"W#{workspace_id}#MSG#{customer_id}", key),
                ConditionExpression="st = :sending",
                ExpressionAttributeValues={":sending": {"S": "sending"}},
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return  # already finished (a refusal or a drop): nothing to free

    def record_event(
        self,
        workspace_id: str,
        customer_id: str,
        key: str,
        event: str,
        at: str,
        counts: dict[str, dict[str, int]] | None = None,
    ) -> bool:
        """`ev_<event>`: when SES reported it (send, delivery, open, click, bounce, complaint),
        set once. With `counts`, the statistics are added in the same transaction, so the
        first report of an event counts exactly once. False if already recorded (or no claim)."""
        claim_update = {
            "TableName": self.t.table,
            "Key": _key(f"W#{workspace_id}#MSG#{customer_id}", key),
            "UpdateExpression": "SET #e = :at",
            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#e)",
            "ExpressionAttributeNames": {"#e": f"ev_{event}"},
            "ExpressionAttributeValues": {":at": {"S": at}},
        }
        if not counts:
            try:
                self.t.client.update_item(**claim_update)
            except self.t.client.exceptions.ConditionalCheckFailedException:
                return False  # recorded before, or a message with no claim (a test send)
            return True
        return once_with_counts(self.t, workspace_id, {"Update": claim_update}, counts)

    def entries(self, workspace_id: str, customer_id: str) -> list[dict[str, Any]]:
        items, _ = self.t.query(f"W#{workspace_id}#MSG#{customer_id}", limit=100)
        return items


def transact_once(table: CrmTable, actions: list[dict[str, Any]]) -> bool:
    """All of `actions` or none; False when the first one's condition (the guard that makes
    it happen once) failed, any other cancellation raised."""
    try:
        table.client.transact_write_items(TransactItems=actions)
    except table.client.exceptions.TransactionCanceledException as exc:
        reasons = exc.response.get("CancellationReasons") or []
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            return False
        raise
    return True


STATS_SHARDS = 16  # SES events spread over this many partitions per workspace (see below)


def stats_keys(workspace_id: str, scope: str) -> list[tuple[str, str]]:
    """Every item a scope's counters live in: the base item and its event shards."""
    return [(f"W#{workspace_id}#STATS", scope)] + [
        (f"W#{workspace_id}#STATS#{n:02d}", scope) for n in range(STATS_SHARDS)
    ]


def _stats_add(
    table: str, workspace_id: str, scope: str, counts: Mapping[str, int | Decimal]
) -> dict[str, Any]:
    """A TransactWriteItems `Update` adding `counts` to one scope's statistics.

    SES events of a big campaign all count for one scope (hundreds a second): they go to
    one of `STATS_SHARDS` partitions, `W#<ws>#STATS#NN`, at random (the ADDs commute, and
    the transaction's condition on the claim counts each event once), so no single
    partition takes more than its share. Readers sum the base item and the shards."""
    shard = secrets.randbelow(STATS_SHARDS)
    update = counter_update(table, f"W#{workspace_id}#STATS#{shard:02d}", scope, counts, "stats")
    if update is None:
        raise ValueError(f"no count moves for {scope}")
    return {"Update": update}


def once_with_counts(
    table: CrmTable,
    workspace_id: str,
    guard: dict[str, Any],
    counts: Mapping[str, Mapping[str, int | Decimal]],
) -> bool:
    """The guarded action (a conditional Put or Update that makes it happen once) and the
    statistics it brings, in one transaction: False when the guard found it done before."""
    stats = [
        _stats_add(table.table, workspace_id, scope, c) for scope, c in counts.items() if any(c.values())
    ]
    return transact_once(table, [guard, *stats])


def put_if_absent(table: CrmTable, item: dict[str, Any]) -> dict[str, Any]:
    """A transaction's `Put` that only creates."""
    return {
        "Put": {
            "TableName": table.table,
            "Item": to_item(item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


class DynamoStats:
    """`W#<ws>#STATS` / `<scope>`: counters per campaign and flow, added atomically."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def add(self, workspace_id: str, scope: str, counts: dict[str, int | Decimal]) -> None:
        self.t.add_counts(f"W#{workspace_id}#STATS", scope, counts, kind="stats")

    def get(self, workspace_id: str, scope: str) -> dict[str, int | Decimal]:
        """The base item and the event shards, summed (one BatchGetItem)."""
        return sum_counters(self.t.batch_get(stats_keys(workspace_id, scope), consistent=False))


def sum_counters(items: list[dict[str, Any]]) -> dict[str, int | Decimal]:
    totals: dict[str, int | Decimal] = dict.fromkeys(COUNTERS, 0)
    for item in items:
        for name in COUNTERS:
            totals[name] += item.get(name, 0)
    return totals


class DynamoTemplates:
    """`W#<ws>#TPL` / `<template id>`: the latest version, kept whole for one read;
    `W#<ws>#TPLV#<template id>` / `v<version>`: every version, for the record."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def save(self, workspace_id: str, template: Template, name: str, previous: int | None) -> None:
        body = {
            "subject": template.subject,
            "html": template.html,
            "text": template.text,
            "sms": template.sms,
        }
        at = iso(now_utc())
        try:
            self.t.put(
                {
                    "pk": f"W#{workspace_id}#TPLV#{template.template_id}",
                    "sk": f"v{template.version:06d}",
                    "t": "template_version",
                    "ca": at,
                    **body,
                },
                "attribute_not_exists(pk)",
            )
        except self.t.client.exceptions.ConditionalCheckFailedException as exc:
            # another save made this version first (it raced this one from the same version)
            raise Conflict("the template changed meanwhile; reload it and save again") from exc
        condition, values = (
            ("attribute_not_exists(pk)", None) if previous is None else ("ver = :prev", {":prev": previous})
        )
        try:
            self.t.put(
                {
                    "pk": f"W#{workspace_id}#TPL",
                    "sk": template.template_id,
                    "t": "template",
                    "name": name,
                    "ver": template.version,
                    "ua": at,
                    **body,
                },
                condition,
                values,
            )
        except self.t.client.exceptions.ConditionalCheckFailedException as exc:
            raise Conflict("the template changed meanwhile; reload it and save again") from exc

    def get(self, workspace_id: str, template_id: str) -> Template | None:
        item = self.t.get(f"W#{workspace_id}#TPL", template_id, consistent=True)
        return None if item is None else template_from_item(item)

    def latest(self, workspace_id: str, template_id: str) -> Template:
        template = self.get(workspace_id, template_id)
        if template is None:
            raise LookupError(f"template {template_id} not found")
        return template

    def list(self, workspace_id: str) -> list[Template]:
        items, _ = self.t.query(f"W#{workspace_id}#TPL", limit=200, newest_first=False)
        return [template_from_item(i) for i in items]


def template_from_item(item: dict[str, Any]) -> Template:
    """`W#<ws>#TPL` / `<template id>`: `ver`, `name`, `subject`, `html`, `text`, `sms`."""
    return Template(
        str(item["sk"]),
        int(item["ver"]),
        item.get("subject", ""),
        item.get("html", ""),
        item.get("text", ""),
        item.get("sms", ""),
        name=item.get("name", ""),
    )
