"""DynamoDB attribute-value codec (wire format), without boto3's slower serializer.

Numbers travel as Decimal, never float: a float given here is a bug and raises.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.adapters.retry import DEFAULT, Backoff, drain_unprocessed

AttributeValue = dict[str, Any]


def to_av(value: Any) -> AttributeValue:
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is dict:
        return {"M": {k: to_av(v) for k, v in value.items()}}
    if kind is list or kind is tuple:
        return {"L": [to_av(v) for v in value]}
    if kind is bool:
        return {"BOOL": value}
    if kind is int or kind is Decimal:
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    return _other(value)


def _other(value: Any) -> AttributeValue:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": str(value)}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, dict):
        return {"M": {k: to_av(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_av(v) for v in value]}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, set | frozenset):
        if all(isinstance(v, str) for v in value):
            return {"SS": sorted(value)}
        raise TypeError("only string sets are supported")
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB")


def to_item(values: dict[str, Any]) -> dict[str, AttributeValue]:
    return {k: to_av(v) for k, v in values.items() if v is not None}


def from_av(av: AttributeValue) -> Any:
    ((kind, value),) = av.items()
    if kind == "S":
        return value
    if kind == "N":
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() and "." not in value else number
    if kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_av(v) for k, v in value.items()}
    if kind == "L":
        return [from_av(v) for v in value]
    if kind == "B":
        return value
    if kind == "SS":
        return set(value)
    if kind == "NS":
        return {Decimal(v) for v in value}
    if kind == "BS":
        return set(value)
    raise TypeError(f"unknown attribute type {kind}")


def from_item(item: dict[str, AttributeValue] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {k: from_av(v) for k, v in item.items()}


def batch_get(
    client: Any,
    table: str,
    keys: list[dict[str, AttributeValue]],
    consistent: bool = False,
    backoff: Backoff = DEFAULT,
) -> list[dict[str, Any]]:
    """BatchGetItem in pages of 100, asking again for the UnprocessedKeys with backoff
    (bounded: BatchIncomplete when they are still unprocessed); items decoded."""
    out: list[dict[str, Any]] = []

    def call(request: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = client.batch_get_item(RequestItems=request)
        out.extend(from_item(i) or {} for i in response["Responses"].get(table, []))
        return response

    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {table: {"Keys": keys[start : start + 100], "ConsistentRead": consistent}}
        drain_unprocessed(call, request, "UnprocessedKeys", "BatchGetItem", backoff)
    return out


def batch_write(client: Any, table: str, requests: list[dict[str, Any]], backoff: Backoff = DEFAULT) -> None:
    """BatchWriteItem of Put/Delete requests in pages of 25, asking again for the
    UnprocessedItems with backoff (bounded: BatchIncomplete when they are still left)."""
    for start in range(0, len(requests), 25):
        drain_unprocessed(
            lambda pending: client.batch_write_item(RequestItems=pending),
            {table: requests[start : start + 25]},
            "UnprocessedItems",
            "BatchWriteItem",
            backoff,
        )
