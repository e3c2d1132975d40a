"""Campaigns in the CRM table, and their batches on SQS.

- `W#<ws>#CAMP` / `<campaign id>`: the campaign, its status, phase, member cursor and
  counters (conditional updates and `ADD` only);
- `CAMPQ` / `<ws>#<campaign id>`: the campaigns the minute job looks at (scheduled,
  sending, paused), one small partition;
- `W#<ws>#CAMPB#<campaign id>` / `<batch id>`: a paused campaign's parked batches;
- `W#<ws>#CAMPX#<campaign id>` / `<batch id>`: a cancelled campaign's batches dropped,
  so that a redelivered one is counted once;
- `CAMPDUE` / `<due time>#<ws>#<campaign id>#<batch id>`: batches held until a time
  further away than the queue can delay (quiet hours, caps).

The campaign item's short attributes are mapped in one place (`campaign_to_item`,
`campaign_from_item`), its A/B decision (`abd`) in `decision_to_item`, and a batch's body
(the queue message, a parked or held batch) in `batch_to_body`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.adapters.codec import to_av
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.retry import send_message_batch
from chalicelib.domain.messaging.abtest import Decision
from chalicelib.domain.messaging.campaign_model import (
    Campaign,
    CampaignBatch,
    CampaignVariant,
    FeaturedProduct,
    Recipient,
)
from chalicelib.domain.timemath import iso, parse_iso

DUE_PK = "CAMPDUE"
ACTIVE_PK = "CAMPQ"
PARKED_DAYS = 30  # parked and held batches expire (ttl) after this long


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _carry(recipients: list[Recipient]) -> list[dict[str, str]]:
    return [{"c": c, "v": v} for c, v in recipients]


def campaign_to_item(c: Campaign) -> dict[str, Any]:
    """The campaign item's attributes (without its key); absent ones left out."""
    item: dict[str, Any] = {
        "id": c.id,
        "ws": c.workspace_id,
        "name": c.name,
        "seg": c.segment_id,
        "ch": c.channel,
        "vars": [{"id": v.id, "tpl": v.template_id} for v in c.variants],
        "ts": c.test_share,
        "wm": c.winner_metric,
        "dah": c.decide_after_hours,
        "mss": c.min_sample_per_variant,
        "sat": iso(c.send_at),
        "oc": c.over_cap,
        "st": c.status,
        "ph": c.phase,
        "enq": c.enqueued,
        "skip": c.skipped,
        "dup": c.duplicates,
        "fail": c.failed,
        "canc": c.cancelled,
        "ca": iso(c.created_at),
        "cur": c.cursor,
        "carry": _carry(c.carry) or None,
        "win": c.winner,
        "abd": None if c.decision is None else decision_to_item(c.decision),
        "dec": iso(c.decide_at),
        "fin": iso(c.finished_at),
        "prd": None if c.product is None else product_to_item(c.product),
    }
    return {k: v for k, v in item.items() if v is not None}


def product_to_item(p: FeaturedProduct) -> dict[str, str]:
    """The featured product as the campaign item keeps it (`prd`): ref, title, url, image."""
    return {k: v for k, v in {"r": p.ref, "t": p.title, "u": p.url, "i": p.image}.items() if v}


def product_from_item(item: dict[str, Any]) -> FeaturedProduct:
    return FeaturedProduct(ref=item["r"], title=item["t"], url=item.get("u"), image=item.get("i"))


def campaign_from_item(item: dict[str, Any]) -> Campaign:
    return Campaign(
        id=item["id"],
        workspace_id=item["ws"],
        name=item["name"],
        segment_id=item["seg"],
        channel=item["ch"],
        variants=[CampaignVariant(v["id"], v["tpl"]) for v in item["vars"]],
        winner_metric=item["wm"],
        decide_after_hours=Decimal(str(item["dah"])),
        over_cap=item["oc"],
        status=item["st"],
        phase=item["ph"],
        test_share=None if item.get("ts") is None else Decimal(str(item["ts"])),
        min_sample_per_variant=None if item.get("mss") is None else int(item["mss"]),
        send_at=parse_iso(item.get("sat")),
        created_at=parse_iso(item.get("ca")),
        enqueued=int(item.get("enq", 0)),
        skipped=int(item.get("skip", 0)),
        duplicates=int(item.get("dup", 0)),
        failed=int(item.get("fail", 0)),
        cancelled=int(item.get("canc", 0)),
        cursor=item.get("cur"),
        carry=[(r["c"], r["v"]) for r in item.get("carry") or []],
        winner=item.get("win"),
        decision=decision_from_item(item["abd"]) if item.get("abd") else None,
        decide_at=parse_iso(item.get("dec")),
        finished_at=parse_iso(item.get("fin")),
        product=product_from_item(item["prd"]) if item.get("prd") else None,
    )


def decision_to_item(d: Decision) -> dict[str, Any]:
    """The A/B decision as the campaign item holds it (`abd`; no floats in DynamoDB)."""
    item: dict[str, Any] = {"out": d.outcome, "rule": d.rule, "n": d.samples}
    for key, value in (("why", d.reason), ("lead", d.leader), ("win", d.winner)):
        if value is not None:
            item[key] = value
    if d.p_value is not None:
        item["p"] = Decimal(f"{d.p_value:.6g}")
    return item


def decision_from_item(item: dict[str, Any]) -> Decision:
    return Decision(
        outcome=item["out"],
        winner=item.get("win"),
        reason=item.get("why"),
        leader=item.get("lead"),
        p_value=float(item["p"]) if item.get("p") is not None else None,
        rule=item["rule"],
        samples=item["n"],
    )


def batch_to_body(b: CampaignBatch) -> dict[str, Any]:
    """A batch as the queue message (and a parked or held batch's `body`) carries it."""
    return {"ws": b.workspace_id, "camp": b.campaign_id, "b": b.batch_id, "to": _carry(b.recipients)}


def batch_from_body(body: dict[str, Any]) -> CampaignBatch:
    return CampaignBatch(body["ws"], body["camp"], body["b"], [(r["c"], r["v"]) for r in body["to"]])


class DynamoCampaigns:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def _pk(self, workspace_id: str) -> str:
        return f"W#{workspace_id}#CAMP"

    def create(self, campaign: Campaign) -> None:
        self.t.put(
            {
                "pk": self._pk(campaign.workspace_id),
                "sk": campaign.id,
                "t": "campaign",
                **campaign_to_item(campaign),
            },
            "attribute_not_exists(pk)",
        )

    def get(self, workspace_id: str, campaign_id: str) -> Campaign | None:
        item = self.t.get(self._pk(workspace_id), campaign_id, consistent=True)
        return None if item is None else campaign_from_item(item)

    def _update(
        self,
        workspace_id: str,
        campaign_id: str,
        update: str,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> bool:
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "Key": _key(self._pk(workspace_id), campaign_id),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": {k: to_av(v) for k, v in values.items()},
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        try:
            self.t.client.update_item(**kwargs)
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def transition(
        self,
        workspace_id: str,
        campaign_id: str,
        allowed: tuple[str, ...],
        status: str,
    ) -> bool:
        values: dict[str, Any] = {":to": status}
        allowed_names = []
        for i, state in enumerate(allowed):
            values[f":a{i}"] = state
            allowed_names.append(f":a{i}")
        changed = self._update(
            workspace_id,
            campaign_id,
            "SET st = :to",
            f"st IN ({', '.join(allowed_names)})",
            values,
            None,
        )
        if changed and status in ("scheduled", "sending"):
            self.t.put({"pk": ACTIVE_PK, "sk": f"{workspace_id}#{campaign_id}", "t": "campaign_active"})
        return changed

    def set_phase(
        self,
        workspace_id: str,
        campaign_id: str,
        phase: str,
        new_phase: str,
        *,
        decision: Decision | None = None,
        decide_at: datetime | None = None,
        finished_at: datetime | None = None,
    ) -> bool:
        extra: dict[str, Any] = {}
        if decision is not None:
            extra["abd"] = decision_to_item(decision)
            if decision.winner is not None:
                extra["win"] = decision.winner
        if decide_at is not None:
            extra["dec"] = iso(decide_at)
        if finished_at is not None:
            extra["fin"] = iso(finished_at)
        sets = ["ph = :new"] + [f"#x{i} = :x{i}" for i in range(len(extra))]
        values: dict[str, Any] = {":new": new_phase, ":old": phase, ":sending": "sending"}
        names: dict[str, str] = {}
        for i, (name, value) in enumerate(extra.items()):
            names[f"#x{i}"], values[f":x{i}"] = name, value
        return self._update(
            workspace_id,
            campaign_id,
            "SET " + ", ".join(sets) + " REMOVE cur",
            "ph = :old AND st = :sending",
            values,
            names or None,
        )

    def advance(
        self,
        workspace_id: str,
        campaign_id: str,
        phase: str,
        cursor: str | None,
        new_cursor: str | None,
        enqueued: int,
        skipped: int,
        carry: list[Recipient],
    ) -> bool:
        """The cursor moves from where this run read to where it stopped, once, with the
        recipients carried to the next page."""
        values: dict[str, Any] = {
            ":ph": phase,
            ":sending": "sending",
            ":e": enqueued,
            ":s": skipped,
        }
        condition = "st = :sending AND ph = :ph AND "
        if cursor is None:
            condition += "attribute_not_exists(cur)"
        else:
            condition += "cur = :old"
            values[":old"] = cursor
        sets, removes = [], []
        if new_cursor is None:
            removes.append("cur")
        else:
            sets.append("cur = :new")
            values[":new"] = new_cursor
        if carry:
            sets.append("carry = :carry")
            values[":carry"] = _carry(carry)
        else:
            removes.append("carry")
        update = (
            ("SET " + ", ".join(sets) + " " if sets else "")
            + ("REMOVE " + ", ".join(removes) + " " if removes else "")
            + "ADD enq :e, skip :s"
        )
        return self._update(workspace_id, campaign_id, update, condition, values, None)

    def add(
        self, workspace_id: str, campaign_id: str, *, duplicates: int = 0, failed: int = 0, cancelled: int = 0
    ) -> None:
        counts = {"dup": duplicates, "fail": failed, "canc": cancelled}
        self.t.add_counts(self._pk(workspace_id), campaign_id, counts, must_exist=True)

    def all(self, workspace_id: str) -> list[Campaign]:
        """The workspace's campaigns (`patron campaign list`): one Query of its partition."""
        found: list[Campaign] = []
        cursor = None
        while True:
            page, cursor = self.t.query(self._pk(workspace_id), limit=200, start=cursor, newest_first=False)
            found.extend(campaign_from_item(item) for item in page)
            if cursor is None:
                return found

    def page(self, workspace_id: str, limit: int, cursor: str | None) -> tuple[list[Campaign], str | None]:
        """`limit` campaigns after `cursor` in id order (`GET /campaigns`): one Query of
        `limit + 1` items, so a cursor is given only when another campaign follows."""
        page, _ = self.t.query(self._pk(workspace_id), limit=limit + 1, start=cursor, newest_first=False)
        found = [campaign_from_item(item) for item in page[:limit]]
        return found, (found[-1].id if len(page) > limit else None)

    def active(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        cursor = None
        while True:
            page, cursor = self.t.query(ACTIVE_PK, limit=200, start=cursor, newest_first=False)
            for item in page:
                workspace_id, _, campaign_id = item["sk"].partition("#")
                found.append((workspace_id, campaign_id))
            if cursor is None:
                return found

    def deactivate(self, workspace_id: str, campaign_id: str) -> None:
        self.t.client.delete_item(
            TableName=self.t.table, Key=_key(ACTIVE_PK, f"{workspace_id}#{campaign_id}")
        )

    def _ttl(self) -> int:
        from chalicelib.domain.models import now_utc

        return int((now_utc() + timedelta(days=PARKED_DAYS)).timestamp())

    def park(self, workspace_id: str, campaign_id: str, batch: CampaignBatch) -> None:
        self.t.put(
            {
                "pk": f"W#{workspace_id}#CAMPB#{campaign_id}",
                "sk": batch.batch_id,
                "t": "campaign_batch",
                "body": json.dumps(batch_to_body(batch)),
                "ttl": self._ttl(),
            }
        )

    def parked(self, workspace_id: str, campaign_id: str) -> list[CampaignBatch]:
        batches: list[CampaignBatch] = []
        cursor = None
        while True:
            page, cursor = self.t.query(
                f"W#{workspace_id}#CAMPB#{campaign_id}", limit=500, start=cursor, newest_first=False
            )
            batches.extend(batch_from_body(json.loads(item["body"])) for item in page)
            if cursor is None:
                return batches

    def unpark(self, workspace_id: str, campaign_id: str, batch_id: str) -> bool:
        """True for the one caller that removed it."""
        try:
            self.t.client.delete_item(
                TableName=self.t.table,
                Key=_key(f"W#{workspace_id}#CAMPB#{campaign_id}", batch_id),
                ConditionExpression="attribute_exists(pk)",
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def drop_once(self, workspace_id: str, campaign_id: str, batch_id: str) -> bool:
        """True the first time this batch is dropped (a cancelled campaign's batch)."""
        try:
            self.t.put(
                {
                    "pk": f"W#{workspace_id}#CAMPX#{campaign_id}",
                    "sk": batch_id,
                    "t": "campaign_dropped_batch",
                    "ttl": self._ttl(),
                },
                "attribute_not_exists(pk)",
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def hold(self, due: datetime, batch: CampaignBatch) -> None:
        self.t.put(
            {
                "pk": DUE_PK,
                "sk": f"{iso(due)}#{batch.workspace_id}#{batch.campaign_id}#{batch.batch_id}",
                "t": "campaign_due",
                "body": json.dumps(batch_to_body(batch)),
                "ttl": self._ttl(),
            }
        )

    def due(self, now: datetime, limit: int) -> list[tuple[str, CampaignBatch]]:
        response = self.t.client.query(
            TableName=self.t.table,
            KeyConditionExpression="pk = :pk AND sk <= :now",
            ExpressionAttributeValues={":pk": {"S": DUE_PK}, ":now": {"S": f"{iso(now)}#~"}},
            Limit=limit,
            ConsistentRead=True,
        )
        return [
            (i["sk"]["S"], batch_from_body(json.loads(i["body"]["S"]))) for i in response.get("Items", [])
        ]

    def release(self, due_key: str) -> None:
        self.t.client.delete_item(TableName=self.t.table, Key=_key(DUE_PK, due_key))


class SqsCampaignQueue:
    """Campaign batches on SQS, ten messages per SendMessageBatch; a failed entry is sent
    again with backoff, and raises if it still fails (the caller has not saved its cursor yet)."""

    def __init__(self, client: Any, queue_url: str, max_delay: int = 900) -> None:
        self._client = client
        self.queue_url = queue_url
        self.max_delay = max(0, min(900, max_delay))

    def enqueue(self, batches: list[tuple[CampaignBatch, int]]) -> None:
        for start in range(0, len(batches), 10):
            entries = [
                {
                    "Id": str(i),
                    "MessageBody": json.dumps(batch_to_body(batch), separators=(",", ":")),
                    "DelaySeconds": max(0, min(self.max_delay, delay)),
                }
                for i, (batch, delay) in enumerate(batches[start : start + 10])
            ]
            send_message_batch(self._client, self.queue_url, entries)

    def read(self, body: dict[str, Any]) -> CampaignBatch:
        """A received message's batch."""
        return batch_from_body(body)

    def retry_in(self, receipt: str, seconds: int) -> None:
        self._client.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=max(0, min(43_200, seconds))
        )
