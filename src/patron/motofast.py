"""Embedded-AWS speed fix: moto's TransactWriteItems snapshots whole tables.

moto 5.x deep-copies every table a transaction touches, once per action, to roll back
on failure. With a table of thousands of items that is most of the time of a local run
(a 300-customer demo spends minutes in it), and it makes a 100k-customer simulation
impossible. This replaces the snapshot with one of the items the transaction names (and
the length of the table's stream), which restores the same state on failure: a
transaction can only change the items it names.

A query of the table (not an index) likewise made moto sort every item of the table to
find one partition's: it now reads that partition only, and moto sorts and pages it as
before (the benchmarks query partitions of tables with millions of items).

`fast_reads()` (the report bench only) answers GetItem, BatchGetItem and Query with
the result dumped as JSON, instead of moto's model-driven serializer, which walks every
attribute of every item against the API's shapes and took four fifths of a 100,000-customer
report's time. DynamoDB speaks JSON and the result is already in its wire form (binary
values base64), so the bytes the client parses are the same; `tests/integration/
test_no_scans.py` builds the same report with and without it.

Development tooling only: the Lambda code never imports it. `tests/unit/test_motofast.py`
checks that a cancelled transaction still leaves items and stream as they were, and that
a query answers the same pages.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_state = threading.local()
_installed = False


def install() -> None:
    """Patch moto's DynamoDB backend (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.exceptions import MockValidationException
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    def table_deepcopy(self: Table, memo: dict[int, Any]) -> Table:
        if getattr(_state, "shallow", False):
            return self  # the transaction's own snapshot below replaces it
        new: Table = copy.copy(self)  # then every attribute deep-copied below
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            setattr(new, key, copy.deepcopy(value, memo))
        return new

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[Table, Any, Any, Any]] = []
        streams: dict[int, tuple[Any, int]] = {}
        for entry in transact_items:
            op = next(iter(entry.values()))
            table = self.tables.get(op.get("TableName", ""))
            if table is None:
                continue
            key = op.get("Key") or {k: op.get("Item", {}).get(k) for k in table.table_key_attrs}
            if key.get(table.hash_key_attr) is None:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            try:
                before = table.get_item(hash_value, range_value)
            except MockValidationException:
                continue  # an invalid key: moto itself rejects the transaction below
            saved.append((table, hash_value, range_value, copy.deepcopy(before)))
            if table.stream_shard is not None:
                streams.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))
        _state.shallow = True
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, before in reversed(saved):
                _restore(table, hash_value, range_value, before)
            for shard, length in streams.values():
                del shard.items[length:]
            raise
        finally:
            _state.shallow = False

    original_query = Table.query
    original_all_items = Table.all_items

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        _state.partition = hash_key if index_name is None and self.range_key_attr else None
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _state.partition = None

    def all_items(self: Table) -> Any:
        partition = getattr(_state, "partition", None)
        if partition is None:
            return original_all_items(self)
        return list(self.items.get(partition, {}).values())  # the query keeps these and sorts them

    setattr(Table, "__deepcopy__", table_deepcopy)  # noqa: B010 - moto defines none
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    _installed = True


def _restore(table: Any, hash_value: Any, range_value: Any, before: Any) -> None:
    if range_value is not None:
        bucket = table.items[hash_value]
        if before is None:
            bucket.pop(range_value, None)
        else:
            bucket[range_value] = before
    elif before is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = before


_FAST_READS = frozenset({"GetItem", "BatchGetItem", "Query"})


@contextmanager
def fast_reads() -> Iterator[None]:
    """While open, DynamoDB's read actions are answered with the result dumped as JSON."""
    import base64
    import json

    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.serialized

    def wire(value: Any) -> Any:
        if isinstance(value, bytes):
            return base64.b64encode(value).decode()
        raise TypeError(type(value).__name__)  # a timestamp: not in these actions' answers

    def serialized(self: Any, action_result: ActionResult) -> Any:
        result = getattr(action_result, "result", None)
        if self._get_action() not in _FAST_READS or not isinstance(result, dict):
            return original(self, action_result)
        headers = {**self.response_headers, "Content-Type": "application/x-amz-json-1.0"}
        body = {k: v for k, v in result.items() if v is not None}  # moto's serializer omits them
        return 200, headers, json.dumps(body, default=wire)

    DynamoHandler.serialized = serialized  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoHandler.serialized = original  # type: ignore[method-assign]
