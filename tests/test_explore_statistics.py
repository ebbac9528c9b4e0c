"""Design-space statistics against independent computations: numpy EDFs, scipy's KS test, Monte Carlo, pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from search.explore import statistics


def test_edf_matches_the_definition_and_weights_count_as_repeats() -> None:
    rng = np.random.default_rng(1)
    errors = rng.normal(30, 5, size=57).round(1)  # rounding makes ties
    grid = np.linspace(10, 50, 81)
    assert np.allclose(statistics.edf(errors, grid), (errors[:, None] <= grid).mean(axis=0))
    # Integer weights are the same as repeating each net that many times.
    weights = rng.integers(1, 4, size=len(errors))
    assert np.allclose(statistics.edf(errors, grid, weights), (np.repeat(errors, weights)[:, None] <= grid).mean(axis=0))


def test_bootstrap_band_holds_the_edf_and_mostly_the_true_distribution() -> None:
    rng = np.random.default_rng(2)
    errors = rng.uniform(0, 1, size=200)
    grid = np.linspace(0.05, 0.95, 19)
    low, high = statistics.edf_band(errors, grid, resamples=400, seed=0)
    curve = statistics.edf(errors, grid)
    assert np.all(low <= curve + 1e-12) and np.all(curve <= high + 1e-12)
    assert np.mean((low <= grid) & (grid <= high)) >= 0.8  # the uniform CDF is the identity
    narrow_low, narrow_high = statistics.edf_band(rng.uniform(0, 1, size=2000), grid, resamples=200, seed=0)
    assert np.mean(narrow_high - narrow_low) < np.mean(high - low)


def test_complexity_weights_equalize_a_skewed_histogram() -> None:
    rng = np.random.default_rng(3)
    spread = 10 ** rng.uniform(8, 9, size=300)  # log-uniform MACs
    skewed = 10 ** (9 - rng.exponential(0.15, size=200).clip(0, 1))  # piled up at the top end
    weights = statistics.complexity_weights([spread, skewed], bins=8)
    edges = statistics.complexity_bins([spread, skewed], bins=8)
    mass_a, _ = np.histogram(spread, edges, weights=weights[0])
    mass_b, _ = np.histogram(skewed, edges, weights=weights[1])
    raw_a, _ = np.histogram(spread, edges)
    raw_b, _ = np.histogram(skewed, edges)
    shared = (raw_a > 0) & (raw_b > 0)
    assert not np.allclose(raw_a / raw_a.sum(), raw_b / raw_b.sum())
    assert np.allclose(mass_a, mass_b)  # matched complexity distributions
    assert np.allclose(mass_a[shared], 1 / shared.sum()) and np.all(mass_a[~shared] == 0)
    assert weights[0].sum() == pytest.approx(1) and weights[1].sum() == pytest.approx(1)


@pytest.mark.parametrize("k", [1, 3, 10, 25])
def test_expected_best_of_k_agrees_with_monte_carlo(k: int) -> None:
    rng = np.random.default_rng(4)
    errors = rng.gamma(4, 5, size=25)
    exact = statistics.expected_best_of_k(errors, k)
    draws = np.array([rng.choice(errors, size=k, replace=False).min() for _ in range(20000)])
    assert abs(exact - draws.mean()) < 4 * draws.std() / np.sqrt(len(draws)) + 1e-9
    if k == 1:
        assert exact == pytest.approx(errors.mean())
    if k == len(errors):
        assert exact == pytest.approx(errors.min())


def test_ks_verdict_is_scipys_test_and_names_the_lower_error_space() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(30, 3, size=40), rng.normal(33, 3, size=50)
    verdict = statistics.compare("A", a, "B", b)
    reference = stats.ks_2samp(a, b)
    assert verdict.ks == pytest.approx(reference.statistic) and verdict.p_value == pytest.approx(reference.pvalue)
    assert verdict.better == "A" and verdict.line().startswith("A's error distribution is better than B's: KS D=")
    assert statistics.compare("B", b, "A", a).better == "A"
    same = statistics.compare("A", a, "C", rng.normal(30, 3, size=40))
    assert same.better is None and "no significant difference at 5%" in same.line()


def test_weighted_ks_with_equal_weights_is_the_ordinary_statistic() -> None:
    rng = np.random.default_rng(6)
    a, b = rng.normal(0, 1, 60), rng.normal(0.5, 1, 70)
    d, p, sign = statistics.weighted_ks(a, np.ones(60), b, np.ones(70))
    reference = stats.ks_2samp(a, b, method="asymp")
    assert d == pytest.approx(reference.statistic)
    assert p == pytest.approx(stats.kstwobign.sf(d * np.sqrt(60 * 70 / 130)))
    assert sign == reference.statistic_sign


def test_knob_trend_is_the_median_and_quartiles_per_value() -> None:
    rng = np.random.default_rng(7)
    values = rng.choice([1, 2, 4, 8], size=80)
    errors = 40 - 2 * values + rng.normal(0, 1, size=80)
    trend = statistics.knob_trend(list(values), list(errors))
    groups = pd.Series(errors).groupby(values)
    assert [b.center for b in trend] == [1, 2, 4, 8]
    assert np.allclose([b.median for b in trend], groups.median().to_numpy())
    assert np.allclose([b.q25 for b in trend], groups.quantile(0.25).to_numpy())
    assert [b.count for b in trend] == groups.size().tolist()
    many = statistics.knob_trend(list(rng.integers(8, 1024, size=80)), list(errors), bins=5)
    assert len(many) == 5 and sum(b.count for b in many) == 80
    names = statistics.knob_trend(["relu", "silu", "relu"], [1.0, 2.0, 3.0])
    assert [(b.label, b.median) for b in names] == [("relu", 2.0), ("silu", 2.0)]
