"""The embedded AWS's faster transactions keep DynamoDB's all-or-nothing behaviour."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from patron import motofast


def create_pk_sk_table(client, name: str, **extra) -> None:
    """An on-demand table keyed like Patron's (`pk`, `sk`, both strings)."""
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


@pytest.fixture
def table():
    motofast.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_pk_sk_table(
            client, "t", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        )
        yield client


def stream_records(client) -> int:
    """Records on the table's stream, read from moto's backend (this tests moto itself)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return len(dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables["t"].stream_shard.items)


def key(pk: str, sk: str = "s") -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def add_to_counter(n: int) -> dict:
    return {
        "Update": {
            "TableName": "t",
            "Key": key("counter"),
            "UpdateExpression": "ADD n :d",
            "ExpressionAttributeValues": {":d": {"N": str(n)}},
        }
    }


def test_a_cancelled_transaction_changes_nothing(table):
    # Given a counter at 5, a record at version 1, and two stream records
    table.put_item(TableName="t", Item={**key("counter"), "n": {"N": "5"}})
    table.put_item(TableName="t", Item={**key("record"), "ver": {"S": "1"}})
    before = stream_records(table)
    # When a transaction adds to the counter, creates an item, and fails on the record's condition
    with pytest.raises(table.exceptions.TransactionCanceledException):
        table.transact_write_items(
            TransactItems=[
                add_to_counter(1),
                {"Put": {"TableName": "t", "Item": {**key("new"), "x": {"S": "y"}}}},
                {
                    "Put": {
                        "TableName": "t",
                        "Item": {**key("record"), "ver": {"S": "2"}},
                        "ConditionExpression": "ver = :v",
                        "ExpressionAttributeValues": {":v": {"S": "0"}},
                    }
                },
            ]
        )
    # Then nothing moved: the counter, the absent item, the record, and the stream
    assert table.get_item(TableName="t", Key=key("counter"))["Item"]["n"] == {"N": "5"}
    assert "Item" not in table.get_item(TableName="t", Key=key("new"))
    assert table.get_item(TableName="t", Key=key("record"))["Item"]["ver"] == {"S": "1"}
    assert stream_records(table) == before


def test_a_successful_transaction_applies_every_action(table):
    table.put_item(TableName="t", Item={**key("counter"), "n": {"N": "5"}})
    table.transact_write_items(
        TransactItems=[
            add_to_counter(2),
            {
                "Put": {
                    "TableName": "t",
                    "Item": {**key("new"), "x": {"S": "y"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
    )
    assert table.get_item(TableName="t", Key=key("counter"))["Item"]["n"] == {"N": "7"}
    assert table.get_item(TableName="t", Key=key("new"))["Item"]["x"] == {"S": "y"}
    assert stream_records(table) == 3


def test_a_query_pages_one_partition_in_key_order(table):
    # Given two partitions whose items were written out of order
    for sk in ("c", "a", "e", "b", "d"):
        table.put_item(TableName="t", Item={**key("p1", sk), "v": {"S": sk}})
        table.put_item(TableName="t", Item={**key("p2", sk)})

    # When one partition is queried in pages of two, forwards and backwards
    def pages(forward: bool) -> list[list[str]]:
        out, kwargs = [], {"TableName": "t", "KeyConditionExpression": "pk = :p", "Limit": 2}
        kwargs.update(ExpressionAttributeValues={":p": {"S": "p1"}}, ScanIndexForward=forward)
        while True:
            page = table.query(**kwargs)
            out.append([i["sk"]["S"] for i in page["Items"]])
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # Then the pages hold that partition's items only, in key order, as DynamoDB pages them
    assert [sk for page in pages(True) for sk in page] == ["a", "b", "c", "d", "e"]
    assert pages(False)[0] == ["e", "d"]
    assert (
        table.query(
            TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p3"}}
        )["Items"]
        == []
    )
