"""A code redemption the store fails after a merge closed the customer's balance, on the
fake and on moto (the DynamoDB ledger): the give-back follows to the survivor, once, and a
replay after the merge writes nothing more (the scenario: tests/unit/test_points_redeem_merged.py)."""

from __future__ import annotations

from chalicelib.adapters.points_ledger import DynamoPointsLedger
from tests.contract import MotoStage, moto_stage, port_fixture  # noqa: F401 (the fixture)
from tests.unit.fake_points import FakePointsLedger
from tests.unit.test_points_redeem_merged import give_back_after_a_merge


def _on_moto(stage: MotoStage) -> DynamoPointsLedger:
    return DynamoPointsLedger(stage.crm)


ledger = port_fixture(FakePointsLedger, _on_moto)


def test_a_give_back_after_a_merge_restores_the_points_on_the_survivor_once(ledger):
    # Given / When / Then: in give_back_after_a_merge, against this ledger
    give_back_after_a_merge(ledger)
