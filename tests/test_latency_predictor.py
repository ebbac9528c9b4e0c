"""The latency predictor: fitting, held-out error, files, the cache as training data, accuracy figures.

Fitting is tested on synthetic latencies, drawn from a known additive cost
per feature with multiplicative noise, so the truth is known exactly and no
test depends on this machine's speed.  Real timing happens only in the cache
round trip, on tiny nets, and nothing asserts on how long anything took.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from evaluators.devices import device_name
from evaluators.latency import (
    LatencyCache,
    LatencyPredictor,
    accuracy_metrics,
    evaluate_predictor,
    fit_from_cache,
    measure,
)
from evaluators.latency.features import feature_matrix
from evaluators.latency.predictor import MIN_MEASUREMENTS
from evaluators.latency.regressors import (
    AdditiveRegression,
    BoostedTreesRegression,
    LogLinearRegression,
)
from evaluators.latency.training_data import Setting, cached_training_set
from tests.latency_support import FAST, synthetic_result
from tests.predictor_support import random_nets, tiny_nets, true_latency_ms


@pytest.fixture(scope="module")
def training_nets():
    return random_nets(150, seed=1)


@pytest.fixture(scope="module")
def held_out_nets():
    return random_nets(60, seed=2)


def noisy(latencies: np.ndarray, relative_noise: float, seed: int = 0) -> np.ndarray:
    return latencies * np.exp(np.random.default_rng(seed).normal(0.0, relative_noise, len(latencies)))


@pytest.fixture(scope="module")
def fitted(training_nets) -> LatencyPredictor:
    return LatencyPredictor(device="cpu:test", threads=1, torch_version="0.0").fit(training_nets, noisy(true_latency_ms(training_nets), 0.03))


# ---- fitting ----------------------------------------------------------------------------

def test_fit_recovers_a_known_additive_latency(fitted, held_out_nets) -> None:
    truth = true_latency_ms(held_out_nets)
    figures = accuracy_metrics(fitted.predict_many_ms(held_out_nets), truth)
    assert figures["within_10pct"] == 1.0
    assert figures["mape_pct"] < 3.0
    assert figures["spearman"] > 0.99


def test_held_out_error_reflects_the_noise_in_the_measurements(fitted) -> None:
    # Measurements scattered by 3% (one standard deviation) cannot be predicted much better
    # or much worse than that by a model of the right form.
    assert 0.015 < fitted.relative_error < 0.06
    held_out = fitted.metadata["held_out"]
    assert held_out["count"] == 150 and held_out["within_10pct"] > 0.95


def test_more_noise_gives_a_larger_held_out_error(training_nets) -> None:
    truth = true_latency_ms(training_nets)
    quiet = LatencyPredictor().fit(training_nets, noisy(truth, 0.02))
    loud = LatencyPredictor().fit(training_nets, noisy(truth, 0.15))
    assert loud.relative_error > 3 * quiet.relative_error


def test_a_few_spoiled_measurements_barely_move_the_fit(training_nets, held_out_nets) -> None:
    measured = noisy(true_latency_ms(training_nets), 0.03)
    measured[::10] *= 3.0  # a tenth of the nets timed while another process ran
    predictor = LatencyPredictor().fit(training_nets, measured)
    figures = accuracy_metrics(predictor.predict_many_ms(held_out_nets), true_latency_ms(held_out_nets))
    assert figures["within_10pct"] > 0.95


def test_fitting_twice_gives_the_same_predictor(training_nets) -> None:
    measured = noisy(true_latency_ms(training_nets), 0.05)
    first, second = LatencyPredictor().fit(training_nets, measured), LatencyPredictor().fit(training_nets, measured)
    assert first.coefficients == second.coefficients
    assert first.relative_error == second.relative_error


def test_coefficients_are_non_negative_milliseconds(fitted) -> None:
    coefficients = fitted.coefficients
    assert "overhead" in coefficients and len(coefficients) == 1 + len(fitted.to_dict()["features"])
    assert all(value >= 0 for value in coefficients.values())


def test_metadata_records_the_setting_and_the_training(fitted) -> None:
    metadata = fitted.metadata
    assert metadata["device"] == "cpu:test" and metadata["threads"] == 1 and metadata["torch_version"] == "0.0"
    assert metadata["batch_size"] == 1 and metadata["dtype"] == "float32"
    assert metadata["training_measurements"] == 150 and metadata["model"] == "additive"


@pytest.mark.parametrize(
    "regression", [AdditiveRegression, LogLinearRegression, lambda: BoostedTreesRegression(estimators=60)], ids=["additive", "log_linear", "boosted_trees"]
)
def test_every_family_learns_the_ranking(regression, training_nets, held_out_nets) -> None:
    model = regression().fit(feature_matrix(training_nets), noisy(true_latency_ms(training_nets), 0.03))
    figures = accuracy_metrics(model.predict(feature_matrix(held_out_nets)), true_latency_ms(held_out_nets))
    assert figures["spearman"] > 0.9


# ---- user errors ------------------------------------------------------------------------

def test_too_few_measurements_are_a_clear_error(training_nets) -> None:
    few = training_nets[: MIN_MEASUREMENTS - 1]
    with pytest.raises(ValueError, match=f"at least {MIN_MEASUREMENTS} measured nets, got {MIN_MEASUREMENTS - 1}"):
        LatencyPredictor().fit(few, [10.0] * len(few))


@pytest.mark.parametrize(("bad", "message"), [(0.0, r"latencies_ms\[3\] = 0.0"), (float("nan"), r"latencies_ms\[3\] = nan"), (-2.0, r"latencies_ms\[3\] = -2.0")])
def test_latencies_must_be_positive_and_finite(training_nets, bad: float, message: str) -> None:
    latencies = [10.0] * 30
    latencies[3] = bad
    with pytest.raises(ValueError, match=message):
        LatencyPredictor().fit(training_nets[:30], latencies)


def test_specs_and_latencies_must_pair_up(training_nets) -> None:
    with pytest.raises(ValueError, match="30 specs and 29 latencies"):
        LatencyPredictor().fit(training_nets[:30], [10.0] * 29)
    with pytest.raises(TypeError, match=r"specs\[0\] must be a NetSpec"):
        LatencyPredictor().fit(["net"] * 30, [10.0] * 30)  # type: ignore[list-item]


def test_an_unfitted_predictor_says_so(training_nets) -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        LatencyPredictor().predict_ms(training_nets[0])
    with pytest.raises(RuntimeError, match="not fitted"):
        LatencyPredictor().relative_error  # noqa: B018


# ---- files ------------------------------------------------------------------------------

def test_save_and_load_predict_identically(fitted, held_out_nets, tmp_path) -> None:
    path = fitted.save(tmp_path / "predictor.json")
    loaded = LatencyPredictor.load(path)
    assert [loaded.predict_ms(spec) for spec in held_out_nets] == [fitted.predict_ms(spec) for spec in held_out_nets]
    assert loaded.relative_error == fitted.relative_error
    assert loaded.metadata == fitted.metadata
    json.loads(path.read_text(), parse_constant=_reject)  # strict JSON: no NaN or Infinity


def _reject(constant: str) -> None:
    raise AssertionError(f"the file holds {constant}, which is not JSON")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(format="something else"), "format"),
        (lambda d: d.update(version=99), "version"),
        (lambda d: d.update(model="boosted_trees"), "model"),
        (lambda d: d["features"].pop(), "features"),
        (lambda d: d["costs_ms"].__setitem__(0, -1.0), "costs_ms"),
        (lambda d: d.update(overhead_ms="fast"), "overhead_ms"),
        (lambda d: d["metadata"]["held_out"].pop("relative_error"), "relative_error"),
        (lambda d: d["metadata"].update(training_measurements=3), "training_measurements"),
    ],
)
def test_a_damaged_file_is_rejected_naming_the_field(fitted, tmp_path, change, field: str) -> None:
    data = fitted.to_dict()
    change(data)
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=field):
        LatencyPredictor.load(path)


def test_a_missing_or_malformed_file_is_a_value_error(tmp_path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        LatencyPredictor.load(tmp_path / "absent.json")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        LatencyPredictor.load(tmp_path / "broken.json")


# ---- the cache as training data -----------------------------------------------------------

def test_measure_stores_the_spec_next_to_its_measurement() -> None:
    spec = tiny_nets(1, seed=5)[0]
    result = measure(spec, threads=1, **FAST)
    assert LatencyCache().spec_jsons([result.model_key]) == {spec.digest(): spec.to_json(indent=None)}


def test_fit_from_cache_fits_on_real_measurements_of_this_machine() -> None:
    nets = list({net.digest(): net for net in tiny_nets(3 * MIN_MEASUREMENTS, seed=7)}.values())[:MIN_MEASUREMENTS]
    assert len(nets) == MIN_MEASUREMENTS
    # A few nets timed for real, through measure(), which stores their specs; the rest stored
    # as a measuring process would store them, with made-up latencies, to keep the test quick.
    timed, stored = nets[:5], nets[5:]
    measured = [measure(net, "cpu", threads=1, **FAST).median_ms for net in timed]
    cache = LatencyCache()
    for net in stored:
        cache.put(synthetic_result(net.digest(), device=device_name("cpu"), median_ms=2.0), spec_json=net.to_json())
    predictor = fit_from_cache("cpu", threads=1)
    assert predictor.metadata["device"] == device_name("cpu")
    assert predictor.metadata["threads"] == 1
    assert predictor.metadata["training_measurements"] == MIN_MEASUREMENTS
    assert all(np.isfinite(p) and p > 0 for p in predictor.predict_many_ms(nets))
    assert evaluate_predictor(predictor, timed, measured)["count"] == len(timed)
    assert np.isfinite(predictor.relative_error)


def test_fit_from_cache_explains_what_is_missing(tmp_path) -> None:
    cache = LatencyCache(tmp_path / "latency.sqlite")
    net = tiny_nets(1, seed=3)[0]
    cache.put(synthetic_result(net.digest(), device="cpu:elsewhere"), spec_json=net.to_json())
    cache.put(synthetic_result("a-module", device="cpu:elsewhere"))
    with pytest.raises(ValueError, match=r"has 0 for device 'cpu:elsewhere', threads=4.*threads=1: 2") as caught:
        fit_from_cache("cpu:elsewhere", threads=4, cache=cache)
    assert f"at least {MIN_MEASUREMENTS}" in str(caught.value)
    with pytest.raises(ValueError, match=r"has 1 for .*\(1 more measured without a stored spec\)"):
        fit_from_cache("cpu:elsewhere", threads=1, cache=cache, torch_version=synthetic_result("x").torch_version)
    with pytest.raises(ValueError, match="threads must be an integer >= 1"):
        fit_from_cache("cpu", threads=0, cache=cache)


def test_a_net_measured_at_another_resolution_is_taken_at_that_resolution(tmp_path) -> None:
    cache = LatencyCache(tmp_path / "latency.sqlite")
    net = tiny_nets(1, seed=3)[0]
    result = synthetic_result(net.digest(), device="cpu:elsewhere")  # input 1x3x32x32
    cache.put(result, spec_json=net.to_json())
    setting = Setting(device="cpu:elsewhere", threads=result.threads, torch_version=result.torch_version)
    (spec,) = cached_training_set(cache, setting).specs
    assert spec.resolution == 32 and spec.stages == net.stages


def test_the_spec_table_leaves_older_cache_files_readable(tmp_path) -> None:
    path = tmp_path / "old.sqlite"
    old = synthetic_result("measured-before-specs-were-stored")
    _write_old_cache(path, old)
    cache = LatencyCache(path)
    assert [entry.model_key for entry in cache.entries()] == [old.model_key]
    assert cache.spec_jsons() == {}
    cache.put(synthetic_result("new"), spec_json='{"stages": []}')
    assert cache.spec_jsons() == {"new": '{"stages": []}'}
    with pytest.raises(ValueError, match="spec_json must be a non-empty JSON string"):
        cache.put(synthetic_result("new"), spec_json="")


def _write_old_cache(path: Path, result) -> None:
    """A cache file as the version before the spec table wrote it."""
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE measurements (model_key TEXT NOT NULL, device TEXT NOT NULL, input_shape TEXT NOT NULL, "
            "threads INTEGER NOT NULL, dtype TEXT NOT NULL, torch_version TEXT NOT NULL, protocol_version INTEGER NOT NULL, "
            "result TEXT NOT NULL, PRIMARY KEY (model_key, device, input_shape, threads, dtype, torch_version, protocol_version))"
        )
        connection.execute(
            "INSERT INTO measurements VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (result.model_key, result.device, "1x3x32x32", result.threads, result.dtype, result.torch_version,
             result.protocol_version, json.dumps(result.to_dict())),
        )


# ---- accuracy figures -------------------------------------------------------------------

def test_accuracy_metrics_on_hand_checked_values() -> None:
    figures = accuracy_metrics([1.05, 0.8, 2.0, 4.38], [1.0, 1.0, 2.0, 4.0])
    assert figures["count"] == 4
    assert figures["within_10pct"] == 0.75  # 5%, 20%, 0% and 9.5% off
    assert figures["mape_pct"] == pytest.approx((5 + 20 + 0 + 9.5) / 4)
    assert figures["max_ape_pct"] == pytest.approx(20.0)
    assert figures["median_ape_pct"] == pytest.approx((5 + 9.5) / 2)
    # Ranks (1.5, 1.5, 3, 4) measured against (2, 1, 3, 4) predicted: Pearson's r of the ranks is sqrt(0.9).
    assert figures["spearman"] == pytest.approx(0.9 ** 0.5)
    assert 0.05 <= figures["relative_error"] <= 0.20


def test_accuracy_metrics_reject_unpaired_or_impossible_values() -> None:
    with pytest.raises(ValueError, match="equally long"):
        accuracy_metrics([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="measured_ms must all be finite and > 0"):
        accuracy_metrics([1.0], [0.0])
    assert np.isnan(accuracy_metrics([1.0], [1.0])["spearman"])


def test_evaluate_predictor_pairs_specs_with_measurements(fitted, held_out_nets) -> None:
    truth = true_latency_ms(held_out_nets)
    assert evaluate_predictor(fitted, held_out_nets, truth) == accuracy_metrics(fitted.predict_many_ms(held_out_nets), truth)
    with pytest.raises(ValueError, match="3 specs and 2 latencies"):
        evaluate_predictor(fitted, held_out_nets[:3], truth[:2])


# ---- the benchmark's report of the search's skip rule -------------------------------------

def test_the_benchmark_counts_what_the_skip_rule_would_wrongly_skip() -> None:
    from types import SimpleNamespace

    from benchmarks.latency_predictor import skip_rule

    predictor = SimpleNamespace(relative_error=0.1)  # skips above 1.2 x the budget
    predicted, measured = np.array([100.0, 130.0, 200.0]), np.array([100.0, 125.0, 90.0])
    rows = skip_rule(predictor, predicted, measured)  # budgets 95, 100, 112.5 (measured percentiles 25, 50, 75)
    assert [row["budget_ms"] for row in rows] == [95.0, 100.0, 112.5]
    assert [row["skipped"] for row in rows] == [2, 2, 1]
    assert [row["wrongly_skipped"] for row in rows] == [1, 1, 1]  # the 90 ms net predicted at 200 ms
    assert [row["over_budget"] for row in rows] == [2, 1, 1]
