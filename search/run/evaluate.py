"""Evaluating one candidate: cheapest checks first, training last.

1. Analytic cost (params, MACs) against ``--max-params`` / ``--max-macs``.
2. Predicted latency, when a predictor is available: a candidate predicted
   clearly over the budget (beyond the predictor's own error) is not measured.
3. Measured latency at batch 1 on the deployment device and runtime
   (``--runtime``), at the candidate's resolution (cached by digest across
   runs).  A net the runtime cannot convert is a failed trial with the reason.
4. The proxy: short training on the dataset, or a training-free score.

A candidate over a limit is *infeasible* and is not trained; a candidate that
breaks (NaN loss, out of memory, a shape that does not fit) is *failed* with
its reason.  Neither stops the search.  The constraint values given to optuna
are relative violations (``latency / budget - 1`` etc.) so that a 10% excess
weighs the same whichever limit it breaks.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Protocol

from evaluators.cost import cost
from evaluators.data import ImageDataset
from search.quantities import format_count
from search.run.config import RunConfig
from search.run.proxy_score import ProxyJob, ProxyScorer
from searchspace.scaling import smallest_buildable
from search.run.records import TrialRecord
from search.run.resources import proxy_resolution
from search.run.scores import with_quality
from searchspace import NetSpec, encode

if TYPE_CHECKING:
    from evaluators.proxy import EpochRecord

NOT_CONSTRAINED = -1.0  # the constraint value of a limit the user did not set
CONSTRAINT_NAMES = ("latency", "params", "macs")
# A short timing (two warm-up runs, then three timed) rejects a net this far
# over the budget without the full protocol.  The decision uses the fastest
# of the three runs, a lower bound on the net's latency: cold caches and other
# processes on the machine only ever slow a run down, so one quiet run is
# enough to keep a net that fits (a median of three was seen rejecting
# RegNetY-400MF at 366 ms on a loaded 2-core VM; its full measurement is 24 ms).
PROBE_REJECT_FACTOR = 1.5


class LatencyPredictor(Protocol):
    def predict_ms(self, spec: NetSpec) -> float: ...

    @property
    def relative_error(self) -> float: ...


@dataclass
class CandidateEvaluator:
    config: RunConfig
    dataset: ImageDataset
    train_device: str
    predictor: LatencyPredictor | None = None
    # Multi-fidelity schedulers (Ray's ASHA; --pruner passes on_epoch) compare learning curves: they need
    # a validation pass after every epoch and a callback that reports it.
    per_epoch_accuracy: bool = False
    # When set (time.monotonic()), a proxy training still running at this time stops and fails with
    # TIME_LIMITED: the baseline and search phases set it (trainings_end_by), so that one slow net cannot
    # outlast its phase's share.
    proxy_deadline: float | None = None

    @contextlib.contextmanager
    def trainings_end_by(self, deadline: float) -> Iterator[None]:
        """Proxy trainings inside stop at ``deadline`` (time.monotonic(); infinite: no limit) and fail with TIME_LIMITED."""
        self.proxy_deadline = deadline if deadline != float("inf") else None
        try:
            yield
        finally:
            self.proxy_deadline = None

    def epoch_callback(self, record: TrialRecord) -> Callable[[EpochRecord], None] | None:
        """Called after each proxy epoch of ``record``'s net; none by default."""
        return None

    def proxy_resolution(self, spec: NetSpec) -> int:
        return smallest_buildable(spec, proxy_resolution(self.dataset.resolution, spec.resolution, self.config.resolution))

    def evaluate(self, spec: NetSpec, *, train_when_infeasible: bool = False,
                 on_epoch: Callable[[EpochRecord], bool | None] | None = None) -> TrialRecord:
        """The candidate's record; ``train_when_infeasible`` trains over-budget nets too (baselines); ``on_epoch``
        sees each proxy epoch's validation accuracy and may stop the training there (a pruner: state "pruned")."""
        return self._timed(spec, lambda record: self._evaluate_into(record, spec, train_when_infeasible, on_epoch))

    def screen(self, spec: NetSpec) -> TrialRecord | None:
        """The record when the cheap checks alone reject the candidate (an analytic limit, a clearly
        over-budget prediction), else None: it must be measured and scored.  A backend that evaluates
        elsewhere screens where the predictor lives, so no worker is spent on a net known to fail."""
        record = self._timed(spec, lambda record: self._screen_into(record, spec))
        return record if record.state == "infeasible" else None

    def _timed(self, spec: NetSpec, steps: Callable[[TrialRecord], None]) -> TrialRecord:
        started = time.perf_counter()
        record = TrialRecord()
        analytic = cost(spec)
        record.update(
            spec=encode(spec), digest=spec.digest(), params=analytic.params, macs=analytic.macs,
            resolution=spec.resolution, proxy_resolution=self.proxy_resolution(spec),
            started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        try:
            steps(record)
        finally:
            record.seconds = round(time.perf_counter() - started, 3)
        return record

    # ---- steps ------------------------------------------------------------------------

    def _evaluate_into(self, record: TrialRecord, spec: NetSpec, train_when_infeasible: bool, on_epoch) -> None:
        violations = self._analytic_violations(record)
        if violations:
            self._infeasible(record, violations)
            if train_when_infeasible:
                self._measure_then_train(record, spec)
            return
        if self._predicted_over_budget(record, spec):
            return
        try:
            self._measure_latency(record, spec)
        except (RuntimeError, ValueError, MemoryError) as error:  # e.g. CUDA out of memory while timing
            record.update(state="failed", error=f"latency measurement failed: {type(error).__name__}: {error}")
            return
        if record.violation is not None and record.violation > 0:
            self._infeasible(record, [f"latency {record.latency_ms:.2f} ms over the {self.config.budget_ms:g} ms budget"])
            if not train_when_infeasible:
                return
        state, error = record.state, record.error
        self._run_proxy(record, spec, on_epoch)
        if state == "infeasible" and record.state == "complete":  # trained anyway, but still over a limit
            record.update(state=state, error=error)

    def _screen_into(self, record: TrialRecord, spec: NetSpec) -> None:
        violations = self._analytic_violations(record)
        if violations:
            self._infeasible(record, violations)
        else:
            self._predicted_over_budget(record, spec)

    def _measure_then_train(self, record: TrialRecord, spec: NetSpec) -> None:
        state, error = record.state, record.error
        try:
            self._measure_latency(record, spec)
        except (RuntimeError, ValueError, MemoryError):
            pass  # the net is already infeasible; its latency is only informative
        self._run_proxy(record, spec)
        if record.state == "complete":
            record.update(state=state, error=error)

    def _analytic_violations(self, record: TrialRecord) -> list[str]:
        limits = (("params", record.params, self.config.max_params, "--max-params"),
                  ("macs", record.macs, self.config.max_macs, "--max-macs"))
        problems = []
        worst = NOT_CONSTRAINED
        for column, value, limit, option in limits:
            if limit is not None:
                excess = value / limit - 1.0
                worst = max(worst, excess)
                if excess > 0:
                    problems.append(f"{column} {format_count(value)} over {option} {format_count(limit)}")
        record.violation = worst if worst != NOT_CONSTRAINED else None
        return problems

    def _predicted_over_budget(self, record: TrialRecord, spec: NetSpec) -> bool:
        if self.predictor is None or self.config.budget_ms is None:
            return False
        predicted = self.predictor.predict_ms(spec)
        # Only skip the measurement when even the predictor's own error cannot bring it under.
        if predicted <= self.config.budget_ms * (1.0 + 2.0 * self.predictor.relative_error):
            return False
        record.update(latency_ms=predicted, latency_source="predicted", violation=predicted / self.config.budget_ms - 1.0)
        self._infeasible(record, [f"predicted latency {predicted:.2f} ms clearly over the {self.config.budget_ms:g} ms budget"])
        return True

    def _measure_latency(self, record: TrialRecord, spec: NetSpec) -> None:
        started = time.perf_counter()
        try:
            self._time_latency(record, spec)
        finally:  # what the trial spent timing, probe and warm-up included (the overhead benchmark's input)
            record.latency_seconds = round(time.perf_counter() - started, 3)

    def _time_latency(self, record: TrialRecord, spec: NetSpec) -> None:
        from evaluators.latency import measure, measure_unless_over

        config = self.config
        if config.budget_ms is not None:
            probed = measure_unless_over(spec, config.device, config.threads, runtime=config.runtime,
                                         limit_ms=PROBE_REJECT_FACTOR * config.budget_ms)
            result, rejected = probed.result, probed.rejected
        else:
            result, rejected = measure(spec, config.device, threads=config.threads, runtime=config.runtime), False
        if rejected:  # the probe's fastest pass: a lower bound, already far over the budget
            record.update(latency_ms=result.min_ms, latency_spread_ms=result.spread_ms, latency_runs=result.runs,
                          latency_source="probe")
            latency = result.min_ms
        else:
            record.update(latency_ms=result.estimate_ms, latency_spread_ms=result.spread_ms, latency_runs=result.runs,
                          latency_source="cached" if result.cached else "measured",
                          # still slowed by other processes after the protocol's retries (the slowdown is in
                          # the run's latency_protocol.json); the front's re-measurement replaces it
                          latency_contended=result.contended if result.slowdown is not None else None)
            latency = result.estimate_ms
        if config.budget_ms is not None:
            excess = latency / config.budget_ms - 1.0
            record.violation = excess if record.violation is None else max(record.violation, excess)

    def _run_proxy(self, record: TrialRecord, spec: NetSpec, on_epoch=None) -> None:
        job = ProxyJob.of(self.config, self.train_device)
        if self.proxy_deadline is not None:
            job = replace(job, time_limit_s=max(1e-3, self.proxy_deadline - time.monotonic()))  # > 0: settings refuse 0
        scorer = ProxyScorer(job, self.dataset)
        outcome = scorer.score(spec, record.proxy_resolution, per_epoch_accuracy=self.per_epoch_accuracy or on_epoch is not None,
                               on_epoch=on_epoch or self.epoch_callback(record))
        record.update(**outcome.fields())
        with_quality(record, self.config.proxy_score)

    @staticmethod
    def _infeasible(record: TrialRecord, reasons: list[str]) -> None:
        record.update(state="infeasible", error="; ".join(reasons))


def constraint_values(record: TrialRecord, config: RunConfig) -> list[float]:
    """Optuna constraints (> 0 means violated): latency, params and MACs, each relative to its limit."""
    def relative(value: float | None, limit: float | None) -> float:
        if limit is None:
            return NOT_CONSTRAINED
        if value is None:  # not measured because another limit already failed
            return 0.0
        return value / limit - 1.0

    return [
        relative(record.latency_ms, config.budget_ms),
        relative(record.params, config.max_params),
        relative(record.macs, config.max_macs),
    ]


def adapt_to_run(spec: NetSpec, dataset: ImageDataset) -> NetSpec:
    """A baseline or sampled net with the dataset's input channels and classes."""
    return replace(spec, in_channels=dataset.in_channels, num_classes=dataset.num_classes)
