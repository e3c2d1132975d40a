"""Contract tests: one scenario suite per port, run against the in-memory fake and against
the DynamoDB (or Secrets Manager) adapter on moto.

A suite asks for its port through a fixture made by `port_fixture`, which gives each test
twice: `[fake]` and `[dynamodb]`. The moto side is the stage's own tables, provisioned
from infra/resources.json as `patron local` and the integration harness do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
import pytest

from chalicelib.adapters.crm_table import CrmTable
from patron import stack

T = TypeVar("T")
REGION = "us-east-1"


@dataclass
class MotoStage:
    """The stage's tables on moto, and the clients to reach them."""

    info: stack.StackInfo
    session: boto3.session.Session

    def client(self, service: str) -> Any:
        from botocore.config import Config

        # moto does not know the account-based endpoints botocore picks for stream ARNs
        return self.session.client(service, config=Config(account_id_endpoint_mode="disabled"))

    @property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    @property
    def crm(self) -> CrmTable:
        return CrmTable(self.dynamodb, self.info.crm_table)


@pytest.fixture
def moto_stage(aws: None) -> Iterator[MotoStage]:
    session = boto3.session.Session(region_name=REGION)
    info = stack.provision(session.client("cloudformation"), session.client("dynamodb"), "contract", REGION)
    yield MotoStage(info, session)


def port_fixture(fake: Callable[[], T], dynamo: Callable[[MotoStage], T]) -> Any:
    """A fixture giving the port twice: the fake, then the adapter on moto."""

    @pytest.fixture(params=["fake", "dynamodb"])
    def port(request: pytest.FixtureRequest) -> T:
        if request.param == "fake":
            return fake()
        return dynamo(request.getfixturevalue("moto_stage"))

    return port
