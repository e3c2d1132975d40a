"""BG/NBD and Gamma-Gamma: published CDNOW results, the reference implementation, fallbacks."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from lifetimes import BetaGeoFitter
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

from chalicelib.analytics import btyd
from patron.cli import main

# Fader, Hardie and Lee (2005), CDNOW sample, 2,357 customers, 39 weeks of calibration.
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
# Fader and Hardie (2013), "The Gamma-Gamma model of monetary value", same data.
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="module")
def cdnow() -> dict[str, np.ndarray]:
    frame = load_cdnow_summary_data_with_monetary_value()
    return {c: frame[c].to_numpy(float) for c in ("frequency", "recency", "T", "monetary_value")} | {
        "customer_id": frame.index.to_numpy()
    }


def test_bgnbd_reproduces_the_published_cdnow_estimates(cdnow):
    fitted = btyd.fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    for name, published in PUBLISHED_BGNBD.items():
        assert getattr(fitted, name) == pytest.approx(published, rel=0.01), name


def test_gamma_gamma_reproduces_the_published_cdnow_estimates(cdnow):
    fitted = btyd.fit_gamma_gamma(cdnow["frequency"], cdnow["monetary_value"])
    for name, published in PUBLISHED_GG.items():
        assert getattr(fitted, name) == pytest.approx(published, rel=0.01), name


def test_conditional_expectations_match_the_reference_implementation(cdnow):
    x, tx, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    reference = BetaGeoFitter().fit(x, tx, T)
    mine = btyd.BgNbd(**{k: float(v) for k, v in reference.params_.items()})
    np.testing.assert_allclose(
        btyd.p_alive(mine, x, tx, T), reference.conditional_probability_alive(x, tx, T), rtol=1e-6
    )
    np.testing.assert_allclose(
        btyd.expected_purchases(mine, 39.0, x, tx, T),
        reference.conditional_expected_number_of_purchases_up_to_time(39.0, x, tx, T),
        rtol=1e-6,
    )


def test_expected_value_shrinks_small_samples_towards_the_population_mean():
    g = btyd.GammaGamma(p=6.25, q=3.74, v=15.44)
    population = g.v * g.p / (g.q - 1)
    one, many = btyd.expected_average_value(g, np.array([1.0, 50.0]), np.array([100.0, 100.0]))
    assert population < one < many < 100.0


def test_too_little_data_falls_back_to_heuristics_and_says_why():
    # Given five customers: a regular one seen recently, a lapsed one, one-time buyers
    x = np.array([4.0, 3.0, 0.0, 0.0, 1.0])
    tx = np.array([80.0, 30.0, 0.0, 0.0, 10.0])
    T = np.array([90.0, 300.0, 50.0, 10.0, 20.0])
    m = np.array([20.0, 30.0, 0.0, 0.0, 10.0])
    scores, params = btyd.score(x, tx, T, m, horizon=30.0)
    assert scores.method == "heuristic" and "need at least" in scores.reason and params == {}
    assert scores.p_alive[0] == 1.0 and scores.p_alive[1] < 0.5
    assert scores.expected_purchases[0] > scores.expected_purchases[1] >= 0
    np.testing.assert_allclose(scores.clv, scores.expected_purchases * scores.expected_avg_value)


def test_invalid_summaries_are_refused():
    with pytest.raises(ValueError, match="recency"):
        btyd.fit_bgnbd([1, 0], [5, 2], [4, 3])


def test_transactions_are_summarized_per_period_with_the_first_purchase_not_repeat():
    # customer a: days 0 (10), 0 (5, same day), 3 (20), 7 (40); customer b: day 5 only
    summary = btyd.summarize_transactions(
        ["a", "a", "a", "b", "a"], [0.2, 0.9, 3.0, 5.0, 7.5], [10, 5, 20, 7, 40], observation_end=10
    )
    assert list(summary["customer_id"]) == ["a", "b"]
    assert list(summary["frequency"]) == [2, 0]
    assert list(summary["recency"]) == [7, 0]
    assert list(summary["T"]) == [10, 5]
    assert list(summary["monetary_value"]) == [30, 0]


def test_cli_fits_a_summary_file_and_writes_scores(cdnow, tmp_path, capsys):
    # Given the CDNOW summary as the CSV analysts have
    source = tmp_path / "summary.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "frequency", "recency", "T", "monetary_value"])
        for row in zip(
            cdnow["customer_id"],
            cdnow["frequency"],
            cdnow["recency"],
            cdnow["T"],
            cdnow["monetary_value"],
            strict=True,
        ):
            writer.writerow(row)
    out = tmp_path / "scores.csv"
    # When fitted and scored for 39 weeks
    code = main(["model", "fit", "--summary", str(source), "--json", "--scores", str(out), "--horizon", "39"])
    result = json.loads(capsys.readouterr().out)
    # Then the parameters are printed and every customer is scored
    assert code == 0
    assert result["bgnbd"]["r"] == pytest.approx(PUBLISHED_BGNBD["r"], rel=0.01)
    assert result["gamma_gamma"]["q"] == pytest.approx(PUBLISHED_GG["q"], rel=0.01)
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == len(cdnow["frequency"])
    assert set(rows[0]) == {"customer_id", "p_alive", "expected_purchases", "expected_avg_value", "clv"}
    assert 0 <= float(rows[0]["p_alive"]) <= 1


def test_cli_takes_raw_transactions_and_reports_a_fallback(tmp_path, capsys):
    source = tmp_path / "tx.csv"
    source.write_text(
        "customer_id,date,amount\nc1,2026-01-01,10.00\nc1,2026-02-01,12.50\nc2,2026-01-15,99.90\n"
    )
    code = main(
        [
            "model",
            "fit",
            "--transactions",
            str(source),
            "--json",
            "--scores",
            str(tmp_path / "s.csv"),
            "--horizon",
            "90",
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["method"] == "heuristic" and result["bgnbd"] is None
    assert "not fitted" in result["note"] and result["customers"] == 2


def test_cli_names_the_bad_line(tmp_path, capsys):
    source = tmp_path / "tx.csv"
    source.write_text("customer_id,date,amount\nc1,2026-01-01,ten\n")
    assert main(["model", "fit", "--transactions", str(source)]) == 2
    assert "line 2" in capsys.readouterr().err


def test_whole_number_rows_compress_like_the_general_path():
    rng = np.random.default_rng(1)
    x, tx, T = (rng.integers(0, 40, 5000).astype(float) for _ in range(3))
    fast_cols, fast_w = btyd._compress(x, tx, T)
    unique, counts = np.unique(np.column_stack([x, tx, T]), axis=0, return_counts=True)
    order = np.lexsort((fast_cols[2], fast_cols[1], fast_cols[0]))
    np.testing.assert_array_equal(np.column_stack(fast_cols)[order], unique)
    np.testing.assert_array_equal(fast_w[order], counts)


def test_fit_recovers_the_parameters_of_a_simulated_bgnbd_process():
    from patron.bench.model import TRUE, simulate

    x, tx, T = simulate(50_000, seed=2)
    fitted = btyd.fit_bgnbd(x, tx, T)
    # whole-day data blurs alpha a little; the shape parameters come back closely
    assert fitted.r == pytest.approx(TRUE.r, rel=0.1)
    assert fitted.alpha == pytest.approx(TRUE.alpha, rel=0.15)
    assert fitted.a == pytest.approx(TRUE.a, rel=0.15)
    assert fitted.b == pytest.approx(TRUE.b, rel=0.15)


def test_lifetimes_given_patrons_compressed_rows_and_weights_fits_what_patron_fits():
    from patron.bench.model import fit_lifetimes_weighted, relative_difference, simulate

    # Given customers of a BG/NBD process, in whole days (many share a row)
    x, tx, T = simulate(8_000, seed=4)
    ux, _, _, weights = btyd.compress_summary(x, tx, T)
    assert len(ux) < len(x) and weights.sum() == len(x)
    # When lifetimes fits the distinct rows with their weights, and Patron fits every customer
    weighted, _ = fit_lifetimes_weighted(x, tx, T)
    mine = btyd.fit_bgnbd(x, tx, T)
    # Then both reach the same estimates: the weighted rows carry the whole likelihood
    assert relative_difference(mine, weighted) < 1e-4


def test_the_model_bench_reports_the_weighted_lifetimes_fit_beside_the_unweighted_one():
    from patron.bench.model import run

    # When the model bench runs on a small simulated base
    result = run(customers=3_000, seed=6)
    # Then it times lifetimes both ways, and the weighted fit agrees with Patron's
    assert {"lifetimes_fit_seconds", "lifetimes_weighted_fit_seconds", "weighted_speedup"} <= set(result)
    assert result["weighted_max_relative_difference"] < 1e-4
    assert result["lifetimes_weighted_estimates"].keys() == result["bgnbd_estimates"].keys()
