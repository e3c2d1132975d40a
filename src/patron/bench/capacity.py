"""Counting AWS write requests at botocore, and DynamoDB write units by AWS's sizing rules.

moto reports a constant ConsumedCapacity, so write units are computed here from
the items themselves, as DynamoDB bills them:
- item size = sum of attribute name lengths + value sizes (strings: UTF-8 bytes;
  numbers: about one byte per two significant digits plus one; binary: bytes;
  booleans and null: 1; lists and maps: 3 + their elements + 1 per element;
  sets: the sum of their members), see the DynamoDB developer guide, "Item sizes";
- PutItem, UpdateItem, DeleteItem: ceil(max(size before, size after) / 1 KB), at
  least 1; a write whose condition fails still costs ceil(size before / 1 KB), at
  least 1;
- each global secondary index whose key attribute is written, changed or removed
  costs 1 unit per index entry written or deleted (the indexes are KEYS_ONLY);
- TransactWriteItems costs twice the units of each item it writes;
- BatchWriteItem costs the units of each item.

Read units likewise (`ReadCounter`): 4 KB units, half when eventually consistent; a key
asked for and not found costs the smallest read, in a GetItem or in a BatchGetItem,
which bills every key it asks for (`batch_get_units`).
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

WRITE_OPERATIONS = {
    "dynamodb": {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"},
    "s3": {"PutObject", "DeleteObject", "CopyObject", "DeleteObjects"},
    "sqs": {"SendMessage", "SendMessageBatch", "DeleteMessage", "DeleteMessageBatch"},
    "sns": {"Publish", "PublishBatch"},
    "secretsmanager": {"PutSecretValue", "CreateSecret", "UpdateSecret"},
    "ssm": {"PutParameter"},
    "events": {"PutEvents"},
}
# The CRM table's sparse KEYS_ONLY indexes, by their key attributes: by_phone, by_ext, by_recheck.
INDEX_KEYS = (("phone_k",), ("ext_k",), ("rk", "nchk"))


def av_size(av: dict[str, Any]) -> int:
    ((kind, value),) = av.items()
    if kind == "S":
        return len(value.encode())
    if kind == "N":
        digits = Decimal(value).normalize().as_tuple().digits
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(value) if isinstance(value, bytes | bytearray) else len(value) * 3 // 4
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(av_size(v) + 1 for v in value)
    if kind == "M":
        return 3 + sum(len(k.encode()) + av_size(v) + 1 for k, v in value.items())
    if kind == "SS":
        return sum(len(v.encode()) for v in value)
    if kind == "NS":
        return sum(av_size({"N": v}) for v in value)
    if kind == "BS":
        return sum(len(v) for v in value)
    raise ValueError(kind)


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + av_size(value) for name, value in item.items())


def units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def index_units(before: dict[str, Any] | None, after: dict[str, Any] | None) -> int:
    """Index entries written or deleted: an entry exists while all its key attributes do."""
    total = 0
    for keys in INDEX_KEYS:
        old = tuple((before or {}).get(k) for k in keys)
        new = tuple((after or {}).get(k) for k in keys)
        if old == new:
            continue
        total += (1 if None not in old else 0) + (1 if None not in new else 0)
    return total


def read_units(size: int, consistent: bool) -> float:
    """A read of `size` bytes: 4 KB units, half for eventually consistent reads."""
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


def batch_get_units(params: dict[str, Any], parsed: dict[str, Any]) -> float:
    """A BatchGetItem bills every key it read, found or not: each item found as its own
    GetItem (4 KB units), each key not found as the smallest read (1 unit consistent,
    0.5 eventually consistent). Keys returned unprocessed were not read: the retry bills them."""
    units = 0.0
    for table, request in (params.get("RequestItems") or {}).items():
        consistent = bool(request.get("ConsistentRead"))
        found = parsed.get("Responses", {}).get(table, [])
        unprocessed = (parsed.get("UnprocessedKeys") or {}).get(table, {}).get("Keys", [])
        absent = len(request.get("Keys", [])) - len(unprocessed) - len(found)
        units += sum(read_units(item_size(i), consistent) for i in found)
        units += max(0, absent) * read_units(0, consistent)
    return units


@dataclass
class ReadCounter:
    """Counts DynamoDB read requests and read units from each request and its response:
    the bytes returned, and the smallest read for each key asked for and not found.

    Scans are billed on the bytes *scanned*, not returned: they are counted as passes and
    pages here, and priced from the table's size by the caller."""

    requests: Counter[str] = field(default_factory=Counter)
    rcu: float = 0.0
    rcu_by: dict[str, float] = field(default_factory=dict)  # read units by operation
    scan_passes: int = 0
    enabled: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, session: Any) -> None:
        session.events.register("before-parameter-build.dynamodb", self._keep_params)
        session.events.register("after-call.dynamodb", self._after)

    @staticmethod
    def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["patron_params"] = dict(params)

    def snapshot(self) -> tuple[int, float, int]:
        with self._lock:
            return sum(self.requests.values()), self.rcu, self.scan_passes

    def _after(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        name = model.name
        if not self.enabled or name not in ("GetItem", "BatchGetItem", "Query", "Scan"):
            return
        params = context.get("patron_params") or {}
        units = 0.0
        if name == "GetItem":
            units = read_units(item_size(parsed.get("Item")), bool(params.get("ConsistentRead")))
        elif name == "BatchGetItem":
            units = batch_get_units(params, parsed)
        elif name == "Query":
            size = sum(item_size(i) for i in parsed.get("Items", []))
            units = read_units(size, bool(params.get("ConsistentRead")))
        with self._lock:
            self.requests[name] += 1
            self.rcu += units
            self.rcu_by[name] = self.rcu_by.get(name, 0.0) + units
            if name == "Scan" and "ExclusiveStartKey" not in params:
                self.scan_passes += 1


@dataclass
class WriteCounter:
    """Counts write requests by operation and DynamoDB write units, thread-safe."""

    reader: Any  # an uninstrumented DynamoDB client used to see items before and after
    requests: Counter[str] = field(default_factory=Counter)
    wcu: float = 0.0
    wcu_by: Counter[str] = field(default_factory=Counter)  # per table, and GSI entries
    profile_writes: int = 0  # profile and pointer items (sk "P") written: the CRM stream's records
    # write units by the label the writing thread set (`label`): what each kind of event costs
    wcu_by_label: Counter[str] = field(default_factory=Counter)
    failed_by_label: Counter[str] = field(default_factory=Counter)  # writes whose condition failed
    failed_wcu_by_label: Counter[str] = field(default_factory=Counter)  # and the units they cost
    enabled: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)

    def install(self, session: Any) -> None:
        session.events.register("before-parameter-build", self._before)
        session.events.register("after-call", self._after)

    def label(self, name: str | None) -> None:
        """The label this thread's next writes are billed under (None: none)."""
        self._local.label = name

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def snapshot(self) -> tuple[int, float]:
        with self._lock:
            return self.total_requests, self.wcu

    def _get(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.reader.get_item(TableName=table, Key=key, ConsistentRead=True).get(
            "Item"
        )
        return item

    def _key(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if k in ("pk", "sk")}

    def _targets(self, operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any], int]]:
        """(table, key, multiplier) of every item a DynamoDB write touches."""
        if operation in ("PutItem",):
            return [(params["TableName"], self._key(params["TableName"], params["Item"]), 1)]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(params["TableName"], params["Key"], 1)]
        if operation == "TransactWriteItems":
            out = []
            for action in params["TransactItems"]:
                ((kind, body),) = action.items()
                if kind == "ConditionCheck":
                    continue
                key = body.get("Key") or self._key(body["TableName"], body["Item"])
                out.append((body["TableName"], key, 2))
            return out
        if operation == "BatchWriteItem":
            out = []
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    ((kind, body),) = request.items()
                    key = body.get("Key") or self._key(table, body["Item"])
                    out.append((table, key, 1))
            return out
        return []

    def _before(self, model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        if not self.enabled:
            return
        service = model.service_model.service_name
        if model.name not in WRITE_OPERATIONS.get(service, ()):
            return
        with self._lock:
            self.requests[f"{service}:{model.name}"] += 1
        if service == "dynamodb":
            targets = self._targets(model.name, params)
            self._local.pending = [(t, k, m, self._get(t, k)) for t, k, m in targets]

    def _after(self, model: Any, parsed: dict[str, Any], **kwargs: Any) -> None:
        pending = getattr(self._local, "pending", None)
        if not self.enabled or pending is None or model.service_model.service_name != "dynamodb":
            return
        self._local.pending = None
        failed = "Error" in parsed
        parts: Counter[str] = Counter()
        profiles = 0
        for table, key, multiplier, before in pending:
            if failed:
                parts[table] += units(item_size(before)) * multiplier
                continue
            after = self._get(table, key)
            if key.get("sk", {}).get("S") == "P":
                profiles += 1
            parts[table] += units(max(item_size(before), item_size(after))) * multiplier
            parts[table + " (GSI)"] += index_units(before, after) * multiplier
        with self._lock:
            self.wcu += sum(parts.values())
            self.wcu_by.update(parts)
            self.profile_writes += profiles
            label = getattr(self._local, "label", None)
            if label is not None:
                self.wcu_by_label[label] += sum(parts.values())
                if failed:
                    self.failed_by_label[label] += 1
                    self.failed_wcu_by_label[label] += sum(parts.values())
