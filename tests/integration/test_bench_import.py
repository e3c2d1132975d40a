"""`patron bench import` with a few orders: its keys, and the two paths' equal profiles
(no timing is asserted: the figures are docs/benchmarks.md's)."""

from __future__ import annotations

import json

from tests.cli_runs import run

KEYS = {
    "import_orders_per_second",
    "webhook_orders_per_second",
    "import_wcu_per_order",
    "webhook_wcu_per_order",
    "orders_per_second_ratio",
    "wcu_per_order_ratio",
    "profiles_equal",
    "targets",
}


def test_the_import_bench_prints_its_figures_and_equal_profiles():
    # When the bench runs with twelve orders
    result = run("bench", "import", "--orders", "12", "--json")
    # Then it prints one JSON line with the figures, their ratios and the profile check
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures.keys() >= KEYS
    assert figures["orders"] == 12 and figures["import_summary"]["stored"] == 12
    assert figures["profiles_equal"] is True and figures["profiles_differing"] == 0
    assert figures["import_wcu_per_order"] > 0 and figures["webhook_wcu_per_order"] > 0
    assert figures["import_summary"]["recomputed"]["customers"] == figures["customers"]
