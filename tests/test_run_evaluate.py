"""One candidate's evaluation: cheap rejections first, training last, failures as records."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from evaluators.latency import LatencyCache
from search.run.config import RunConfig
from search.run.evaluate import CandidateEvaluator, constraint_values
from searchspace import decode
from tests.dataset_support import random_image_dataset

SMALL = decode("net_r32_i1_n3 | conv_s2_c8 | mbconv_r2_s2_e3_c16 | head")
LARGE = decode("net_r224_i1_n3 | conv_s2_c64 | basic_r4_c256 basic_r4_s2_c512 | head")


@dataclass
class FixedPredictor:
    value_ms: float
    relative_error: float = 0.1

    def predict_ms(self, spec) -> float:
        return self.value_ms


def evaluator(predictor=None, **settings) -> CandidateEvaluator:
    config = RunConfig(name="t", proxy_epochs=1, proxy_batch_size=8, **settings)
    data = random_image_dataset(images=32, channels=1, side=16, classes=3)
    return CandidateEvaluator(config, data, "cpu", predictor)


def test_analytic_limits_reject_before_any_measurement_or_training() -> None:
    record = evaluator(max_params=1000, budget_ms=1e6).evaluate(SMALL)
    assert record.state == "infeasible" and "over --max-params" in record.error
    assert record.latency_ms is None and record.accuracy is None
    assert constraint_values(record, evaluator(max_params=1000, budget_ms=1e6).config)[1] > 0
    assert LatencyCache().entries() == []  # nothing was timed


def test_a_clearly_over_budget_prediction_skips_the_measurement() -> None:
    record = evaluator(FixedPredictor(100.0), budget_ms=10.0).evaluate(SMALL)
    assert (record.state, record.latency_source) == ("infeasible", "predicted")
    assert LatencyCache().entries() == []


def test_a_prediction_within_the_predictors_error_is_measured() -> None:
    # 11 ms against a 10 ms budget is within 2 x 10% error: it must be measured, not guessed.
    record = evaluator(FixedPredictor(11.0), budget_ms=1e6).evaluate(SMALL)
    assert record.latency_source == "measured" and record.state == "complete"
    assert record.accuracy is not None and record.train_seconds is not None


def test_the_quick_probe_rejects_a_net_far_over_budget_without_the_full_protocol() -> None:
    record = evaluator(budget_ms=0.01).evaluate(LARGE)
    assert (record.state, record.latency_source, record.latency_runs) == ("infeasible", "probe", 3)
    assert record.accuracy is None


def test_baselines_are_trained_even_over_budget() -> None:
    record = evaluator(budget_ms=0.0001).evaluate(SMALL, train_when_infeasible=True)
    assert record.state == "infeasible" and record.accuracy is not None


@pytest.mark.parametrize("proxy", ["synflow", "params"])
def test_training_free_proxies_fill_the_score(proxy: str) -> None:
    record = evaluator(proxy=proxy).evaluate(SMALL)
    assert record.state == "complete" and record.score is not None and record.accuracy is None


def test_a_proxy_deadline_that_has_passed_stops_training_and_fails_the_record() -> None:
    import time

    from search.run.proxy_score import TIME_LIMITED

    def three_epochs() -> CandidateEvaluator:
        config = RunConfig(name="t", proxy_epochs=3, proxy_batch_size=8, budget_ms=1e6)
        return CandidateEvaluator(config, random_image_dataset(images=32, channels=1, side=16, classes=3), "cpu")

    timed = three_epochs()
    timed.proxy_deadline = time.monotonic() - 1.0  # the phase's time is up before training starts
    record = timed.evaluate(SMALL)
    # A net trained for 1 of 3 epochs is not comparable with fully trained ones: no accuracy is kept.
    assert record.state == "failed" and record.error.startswith(TIME_LIMITED) and "1 of 3 epochs" in record.error
    assert record.accuracy is None and record.latency_ms is not None
    untimed = three_epochs().evaluate(SMALL)
    assert untimed.state == "complete" and untimed.epochs == 3


def test_a_net_that_pools_the_proxy_input_away_trains_at_the_smallest_size_it_builds_at() -> None:
    from dataclasses import replace

    from searchspace import SpecError, zoo
    from searchspace.scaling import at_resolution

    config = RunConfig(name="t", proxy_epochs=1, proxy_batch_size=8, budget_ms=1e6)
    digits_like = CandidateEvaluator(config, random_image_dataset(images=32, channels=1, side=32, classes=10), "cpu")
    alexnet = replace(zoo.get("alexnet"), in_channels=1, num_classes=10)
    with pytest.raises(SpecError):
        at_resolution(alexnet, 32)  # the default run's proxy size for a 224-px net: the pools leave nothing
    side = digits_like.proxy_resolution(alexnet)
    at_resolution(alexnet, side)  # builds
    with pytest.raises(SpecError):
        at_resolution(alexnet, side - 1)  # and no smaller size does
    assert digits_like.proxy_resolution(zoo.get("resnet18")) == 32  # a net that builds keeps the usual size
