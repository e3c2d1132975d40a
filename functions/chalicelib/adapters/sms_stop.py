"""SMS STOP: SNS's opted-out list, and which of its numbers Patron has handled (`SMSSTOP`).

One `SMSSTOP` / `<sha256(number)>` item per number taken onto the profiles (the number
itself is not kept), written once; `SMSSTOP` / `~cursor` holds the page token a run
stopped at (docs/data-model.md, "SMS STOP from the SNS opted-out list").
"""

from __future__ import annotations

import hashlib
from typing import Any

from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.messaging.sms_stop import CursorExpired

PK = "SMSSTOP"
CURSOR = "~cursor"


def number_key(number: str) -> str:
    return hashlib.sha256(number.encode()).hexdigest()


class SnsOptedOutNumbers:
    def __init__(self, sns: Any) -> None:
        self.sns = sns

    def page(self, token: str | None) -> tuple[list[str], str | None]:
        from botocore.exceptions import ClientError

        try:
            response = self.sns.list_phone_numbers_opted_out(**({"nextToken": token} if token else {}))
        except ClientError as exc:
            if token and exc.response.get("Error", {}).get("Code") == "InvalidParameter":
                raise CursorExpired(str(exc)) from exc
            raise
        return [str(n) for n in response.get("phoneNumbers", [])], response.get("nextToken") or None


class DynamoStopLedger:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def handled(self, numbers: list[str]) -> set[str]:
        """One BatchGetItem (100 keys a call, eventually consistent: a number read as new
        just after another run marked it is handled again, which writes nothing new)."""
        keys = {number_key(n): n for n in numbers}
        found = self.t.batch_get([(PK, k) for k in keys], consistent=False)
        return {keys[i["sk"]] for i in found}

    def mark(self, number: str, at: str, customers: int) -> None:
        try:
            self.t.put(
                {"pk": PK, "sk": number_key(number), "t": "sms_stop", "at": at, "n": customers},
                "attribute_not_exists(pk)",
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return  # another run marked it first

    def cursor(self) -> str | None:
        item = self.t.get(PK, CURSOR, consistent=True)
        return str(item["tok"]) if item else None

    def set_cursor(self, token: str | None) -> None:
        if token is None:
            self.t.client.delete_item(TableName=self.t.table, Key={"pk": {"S": PK}, "sk": {"S": CURSOR}})
        else:
            self.t.put({"pk": PK, "sk": CURSOR, "t": "sms_stop_cursor", "tok": token})
