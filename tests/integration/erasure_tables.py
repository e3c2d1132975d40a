"""The privacy contract suites' two sides: each port with the tables it works on, so a
scenario seeds items and reads what is left the same way on the fake and on moto."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.adapters.codec import from_item, to_item
from tests.contract import MotoStage
from tests.fakes_erasure import FakeTables


class MotoTables:
    """FakeTables' seeding and reading, on the stage's tables."""

    def __init__(self, stage: MotoStage) -> None:
        self.crm_table = stage.crm
        self.client = stage.dynamodb
        self.ingest_table = stage.info.ingest_table

    def put_crm(self, item: Mapping[str, Any]) -> None:
        self.crm_table.put(dict(item))

    def get_crm(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self.crm_table.get(pk, sk, consistent=True)

    def put_ingest(self, item: Mapping[str, Any]) -> None:
        self.client.put_item(TableName=self.ingest_table, Item=to_item(dict(item)))

    def get_ingest(self, pk: str) -> dict[str, Any] | None:
        got = self.client.get_item(TableName=self.ingest_table, Key={"pk": {"S": pk}}, ConsistentRead=True)
        return from_item(got.get("Item")) if got.get("Item") else None


@dataclass
class Side:
    port: Any
    tables: FakeTables | MotoTables


def side_fixture(fake: Callable[[FakeTables], Any], dynamo: Callable[[MotoStage], Any]) -> Any:
    """A fixture giving the port and its tables twice: the fake, then the adapter on moto."""

    @pytest.fixture(params=["fake", "dynamodb"])
    def side(request: pytest.FixtureRequest) -> Side:
        if request.param == "fake":
            tables = FakeTables()
            return Side(fake(tables), tables)
        stage = request.getfixturevalue("moto_stage")
        return Side(dynamo(stage), MotoTables(stage))

    return side
