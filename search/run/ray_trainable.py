"""What one Ray Tune trial runs on a worker: evaluate one candidate, report it to the driver.

The driver's session has already sampled the net (define-by-run, on the
optuna trial) and passes its compact string in the trial's config, so the
worker never samples and the study never leaves the driver.  When the driver
already knows the result (a reused net, one rejected by the cheap checks, a
space that produced no net) it passes the record instead, and the worker only
reports it.  The worker
evaluates it with the same :class:`CandidateEvaluator` as the optuna backend
and reports:

* after each proxy epoch (training proxy only): ``epoch``, the epoch's
  score under ``--proxy-score`` (the run's objective name) and the record so far, so that ASHA can stop it;
* once at the end: the full record with ``final: True``.

Records travel as JSON text: Tune flattens nested dicts in results.

Fault injection for tests: when the environment variable named by
:data:`KILL_TRIAL_ENV` holds a trial number, the worker running that trial
kills its own process with SIGKILL before doing anything, exactly as an
out-of-memory killer or a lost node would.  Nothing else reads it.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from search.run.config import RunConfig
from search.run.evaluate import CandidateEvaluator
from search.run.records import TrialRecord
from search.run.resources import training_device
from search.run.scores import proxy_quality

if TYPE_CHECKING:
    from evaluators.proxy import EpochRecord

KILL_TRIAL_ENV = "CONVSPACE_RAY_KILL_TRIAL"
# Keys of a trial's config that the driver adds next to the knob values.
NUMBER, SPEC, DECIDED = "_number", "_spec", "_decided"


class ReportingEvaluator(CandidateEvaluator):
    """A candidate evaluator that reports each proxy epoch to Ray Tune (under ASHA with its --proxy-score)."""

    def epoch_callback(self, record: TrialRecord) -> Callable[[EpochRecord], None]:
        def report_epoch(epoch: EpochRecord) -> None:
            quality = proxy_quality(epoch.val_accuracy, epoch.val_loss, self.config.proxy_score)
            # The figures so far: if ASHA stops the trial here, they are its record's.
            partial = record.but(epochs=epoch.epoch, accuracy=epoch.val_accuracy, val_loss=epoch.val_loss, quality=quality)
            report(partial, self.config, epoch=epoch.epoch, quality=quality, final=False)

        return report_epoch


def report(record: TrialRecord, config: RunConfig, *, epoch: int | None, quality: float | None, final: bool) -> None:
    """One Tune result: the searcher's metrics (None until known: Tune wants every metric in every result)."""
    from ray import tune

    metrics = {"record_json": json.dumps(record.stored()), "final": final, config.objective_name: quality,
               "latency_ms": record.latency_ms}
    if epoch is not None and quality is not None:  # ASHA's time attribute: only results it can compare carry it
        metrics["epoch"] = epoch
    tune.report(metrics)


def evaluate_trial(trial_config: dict[str, Any], *, run_config: dict[str, Any], dataset) -> None:
    """The Tune function trainable (``dataset`` and ``run_config`` arrive through ``tune.with_parameters``)."""
    import torch

    from searchspace import decode

    if os.environ.get(KILL_TRIAL_ENV) == str(trial_config[NUMBER]):
        os.kill(os.getpid(), signal.SIGKILL)
    config = RunConfig.from_dict(run_config)
    if trial_config.get(DECIDED):  # the driver already knows the result
        record = TrialRecord.of(json.loads(trial_config[DECIDED]))
        return report(record, config, epoch=record.epochs, quality=record.objective, final=True)
    torch.set_num_threads(max(1, int(config.cpus_per_trial)))
    # Ray hides the GPUs from a trial that asked for none, so the trial trains where its resources are.
    device = training_device(config.train_device, gpus=config.gpus_per_trial > 0)
    evaluator = ReportingEvaluator(config, dataset, device, per_epoch_accuracy=config.scheduler == "asha")
    record = evaluator.evaluate(decode(trial_config[SPEC]))
    report(record, config, epoch=record.epochs, quality=record.objective, final=True)
