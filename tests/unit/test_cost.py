"""`patron bench cost`: the figures are computed from the measured counts and the price
table, and docs/cost.md holds what the computation gives for its recorded counts."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from patron import stack
from patron.bench import cost

DOC = stack.ROOT / "docs" / "cost.md"


def recorded() -> tuple[dict[str, Any], str]:
    """The measured counts recorded in docs/cost.md (its JSON block), and the document."""
    text = DOC.read_text()
    block = re.search(r"<!-- measured -->\s*```json\n(.*?)```", text, re.S)
    assert block, "docs/cost.md has no recorded counts"
    return json.loads(block.group(1)), text


def total(result: dict[str, Any], door: str = cost.DEFAULT_FRONT_DOOR, volume: str = "1x") -> float:
    return float(result["orders"][volume]["front_doors"][door]["usd_per_million_orders"]["total"])


def test_the_default_path_figure_in_the_docs_is_what_the_recorded_counts_give():
    # Given the counts recorded in docs/cost.md
    measured, text = recorded()
    # When the cost is computed from them
    result = cost.compute(measured)
    # Then the default path's figure, the target verdict and every door's 1x total match the doc
    stated = re.search(r"default path[^\n]*?\*\*\$(\d+\.\d+)\*\*", text, re.I)
    assert stated and float(stated.group(1)) == pytest.approx(
        result["default_usd_per_million_orders"], abs=0.01
    )
    assert result["meets_target"] is (result["default_usd_per_million_orders"] <= 2.0)
    for door in cost.FRONT_DOORS:
        assert f"${total(result, door):.2f}" in text, door


def with_phase(measured: dict[str, Any], phase: str, **more: float) -> dict[str, Any]:
    """The counts with one phase's figures raised by `more`."""
    phases = dict(measured["phases"])
    phases[phase] = {k: v + more.get(k, 0) for k, v in phases[phase].items()}
    return measured | {"phases": phases}


def test_a_changed_count_changes_the_cost_by_what_the_price_says():
    measured, _ = recorded()
    base = cost.compute(measured)
    # When the ingest consumer spends one more write unit on a new order
    more = cost.compute(with_phase(measured, "consumer_new", wcu=1))
    # Then each million orders costs one million more write units: $0.625 at the listed price
    price = cost.PRICES["dynamodb_write_request_units_per_million"]
    assert total(more) - total(base) == pytest.approx(price, abs=0.011)
    # and a slower handler, or a read more per delivery of a repeated state, cost what they add
    slower = cost.compute(measured | {"handler_cpu_us_median": measured["handler_cpu_us_median"] * 20})
    assert total(slower) > total(base)
    reads = cost.compute(with_phase(measured, "webhook_duplicate", rcu=1))
    read_price = cost.PRICES["dynamodb_read_request_units_per_million"]
    duplicates = base["orders"]["1x"]["duplicates_per_order"]
    assert total(reads) - total(base) == pytest.approx(duplicates * read_price, abs=0.011)
    # and a fulfilment that rewrote the profile would cost its write and a profile-stream record
    rewrite = cost.compute(with_phase(measured, "consumer_change", wcu=1, write_requests=1, profile_writes=1))
    streams = rewrite["orders"]["1x"]["stream_consumers"]["profile_stream"]
    assert streams["records_per_order"] == pytest.approx(
        base["orders"]["1x"]["stream_consumers"]["profile_stream"]["records_per_order"] + 1
    )
    assert total(rewrite) - total(base) > price


def test_the_front_doors_differ_by_their_request_price_only_where_the_function_is_the_same():
    measured, _ = recorded()
    orders = cost.compute(measured)["orders"]["1x"]
    doors = {d: v["usd_per_million_orders"] for d, v in orders["front_doors"].items()}
    deliveries = orders["deliveries_per_order"]
    # HTTP API and Function URL invoke the same webhook function: only the request price differs
    assert doors["function_url"]["front_door"] == 0
    assert doors["apigateway_http"]["front_door"] == pytest.approx(deliveries * 1.00, abs=0.001)
    assert doors["apigateway_rest"]["front_door"] == pytest.approx(deliveries * 3.50, abs=0.001)
    assert doors["apigateway_http"]["lambda_webhook"] == doors["function_url"]["lambda_webhook"]
    # and the default door is the cheapest
    assert min(doors, key=lambda d: doors[d]["total"]) == cost.DEFAULT_FRONT_DOOR


def test_an_assumption_is_stated_in_the_output_and_moves_the_figure():
    measured, _ = recorded()
    # Given no delivery that repeats a stored state (one assumption changed)
    fewer = cost.compute(measured, assumptions={"same_state_deliveries": 0.0})
    base = cost.compute(measured)
    # Then it costs less, and the output says what it assumed
    assert total(fewer) < total(base)
    assert fewer["assumptions"]["same_state_deliveries"]["value"] == 0.0
    assert base["assumptions"]["same_state_deliveries"]["why"]


def test_batches_fill_as_volume_grows_so_a_million_orders_cost_less_at_100x():
    measured, _ = recorded()
    result = cost.compute(measured)
    streams = [result["orders"][v]["stream_consumers"]["ingest_stream"] for v in ("1x", "10x", "100x")]
    assert [s["records_per_invocation"] for s in streams] == sorted(
        s["records_per_invocation"] for s in streams
    )
    assert total(result, volume="100x") < total(result, volume="1x")
    # and at 100x the campaign statistics item is over one partition's write limit
    (stats,) = [k for k in result["hot_keys"]["100x"] if k["key"].startswith("W#<ws>#STATS")]
    assert stats["hot"] and stats["per_second_at_peak"] > 1000


def test_the_email_cost_keeps_ses_apart_from_patrons_share():
    measured, _ = recorded()
    emails = cost.compute(measured)["emails"]["usd_per_million_emails"]
    assert emails["ses"] == pytest.approx(100.0)  # $0.10 per 1,000
    assert emails["total"] == pytest.approx(emails["ses"] + emails["patron_total"], abs=0.02)
    assert 0 < emails["patron_total"] < emails["ses"]


def test_the_email_cost_follows_read_and_write_units_not_requests():
    measured, _ = recorded()
    base = cost.CAMPAIGN_RECORDED

    def dynamodb(**changed: float) -> float:
        emails = cost.compute(measured, base | changed)["emails"]["usd_per_million_emails"]
        return float(emails["patron_dynamodb"])

    # Given the campaign bench's recorded counts
    # When a recipient costs one more read unit, or one more write unit, in the same requests
    reads = dynamodb(dynamodb_read_units_per_recipient=base["dynamodb_read_units_per_recipient"] + 1)
    writes = dynamodb(dynamodb_write_units_per_recipient=base["dynamodb_write_units_per_recipient"] + 1)
    # Then a million emails cost a million units more, at the unit's price
    assert reads - dynamodb() == pytest.approx(
        cost.PRICES["dynamodb_read_request_units_per_million"], abs=0.011
    )
    assert writes - dynamodb() == pytest.approx(
        cost.PRICES["dynamodb_write_request_units_per_million"], abs=0.011
    )
    # and one more request for the same units costs DynamoDB nothing more
    more_requests = dynamodb(dynamodb_requests_per_recipient=base["dynamodb_requests_per_recipient"] + 1)
    assert more_requests == pytest.approx(dynamodb())


def test_provisioned_capacity_costs_its_minimum_at_low_volume_and_its_use_at_high_volume():
    measured, text = recorded()
    result = cost.compute(measured)
    prices = cost.provisioned_prices()
    # Given one unit of each kind held on every table and index all month
    assert cost.scaled_capacities() == 5  # ingest, crm and the crm table's 3 indexes
    floor = prices["dynamodb_floor_usd_per_month"]
    assert floor == pytest.approx(5 * cost.HOURS_PER_MONTH * (0.00065 + 0.00013), abs=0.01)
    # Then at a million orders a month the floor is what DynamoDB costs (more than is used)
    low = result["orders_provisioned"]["1x"]
    assert low["dynamodb"] == pytest.approx(floor, abs=0.001)
    # and at a hundred million it is the units used, at provisioned's price
    units = result["orders"]["100x"]["dynamodb_units_per_order"]
    used = (
        units["write_units"] * prices["dynamodb_write_request_units_per_million"]
        + units["read_units"] * prices["dynamodb_read_request_units_per_million"]
    )
    assert result["orders_provisioned"]["100x"]["dynamodb"] == pytest.approx(used, abs=0.002)
    # and the page states both figures
    assert f"**${low['total']:.2f}** at 1x" in text
    assert f"${result['orders_provisioned']['100x']['total']:.2f} at 100x" in text
