"""The proxy step of every evaluation: short training or a training-free score, failures as data.

One place calls the proxy trainer and the training-free scorers for `search run`
(through :class:`search.run.evaluate.CandidateEvaluator`), `search explore`
and `search export --train`, so the three always score a net the same way.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evaluators.optimizer_names import DEFAULT_OPTIMIZER
from search.run.config import TRAINING_PROXY

TIME_LIMITED = "stopped by the time limit"
PRUNED = "stopped early by the pruner"

if TYPE_CHECKING:
    from evaluators.data import ImageDataset
    from evaluators.proxy import EpochRecord


@dataclass(frozen=True)
class ProxyJob:
    """How candidates are scored: the proxy, its training length and batch, the seed, where it runs."""

    proxy: str
    epochs: int
    batch_size: int
    seed: int
    device: str
    # Training stops after the epoch that passes this many seconds; the score is then a failure
    # (TIME_LIMITED), since a net trained for part of the recipe is not comparable with the others.
    time_limit_s: float | None = None
    augment: bool = False  # --proxy-augment
    optimizer: str = DEFAULT_OPTIMIZER  # --proxy-optimizer

    @classmethod
    def of(cls, config: Any, device: str) -> ProxyJob:
        """From a ``RunConfig`` or an ``ExploreConfig`` (both carry the proxy fields)."""
        return cls(config.proxy, config.proxy_epochs, config.proxy_batch_size, config.seed, device, augment=config.proxy_augment,
                   optimizer=config.proxy_optimizer)


@dataclass(frozen=True)
class ProxyScore:
    """What the proxy made of one net: ``state`` "complete" with its figures, or "failed" with ``error``.  Each field
    is the trial-record field of the same name."""

    state: str
    error: str | None = None
    accuracy: float | None = None
    score: float | None = None
    train_loss: float | None = None
    val_loss: float | None = None  # mean cross-entropy on the validation split, no label smoothing
    train_seconds: float | None = None
    images_per_second: float | None = None
    peak_mem_mb: float | None = None
    regime: str | None = None
    optimizer: str | None = None
    epochs: int | None = None
    proxy_seconds: float | None = None

    def fields(self) -> dict[str, Any]:
        """The trial-record fields this score fills (a failure keeps the epochs it ran; a pruned training, stopped
        early by a multi-fidelity pruner, keeps its figures at the epoch it stopped and says why in ``error``)."""
        if self.state == "failed":
            return {"state": "failed", "error": self.error} | ({"epochs": self.epochs} if self.epochs is not None else {})
        return {name: value for name, value in dataclasses.asdict(self).items() if value is not None}


@dataclass(frozen=True)
class ProxyScorer:
    job: ProxyJob
    dataset: ImageDataset

    def score(self, net: Any, resolution: int, *, per_epoch_accuracy: bool = False,
              on_epoch: Callable[[EpochRecord], bool | None] | None = None) -> ProxyScore:
        """``net`` (a spec, or a module trained in place) scored at ``resolution``; ``on_epoch`` sees each epoch
        and may stop the training there by returning True (the score is then "pruned")."""
        if self.job.proxy == TRAINING_PROXY:
            return self._train(net, resolution, per_epoch_accuracy, on_epoch)
        return self._training_free(net, resolution)

    def _train(self, net: Any, resolution: int, per_epoch_accuracy: bool, on_epoch) -> ProxyScore:
        from evaluators.proxy import ProxySettings, TrainingFailure, train

        settings = ProxySettings(epochs=self.job.epochs, batch_size=self.job.batch_size, resolution=resolution,
                                 seed=self.job.seed, eval_each_epoch=per_epoch_accuracy, time_limit_s=self.job.time_limit_s,
                                 augment=self.job.augment, optimizer=self.job.optimizer)
        outcome = train(net, self.dataset, settings, device=self.job.device, on_epoch=on_epoch)
        if isinstance(outcome, TrainingFailure):
            return ProxyScore("failed", error=f"{outcome.reason}: {outcome.message}", epochs=outcome.epochs_run)
        if outcome.time_limited:
            return ProxyScore("failed", error=f"{TIME_LIMITED} after {outcome.epochs_run} of {self.job.epochs} epochs",
                              epochs=outcome.epochs_run)
        pruned = outcome.stopped_early
        return ProxyScore(
            "pruned" if pruned else "complete",
            error=f"{PRUNED} after {outcome.epochs_run} of {self.job.epochs} epochs" if pruned else None,
            accuracy=outcome.accuracy, train_loss=outcome.train_loss, val_loss=outcome.val_loss,
            train_seconds=outcome.train_seconds, images_per_second=outcome.images_per_second,
            peak_mem_mb=outcome.peak_memory_mb, regime=outcome.regime,
            optimizer=outcome.optimizer, epochs=outcome.epochs_run, proxy_seconds=outcome.seconds,
        )

    def _training_free(self, net: Any, resolution: int) -> ProxyScore:
        from evaluators.zero_cost import score

        started = time.perf_counter()
        try:
            value = score(net, self.job.proxy, self.dataset, seed=self.job.seed, device=self.job.device,
                          resolution=resolution)
        except (RuntimeError, ValueError) as error:
            return ProxyScore("failed", error=f"{self.job.proxy} failed: {type(error).__name__}: {error}")
        elapsed = round(time.perf_counter() - started, 3)
        return ProxyScore("complete", score=value, train_seconds=elapsed, proxy_seconds=elapsed)
