"""The sales pipeline in the CRM table (docs/data-model.md, "Sales pipeline"): the settings
item, the opportunities' heads in the workspace's opportunities partition, each one's events
in its own partition, the source guards and the won-awaiting-an-order marks. Every write is
one transaction; an append is conditioned on the head's `seq`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.adapters.cache import TtlCache
from chalicelib.adapters.codec import to_av, to_item
from chalicelib.adapters.crm_table import CrmTable, put_action
from chalicelib.domain.sales.model import Opportunity, OpportunityEvent, OpportunityEventKind, Outcome
from chalicelib.domain.sales.settings import Rule, SalesSettings, Stage, Target
from chalicelib.domain.timemath import iso, parse_iso

CFG = "CFG"
EVENTS = "E#"


def settings_pk(workspace_id: str) -> str:
    return f"W#{workspace_id}#SALES"


def heads_pk(workspace_id: str) -> str:
    return f"W#{workspace_id}#SALES#OPP"


def events_pk(workspace_id: str, opportunity_id: str) -> str:
    return f"W#{workspace_id}#OP#{opportunity_id}"


def guards_pk(workspace_id: str) -> str:
    return f"W#{workspace_id}#SALES#SRC"


def waits_pk(workspace_id: str) -> str:
    return f"W#{workspace_id}#SALES#WAIT"


def _at(value: Any) -> Any:
    return None if value is None else parse_iso(str(value))


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def head_item(o: Opportunity) -> dict[str, Any]:
    item = {
        "pk": heads_pk(o.workspace_id),
        "sk": o.id,
        "t": "opportunity",
        "ws": o.workspace_id,
        "oid": o.id,
        "cid": o.customer_id,
        "ti": o.title,
        "o": o.owner,
        "st": o.stage,
        "oc": o.outcome.value,
        "v": str(o.value),
        "cur": o.currency,
        "ec": o.expected_close.isoformat() if o.expected_close else None,
        "src": o.source,
        "tk": o.ticket_id,
        "ca": iso(o.created_at),
        "ua": iso(o.updated_at),
        "xa": iso(o.closed_at),
        "ord": o.order_id,
        "av": None if o.actual_value is None else str(o.actual_value),
        "df": None if o.difference is None else str(o.difference),
        "seq": o.seq,
    }
    return {k: v for k, v in item.items() if v is not None}


def opportunity_of(item: dict[str, Any]) -> Opportunity:
    from datetime import date

    return Opportunity(
        workspace_id=str(item["ws"]),
        id=str(item["oid"]),
        customer_id=str(item["cid"]),
        title=str(item.get("ti") or ""),
        owner=None if item.get("o") is None else str(item["o"]),
        stage=str(item["st"]),
        outcome=Outcome(item["oc"]),
        value=Decimal(str(item["v"])),
        currency=str(item["cur"]),
        created_at=_at(item["ca"]),
        updated_at=_at(item["ua"]),
        source=str(item.get("src") or "manual"),
        expected_close=date.fromisoformat(str(item["ec"])) if item.get("ec") else None,
        ticket_id=None if item.get("tk") is None else str(item["tk"]),
        closed_at=_at(item.get("xa")),
        order_id=None if item.get("ord") is None else str(item["ord"]),
        actual_value=_dec(item.get("av")),
        difference=_dec(item.get("df")),
        seq=int(item["seq"]),
    )


def event_item(workspace_id: str, opportunity_id: str, seq: int, event: OpportunityEvent) -> dict[str, Any]:
    return {
        "pk": events_pk(workspace_id, opportunity_id),
        "sk": f"{EVENTS}{seq:06d}",
        "t": "opportunity_event",
        "k": event.kind.value,
        "at": iso(event.at),
        "by": event.by,
        "d": dict(event.data),
    }


def event_of(item: dict[str, Any]) -> OpportunityEvent:
    return OpportunityEvent(
        OpportunityEventKind(item["k"]), _at(item["at"]), str(item["by"]), dict(item.get("d") or {})
    )


def guard_item(workspace_id: str, guard: str, opportunity_id: str) -> dict[str, Any]:
    return {"pk": guards_pk(workspace_id), "sk": guard, "t": "opportunity_source", "oid": opportunity_id}


def wait_item(o: Opportunity) -> dict[str, Any]:
    return {"pk": waits_pk(o.workspace_id), "sk": f"{o.customer_id}#{o.id}", "t": "opportunity_wait"}


def settings_item(workspace_id: str, s: SalesSettings, version: int) -> dict[str, Any]:
    return {
        "pk": settings_pk(workspace_id),
        "sk": CFG,
        "t": "sales_settings",
        "stg": [{"n": x.name, "p": str(x.probability), "w": x.won, "l": x.lost} for x in s.stages],
        "sd": s.stale_days,
        "tgt": [{"o": t.owner, "per": t.period, "a": str(t.amount)} for t in s.targets],
        "rl": [
            {
                k: v
                for k, v in {
                    "id": r.id,
                    "tr": r.trigger,
                    "min": None if r.min_value is None else str(r.min_value),
                    "seg": r.segment,
                    "o": r.owner,
                    "v": None if r.value is None else str(r.value),
                    "ti": r.title,
                }.items()
                if v is not None
            }
            for r in s.rules
        ],
        "ver": version,
    }


def settings_of(item: dict[str, Any]) -> SalesSettings:
    return SalesSettings(
        stages=tuple(
            Stage(name=x["n"], probability=Decimal(str(x["p"])), won=bool(x["w"]), lost=bool(x["l"]))
            for x in item.get("stg") or ()
        ),
        stale_days=int(item.get("sd", 0)),
        targets=tuple(
            Target(owner=t["o"], period=t["per"], amount=Decimal(str(t["a"]))) for t in item.get("tgt") or ()
        ),
        rules=tuple(
            Rule(
                id=r["id"],
                trigger=r["tr"],
                min_value=_dec(r.get("min")),
                segment=r.get("seg"),
                owner=r.get("o"),
                value=_dec(r.get("v")),
                title=r.get("ti"),
            )
            for r in item.get("rl") or ()
        ),
        version=int(item["ver"]),
    )


def _delete(table: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"Delete": {"TableName": table, "Key": to_item({"pk": item["pk"], "sk": item["sk"]})}}


class DynamoSalesStore:
    """sales.ports.OpportunityStore and SalesSettingsStore on the CRM table."""

    def __init__(self, table: CrmTable, cache_seconds: float = 60) -> None:
        self.t = table
        self._settings: TtlCache[SalesSettings] = TtlCache(cache_seconds)

    # -- settings ---------------------------------------------------------------------
    def sales_settings(self, workspace_id: str, fresh: bool = False) -> SalesSettings:
        def load() -> SalesSettings:
            item = self.t.get(settings_pk(workspace_id), CFG, consistent=fresh)
            return SalesSettings() if item is None else settings_of(item)

        if fresh:
            return load()
        return self._settings.get(workspace_id, load)

    def save_sales_settings(self, workspace_id: str, settings: SalesSettings) -> None:
        version = 0 if settings.version is None else settings.version + 1
        self.t.put_versioned(
            settings_item(workspace_id, settings, version), settings.version, "the pipeline settings"
        )
        self._settings.invalidate(workspace_id)

    # -- opportunities ----------------------------------------------------------------
    def create(self, opportunity: Opportunity, event: OpportunityEvent, guard: str | None = None) -> bool:
        name, new = self.t.table, "attribute_not_exists(pk)"
        o = opportunity
        actions = [
            put_action(name, head_item(o), new),
            put_action(name, event_item(o.workspace_id, o.id, 1, event), new),
        ]
        if guard:
            actions.append(put_action(name, guard_item(o.workspace_id, guard, o.id), new))
        return self.t.transact(actions)

    def guarded(self, workspace_id: str, guard: str) -> str | None:
        item = self.t.get(guards_pk(workspace_id), guard, consistent=True)
        return None if item is None else str(item["oid"])

    def append(
        self,
        before: Opportunity,
        events: list[OpportunityEvent],
        after: Opportunity,
        release: str | None = None,
        wait: bool | None = None,
    ) -> bool:
        name = self.t.table
        head = put_action(name, head_item(after), "seq = :seq")
        head["Put"]["ExpressionAttributeValues"] = {":seq": to_av(before.seq)}
        actions = [
            put_action(
                name, event_item(after.workspace_id, after.id, before.seq + n, e), "attribute_not_exists(pk)"
            )
            for n, e in enumerate(events, start=1)
        ]
        actions.append(head)
        if release:
            actions.append(_delete(name, {"pk": guards_pk(after.workspace_id), "sk": release}))
        if wait is True:
            actions.append(put_action(name, wait_item(after)))
        elif wait is False:
            actions.append(_delete(name, wait_item(after)))
        return self.t.transact(actions)

    def load(
        self, workspace_id: str, opportunity_id: str
    ) -> tuple[Opportunity, list[OpportunityEvent]] | None:
        head = self.t.get(heads_pk(workspace_id), opportunity_id, consistent=True)
        if head is None:
            return None
        items = _all(self.t, events_pk(workspace_id, opportunity_id), consistent=True)
        return opportunity_of(head), [event_of(i) for i in items]

    def all(self, workspace_id: str) -> list[Opportunity]:
        return [opportunity_of(i) for i in _all(self.t, heads_pk(workspace_id), newest_first=True)]

    def waiting(self, workspace_id: str, customer_id: str) -> list[str]:
        prefix = f"{customer_id}#"
        items, _ = self.t.query(waits_pk(workspace_id), 100, None, prefix=prefix, consistent=True)
        return [str(i["sk"])[len(prefix) :] for i in items]


def _all(
    table: CrmTable, pk: str, consistent: bool = False, newest_first: bool = False
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    start: str | None = None
    while True:
        page, start = table.query(pk, 1000, start, newest_first=newest_first, consistent=consistent)
        items.extend(page)
        if start is None:
            return items


TEXT = ("title", "notes", "body")  # the free text an opportunity's events may hold


def redact_opportunities(table: CrmTable, workspace_id: str, customer_id: str) -> int:
    """A customer erased: each of their opportunities loses its free text (its title, the
    notes of its `created` event, its notes' bodies); the events stay (who, when, what
    kind, the values) for the pipeline's figures. The customer's are found by a `Query` of
    the workspace's opportunities filtered on `cid` (no scan); only what is still there is
    changed, so a retry counts nothing twice: the number of opportunities changed."""
    client, changed = table.client, 0
    kwargs: dict[str, Any] = {
        "TableName": table.table,
        "KeyConditionExpression": "pk = :pk",
        "FilterExpression": "cid = :cid",
        "ExpressionAttributeValues": {":pk": {"S": heads_pk(workspace_id)}, ":cid": {"S": customer_id}},
    }
    heads: list[str] = []
    while True:
        page = client.query(**kwargs)
        heads.extend(i["sk"]["S"] for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    yes = {":yes": {"BOOL": True}}
    for opportunity_id in heads:
        touched = _update(
            table,
            heads_pk(workspace_id),
            opportunity_id,
            "SET ti = :x, rdx = :yes",
            {":x": {"S": ""}} | yes,
            "attribute_exists(pk) AND ti <> :x",
        )
        for item in _all(table, events_pk(workspace_id, opportunity_id), consistent=True):
            held = [k for k in TEXT if k in (item.get("d") or {})]
            if held:
                removes = ", ".join(f"d.{k}" for k in held)
                touched |= _update(table, item["pk"], item["sk"], f"REMOVE {removes} SET rdx = :yes", yes)
        changed += touched
    return changed


def _update(
    table: CrmTable,
    pk: str,
    sk: str,
    update: str,
    values: dict[str, Any],
    condition: str = "attribute_exists(pk)",
) -> bool:
    try:
        table.client.update_item(
            TableName=table.table,
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )
    except table.client.exceptions.ConditionalCheckFailedException:
        return False
    return True
