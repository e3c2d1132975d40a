"""Why a stream record failed, kept where the CLI reads it (`patron dlq list`).

Lambda's on-failure destination gets only its own invocation record (the shard and the
range of sequence numbers it gave up on), never the error. So each stream consumer
records a failing record's reason itself, on every failed attempt (the last one wins):
`SFAIL#<table>` / `<sequence number, zero-padded>` in the CRM table, with the record's
item key, the reason (`domain.failures.reason`: the error's type and message, without personal data), the
attempts counted and a TTL of 14 days (the failure queue's retention). The CLI queries
the partition by the sequence range of each failure message. Written only when a
record fails.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters.codec import from_item

PK = "SFAIL#"
WIDTH = 40  # DynamoDB stream sequence numbers are decimal strings of up to 40 digits
TTL = timedelta(days=14)


def table_of(stream_arn: str) -> str:
    """The table a stream belongs to (`arn:...:table/<name>/stream/<label>`)."""
    return stream_arn.split(":table/", 1)[-1].split("/stream/", 1)[0]


def sequence_key(sequence: str) -> str:
    return sequence.zfill(WIDTH)


class DynamoStreamFailures:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self.table = table

    def record(self, stream_arn: str, sequence: str, item_key: str, reason: str, at: datetime) -> None:
        self._client.update_item(
            TableName=self.table,
            Key={"pk": {"S": PK + table_of(stream_arn)}, "sk": {"S": sequence_key(sequence)}},
            UpdateExpression="SET t = :t, k = :k, reason = :r, #at = :at, #ttl = :ttl ADD n :one",
            ExpressionAttributeNames={"#at": "at", "#ttl": "ttl"},
            ExpressionAttributeValues={
                ":t": {"S": "stream_failure"},
                ":k": {"S": item_key},
                ":r": {"S": reason},
                ":at": {"S": at.isoformat()},
                ":ttl": {"N": str(int((at + TTL).timestamp()))},
                ":one": {"N": "1"},
            },
        )

    def between(self, table: str, first: str, last: str) -> list[dict[str, Any]]:
        """The failures recorded for a table's stream records in a sequence range."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {
                ":pk": {"S": PK + table},
                ":lo": {"S": sequence_key(first)},
                ":hi": {"S": sequence_key(last)},
            },
        }
        found: list[dict[str, Any]] = []
        while True:
            page = self._client.query(**kwargs)
            found.extend(from_item(i) or {} for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
