"""Keeping the run's latency predictor fitted on this machine's own measurements.

The predictor (``evaluators.latency.LatencyPredictor``) is fitted on every
measurement of the deployment device and runtime in the latency cache, from this run and
earlier ones, and refitted as the run measures more nets.  Until the cache
holds enough nets for a held-out error estimate, the run measures everything.
The evaluator only skips a measurement when the prediction exceeds the budget
by more than twice the predictor's own held-out error.
"""

from __future__ import annotations

import logging

from search.run.config import RunConfig
from search.run.evaluate import CandidateEvaluator
from search.run.rundir import RunDir

log = logging.getLogger("search")

REFIT_EVERY = 10  # trials between refits: a fit takes well under a second


class PredictorRefresher:
    def __init__(self, evaluator: CandidateEvaluator, config: RunConfig, rundir: RunDir) -> None:
        self.evaluator, self.config, self.rundir = evaluator, config, rundir
        self._trials = 0

    def refresh(self) -> None:
        from evaluators.latency import fit_from_cache

        if self.config.budget_ms is None:
            return  # without a budget a prediction cannot save a measurement
        try:
            predictor = fit_from_cache(self.config.device, self.config.threads, runtime=self.config.runtime)
        except ValueError as reason:  # too few measured nets so far
            log.info("no latency predictor yet: %s", reason)
            return
        self.evaluator.predictor = predictor
        predictor.save(self.rundir.path / "latency_model.json")
        log.info("latency predictor fitted on %d nets, held-out error %.1f%%",
                 predictor.metadata["training_measurements"], 100 * predictor.relative_error)

    def after_trial(self) -> None:
        self._trials += 1
        if self._trials % REFIT_EVERY == 0:
            self.refresh()
