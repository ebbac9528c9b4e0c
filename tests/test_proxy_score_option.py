"""``--proxy-score``: what the search maximises for a trained net, its study, its pruner, its cached known nets and
the sentences that report it; a run stored before the option keeps maximising accuracy."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import optuna
import pytest
import torch
from scipy import stats

from search.errors import UserError
from search.run.config import RunConfig
from search.run.records import TrialRecord
from search.run.scores import ACCURACY, ACCURACY_X_LIKELIHOOD, DEFAULT_PROXY_SCORE, proxy_quality, with_quality


def test_the_default_score_is_accuracy_times_the_geometric_mean_probability_of_the_true_class() -> None:
    generator = torch.Generator().manual_seed(0)
    logits, labels = torch.randn(200, 10, generator=generator) * 3, torch.randint(0, 10, (200,), generator=generator)
    accuracy = (logits.argmax(dim=1) == labels).float().mean().item()
    val_loss = torch.nn.functional.cross_entropy(logits, labels).item()  # what the proxy records as val_loss
    true_class = logits.softmax(dim=1)[torch.arange(200), labels].double().numpy()
    assert DEFAULT_PROXY_SCORE == ACCURACY_X_LIKELIHOOD
    assert proxy_quality(accuracy, val_loss, DEFAULT_PROXY_SCORE) == pytest.approx(accuracy * stats.gmean(true_class), rel=1e-5)
    assert proxy_quality(accuracy, val_loss, ACCURACY) == accuracy


def test_the_score_of_a_diverged_or_unscored_net() -> None:
    assert proxy_quality(0.3, math.inf, ACCURACY_X_LIKELIHOOD) == 0.0  # a diverged net ranks last, not NaN
    assert proxy_quality(None, 0.5, ACCURACY_X_LIKELIHOOD) is None and proxy_quality(0.9, None, ACCURACY_X_LIKELIHOOD) is None
    assert proxy_quality(math.nan, 0.5, ACCURACY) is None
    with pytest.raises(ValueError, match="unknown proxy score"):
        proxy_quality(0.9, 0.5, "loss")


def test_the_record_maximises_its_score_and_a_training_free_record_its_own() -> None:
    trained = with_quality(TrialRecord(accuracy=0.9, val_loss=0.5), ACCURACY_X_LIKELIHOOD)
    assert trained.objective == pytest.approx(0.9 * math.exp(-0.5)) == trained.quality
    assert with_quality(TrialRecord(score=123.0), ACCURACY_X_LIKELIHOOD).objective == 123.0
    assert TrialRecord(accuracy=0.8, val_loss=0.5).objective == 0.8  # a record from before the option maximised accuracy


def test_a_run_names_its_objective_and_one_stored_before_the_option_keeps_accuracy() -> None:
    assert RunConfig(name="x").objective_name == "accuracy_x_likelihood"
    assert RunConfig(name="x", proxy_score=ACCURACY).objective_name == "accuracy"
    assert RunConfig(name="x", proxy="synflow").objective_name == "synflow"
    stored = RunConfig(name="old").to_dict()
    del stored["proxy_score"]
    old = RunConfig.from_dict(stored)
    assert old.proxy_score == ACCURACY
    with pytest.raises(UserError, match="differs from the run being resumed"):  # its trials would not compare
        old.resumed_with({"proxy_score": ACCURACY_X_LIKELIHOOD})


def test_an_unknown_score_is_refused_with_one_line_and_exit_2(tmp_path: Path) -> None:
    from tests.test_cli_run import one_line_error, search

    line = one_line_error(search(tmp_path, "run", "--budget", "50ms", "--proxy-score", "loss"))
    assert "--proxy-score" in line and "accuracy_x_likelihood" in line
    assert not (tmp_path / "results").exists()  # refused before a run folder was made


class CachedOnly:
    """An evaluator that trains once, recording accuracy and held-out loss, and refuses to train a second time."""

    def __init__(self, config: RunConfig, allowed: bool) -> None:
        from types import SimpleNamespace

        self.config, self.allowed = config, allowed
        self.dataset = SimpleNamespace(in_channels=3, num_classes=10)

    def evaluate(self, spec, *, train_when_infeasible: bool = False) -> TrialRecord:
        from searchspace import encode

        assert self.allowed, "a cached known net was trained again"
        record = TrialRecord(spec=encode(spec), digest=spec.digest(), macs=1, latency_ms=1.0, latency_source="measured",
                             state="complete", accuracy=0.8, val_loss=0.5)
        return with_quality(record, self.config.proxy_score)


def test_a_cached_known_net_is_scored_for_the_run_that_reuses_it(tmp_path: Path) -> None:
    from search.run.baseline_cache import BaselineCache
    from search.run.baselines import BaselineRunner, choose_baselines
    from search.run.rundir import RunDir
    from search.spaces import load_space

    def run(score: str, folder: str, allowed: bool) -> list[TrialRecord]:
        config = RunConfig(name="x", budget_ms=5.0, resolution=32, proxy_score=score, baseline_names=("mobilenet_v2",))
        choice = choose_baselines(config, load_space("unified"))
        runner = BaselineRunner(CachedOnly(config, allowed), RunDir(tmp_path / folder), BaselineCache(tmp_path / "cache"))
        return runner.run(choice, stop=lambda: False)[0]

    assert [r.objective for r in run(ACCURACY, "first", allowed=True)] == [0.8]
    assert [r.objective for r in run(ACCURACY_X_LIKELIHOOD, "second", allowed=False)] == [pytest.approx(0.8 * math.exp(-0.5))]


def test_the_pruner_is_told_the_runs_score_each_epoch() -> None:
    from evaluators.proxy.result import EpochRecord
    from search.run.pruning import LearningCurves

    storage = optuna.storages.InMemoryStorage()
    curves = LearningCurves(storage, RunConfig(name="x", pruner="asha", proxy_epochs=2))
    epochs = [EpochRecord(epoch=e, train_loss=1.0, train_accuracy=0.5, lr=0.1, seconds=1.0, val_accuracy=a, val_loss=loss)
              for e, a, loss in ((1, 0.6, 1.2), (2, 0.9, 0.4))]

    def train(watch) -> TrialRecord:
        for epoch in epochs:
            watch(epoch)
        return with_quality(TrialRecord(state="complete", accuracy=0.9, val_loss=0.4), DEFAULT_PROXY_SCORE)

    curves.follow(0, train)
    (trial,) = curves.study.get_trials()
    assert trial.intermediate_values == pytest.approx({1: 0.6 * math.exp(-1.2), 2: 0.9 * math.exp(-0.4)})
    assert trial.value == pytest.approx(0.9 * math.exp(-0.4))


def test_a_comparison_of_proxy_runs_names_the_score_and_judges_undertraining_on_accuracy() -> None:
    from search.run.comparison import compare

    def proxied(accuracy: float, val_loss: float, latency: float, **extra) -> TrialRecord:
        record = TrialRecord(spec="net_r16_n10 | conv_c8 | conv_c8 | head", state="complete", accuracy=accuracy,
                             val_loss=val_loss, latency_ms=latency, latency_spread_ms=0.1, **extra)
        return with_quality(record, DEFAULT_PROXY_SCORE)

    # 0.5 accuracy is well above chance (0.1); its score, 0.5 * exp(-1.6) = 0.10, is not an accuracy.
    line = compare([proxied(0.9, 0.3, 2.0, number=3)], proxied(0.5, 1.6, 9.0, baseline="known"))
    assert "undertrained" not in line and line.split()[1] == "proxy" and f"{0.5 * math.exp(-1.6):.4f}" in line
    assert "#3 has 0.6667" in line  # the member's score, as a single proxy run


def test_the_front_is_the_scores_front() -> None:
    from search.run.final_front import front_of

    # Same accuracy and latency; the search keeps the net that is confidently right.
    sure = with_quality(TrialRecord(number=1, state="complete", accuracy=0.99, val_loss=0.05, latency_ms=3.0), DEFAULT_PROXY_SCORE)
    unsure = with_quality(TrialRecord(number=2, state="complete", accuracy=0.99, val_loss=0.60, latency_ms=3.0), DEFAULT_PROXY_SCORE)
    assert [r.number for r in front_of([unsure, sure])] == [1]
    assert np.isclose(sure.objective, 0.99 * math.exp(-0.05))
