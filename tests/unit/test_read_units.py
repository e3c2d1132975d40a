"""Read units as DynamoDB bills them: a BatchGetItem bills every key it asks for."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from patron.bench.capacity import ReadCounter
from tests.unit.test_motofast import create_pk_sk_table


@pytest.fixture
def counted_client():
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        client = session.client("dynamodb")
        create_pk_sk_table(client, "t")
        for n in range(3):
            client.put_item(TableName="t", Item={"pk": {"S": f"k{n}"}, "sk": {"S": "P"}, "v": {"S": "x"}})
        counter = ReadCounter()
        counter.install(session)
        yield session.client("dynamodb"), counter  # made after the counter: its reads are counted


def keys(n: int) -> list[dict[str, dict[str, str]]]:
    return [{"pk": {"S": f"k{i}"}, "sk": {"S": "P"}} for i in range(n)]


@pytest.mark.parametrize(("consistent", "per_key"), [(False, 0.5), (True, 1.0)])
def test_a_batch_get_of_ten_keys_with_three_present_bills_all_ten(counted_client, consistent, per_key):
    client, counter = counted_client
    # Given a table holding 3 small items
    # When one BatchGetItem asks for 10 keys, 3 of them present
    found = client.batch_get_item(RequestItems={"t": {"Keys": keys(10), "ConsistentRead": consistent}})
    # Then it returns the 3, and is billed for 10 keys: a key not found costs the smallest read
    assert len(found["Responses"]["t"]) == 3
    assert counter.snapshot() == (1, 10 * per_key, 0)


def test_a_get_of_a_missing_item_bills_the_smallest_read(counted_client):
    client, counter = counted_client
    # When a GetItem finds nothing
    assert "Item" not in client.get_item(TableName="t", Key=keys(20)[-1])
    # Then it is still billed half a unit (eventually consistent)
    assert counter.snapshot() == (1, 0.5, 0)
