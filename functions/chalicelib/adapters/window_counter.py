"""Fixed-window counters (rate limits) in the CRM table."""

from __future__ import annotations

from chalicelib.adapters.crm_table import CrmTable


class DynamoWindowCounter:
    """`W#<ws>#RATE` / `<window>`: requests counted with a conditional ADD, expired by TTL."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def take(self, workspace_id: str, window: str, limit: int, expires: int) -> bool:
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": f"W#{workspace_id}#RATE"}, "sk": {"S": window}},
                UpdateExpression="ADD n :one SET #ttl = :ttl",
                ConditionExpression="attribute_not_exists(n) OR n < :limit",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":ttl": {"N": str(expires)},
                },
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True
