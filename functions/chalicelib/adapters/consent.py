"""A withdrawal of marketing consent written onto the profile, at once and exactly once.

An unsubscribe (link, one-click) or a suppression (hard bounce, complaint) is recorded in
its own item first (`OPT`, `SUP`); this then sets the profile's `ce` or `cs` to
`{s: unsubscribed, at, src}` with one conditional `UpdateItem`, nothing read first:

- only on a live profile (`t = profile`): a pointer (merged-away id) is followed to its
  survivor, and an erased profile is not brought back;
- only when the report is newer than the consent on the profile (latest report wins, as
  for storefront reports), and not when the profile already holds this same withdrawal:
  a retry, a second click or a redelivered event writes nothing;
- with `rev` incremented in the same update. Profile writers put the whole item
  conditioned on the `rev` they read (`DynamoProfileStore.save`), so one that read the
  profile before this update fails its condition, reads again and keeps the withdrawal:
  neither update is lost. The profile change reaches the segments through the CRM stream.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.crm_table import MAX_POINTER_HOPS, CrmTable
from chalicelib.adapters.profile_items import profile_pk

ATTRIBUTE = {"email": "ce", "sms": "cs"}
WITHDRAWN = "unsubscribed"


class DynamoProfileConsent:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def withdraw(
        self,
        workspace_id: str,
        customer_id: str,
        channel: str,
        at: str,
        reason: str,
        address: str | None = None,
    ) -> bool:
        """True when the profile took the withdrawal; False when it already had it (or a
        newer report), holds another `address` (`e` or `ph`), or is gone."""
        attribute = ATTRIBUTE[channel]
        cid = customer_id
        for _ in range(MAX_POINTER_HOPS + 1):
            if self._update(workspace_id, cid, attribute, at, reason, address):
                return True
            item = self.t.get(profile_pk(workspace_id, cid), "P", consistent=True)
            if item is None or item.get("t") != "pointer" or not item.get("into"):
                return False  # erased, or the profile holds this withdrawal or a newer report
            cid = item["into"]  # merged away: the survivor
        return False

    def _update(
        self, workspace_id: str, customer_id: str, attribute: str, at: str, reason: str, address: str | None
    ) -> bool:
        condition = (  # a live profile; no consent yet, another state as new or older, or the
            # same state older and reported by the storefront (no `src`)
            "#t = :profile AND (attribute_not_exists(#c) OR (#c.#at <= :at AND #c.#s <> :s) "
            "OR (#c.#at < :at AND attribute_not_exists(#c.#src)))"
        )
        names = {"#t": "t", "#c": attribute, "#at": "at", "#s": "s", "#src": "src"}
        values: dict[str, Any] = {
            ":profile": {"S": "profile"},
            ":at": {"S": at},
            ":s": {"S": WITHDRAWN},
            ":one": {"N": "1"},
            ":consent": {"M": {"s": {"S": WITHDRAWN}, "at": {"S": at}, "src": {"S": reason}}},
        }
        if address is not None:
            names["#addr"] = "e" if attribute == "ce" else "ph"
            values[":addr"] = {"S": address}
            condition = f"#addr = :addr AND {condition}"
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": profile_pk(workspace_id, customer_id)}, "sk": {"S": "P"}},
                UpdateExpression="SET #c = :consent ADD rev :one",
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True
