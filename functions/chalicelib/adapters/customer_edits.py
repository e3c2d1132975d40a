"""A customer's edits in the CRM table (docs/data-model.md, "Editing a customer"): Patron's
tags (`tg`, a string set on the profile: `ADD`/`DELETE` only), the consent an operator sets
(`ce`/`cs` with `src: operator`), notes (`NT#<id>`) and the audit (`CE#<at>#<ref>`) in the
profile's partition. Each profile update increments `rev`, so a whole-item profile writer
that read before it fails its condition and reads again; old values come back from the
write itself (`ReturnValues`), never from a read before it.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.codec import batch_write, from_av, from_item, to_av
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.profile_items import profile_pk
from chalicelib.domain.customer_edit_values import Change, CustomerAudit, NewerConsent, Note, TooManyTags
from chalicelib.domain.customer_profile import ChannelConsent

NOTES, AUDIT = "NT#", "CE#"  # sort-key prefixes in the profile's partition
CONSENT = {"email": "ce", "sms": "cs"}


def note_item(workspace_id: str, customer_id: str, note: Note) -> dict[str, Any]:
    item = {
        "pk": profile_pk(workspace_id, customer_id),
        "sk": NOTES + note.id,
        "t": "note",
        "tx": note.text,
        "ca": note.created_at,
        "cb": note.created_by,
        "ua": note.updated_at,
        "ub": note.updated_by,
    }
    return {k: v for k, v in item.items() if v is not None}


def note_of(item: dict[str, Any]) -> Note:
    return Note(
        id=str(item["sk"])[len(NOTES) :],
        text=str(item["tx"]),
        created_at=str(item["ca"]),
        created_by=str(item["cb"]),
        updated_at=None if item.get("ua") is None else str(item["ua"]),
        updated_by=None if item.get("ub") is None else str(item["ub"]),
    )


def audit_item(audit: CustomerAudit) -> dict[str, Any]:
    return {
        "pk": profile_pk(audit.workspace_id, audit.customer_id),
        "sk": f"{AUDIT}{audit.at}#{audit.ref}",
        "t": "customer_edit",
        "ws": audit.workspace_id,
        "cid": audit.customer_id,
        "at": audit.at,
        "by": audit.by,
        "chg": [{"f": c.field, "o": c.old, "n": c.new} for c in audit.changes],
    }


def audit_of(item: dict[str, Any]) -> CustomerAudit:
    return CustomerAudit(
        workspace_id=str(item["ws"]),
        customer_id=str(item["cid"]),
        at=str(item["at"]),
        ref=str(item["sk"]).rsplit("#", 1)[1],
        by=str(item["by"]),
        changes=tuple(Change(str(c["f"]), c.get("o"), c.get("n")) for c in item.get("chg") or ()),
    )


def _consent_of(stored: Any) -> ChannelConsent | None:
    if not isinstance(stored, dict):
        return None
    src = stored.get("src")
    return ChannelConsent(str(stored.get("s", "unknown")), str(stored.get("at", "")), src and str(src))


class DynamoCustomerEdits:
    """edits.ports.CustomerEditStore on the CRM table."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def _update(self, ws: str, cid: str, **kwargs: Any) -> dict[str, Any] | None:
        """One conditional UpdateItem of the profile; its returned attributes, or None when
        the condition failed."""
        names = {"#t": "t", **kwargs.pop("names", {})}
        values = {":profile": {"S": "profile"}, ":one": {"N": "1"}, **kwargs.pop("values")}
        condition = kwargs.pop("condition", None)
        try:
            answer = self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": profile_pk(ws, cid)}, "sk": {"S": "P"}},
                ConditionExpression="#t = :profile" + (f" AND ({condition})" if condition else ""),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                **kwargs,
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return None
        return {k: from_av(v) for k, v in answer.get("Attributes", {}).items()}

    def _live(self, ws: str, cid: str) -> dict[str, Any] | None:
        item = self.t.get(profile_pk(ws, cid), "P", consistent=True)
        return item if item is not None and item.get("t") == "profile" else None

    def add_tags(self, workspace_id: str, customer_id: str, tags: set[str], most: int) -> Any:
        old = self._update(
            workspace_id,
            customer_id,
            UpdateExpression="ADD #tg :tags, rev :one",
            condition="attribute_not_exists(#tg) OR size(#tg) <= :room",
            names={"#tg": "tg"},
            values={":tags": to_av(set(tags)), ":room": {"N": str(most - len(tags))}},
            ReturnValues="ALL_OLD",
        )
        if old is None:
            if self._live(workspace_id, customer_id) is None:
                return None
            raise TooManyTags()
        before = set(old.get("tg") or ())
        return before, before | tags

    def remove_tags(self, workspace_id: str, customer_id: str, tags: set[str]) -> Any:
        old = self._update(
            workspace_id,
            customer_id,
            UpdateExpression="DELETE #tg :tags ADD rev :one",
            names={"#tg": "tg"},
            values={":tags": to_av(set(tags))},
            ReturnValues="ALL_OLD",
        )
        if old is None:
            return None
        before = set(old.get("tg") or ())
        return before, before - tags

    def set_consent(self, workspace_id: str, customer_id: str, consents: dict[str, ChannelConsent]) -> Any:
        names: dict[str, str] = {"#at": "at"}
        values: dict[str, Any] = {}
        sets, conditions = [], []
        for n, (channel, consent) in enumerate(sorted(consents.items())):
            names[f"#c{n}"] = CONSENT[channel]
            values[f":c{n}"] = to_av({"s": consent.state, "at": consent.at, "src": consent.withdrawn_by})
            values[f":at{n}"] = {"S": consent.at}
            sets.append(f"#c{n} = :c{n}")
            conditions.append(f"attribute_not_exists(#c{n}) OR #c{n}.#at <= :at{n}")
        old = self._update(
            workspace_id,
            customer_id,
            UpdateExpression="SET " + ", ".join(sets) + " ADD rev :one",
            condition=" AND ".join(f"({c})" for c in conditions) if len(conditions) > 1 else conditions[0],
            names=names,
            values=values,
            ReturnValues="UPDATED_OLD",
        )
        if old is None:
            if self._live(workspace_id, customer_id) is None:
                return None
            raise NewerConsent()
        return {channel: _consent_of(old.get(CONSENT[channel])) for channel in consents}

    def add_note(self, workspace_id: str, customer_id: str, note: Note) -> None:
        self.t.put(note_item(workspace_id, customer_id, note), "attribute_not_exists(pk)")

    def edit_note(
        self, workspace_id: str, customer_id: str, note_id: str, text: str, at: str, by: str
    ) -> str | None:
        try:
            answer = self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": profile_pk(workspace_id, customer_id)}, "sk": {"S": NOTES + note_id}},
                UpdateExpression="SET tx = :tx, ua = :at, ub = :by",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":tx": {"S": text}, ":at": {"S": at}, ":by": {"S": by}},
                ReturnValues="UPDATED_OLD",
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return None
        return str(from_av(answer["Attributes"]["tx"]))

    def delete_note(self, workspace_id: str, customer_id: str, note_id: str) -> str | None:
        answer = self.t.client.delete_item(
            TableName=self.t.table,
            Key={"pk": {"S": profile_pk(workspace_id, customer_id)}, "sk": {"S": NOTES + note_id}},
            ReturnValues="ALL_OLD",
        )
        old = answer.get("Attributes")
        return None if not old else str(from_av(old["tx"]))

    def notes(self, workspace_id: str, customer_ids: list[str]) -> list[Note]:
        found = [
            note_of(i)
            for cid in dict.fromkeys(customer_ids)
            for i in _items(self.t, workspace_id, cid, NOTES)
        ]
        return sorted(found, key=lambda n: n.id)

    def record(self, audit: CustomerAudit) -> None:
        self.t.put(audit_item(audit), "attribute_not_exists(pk)")

    def audit_page(
        self, workspace_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[CustomerAudit], str | None]:
        pk = profile_pk(workspace_id, customer_id)
        items, last = self.t.query(pk, limit, cursor, newest_first=True, prefix=AUDIT, consistent=True)
        return [audit_of(i) for i in items], last


def _items(table: CrmTable, workspace_id: str, customer_id: str, prefix: str) -> list[dict[str, Any]]:
    """Every item under one customer id's partition with the sort-key prefix (consistent)."""
    kwargs: dict[str, Any] = {
        "TableName": table.table,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
        "ExpressionAttributeValues": {
            ":pk": {"S": profile_pk(workspace_id, customer_id)},
            ":p": {"S": prefix},
        },
        "ConsistentRead": True,
    }
    found: list[dict[str, Any]] = []
    while True:
        page = table.client.query(**kwargs)
        found.extend(from_item(i) or {} for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def erase_edits(table: CrmTable, workspace_id: str, customer_id: str) -> int:
    """Erase the notes and the audit under one customer id's partition (free text); how many."""
    keys = [
        {"DeleteRequest": {"Key": {"pk": {"S": i["pk"]}, "sk": {"S": i["sk"]}}}}
        for prefix in (NOTES, AUDIT)
        for i in _items(table, workspace_id, customer_id, prefix)
    ]
    if keys:
        batch_write(table.client, table.table, keys)
    return len(keys)
