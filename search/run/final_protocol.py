"""The final protocol: the front and the known nets trained again, longer, with several seeds.

A proxy score is one short training with one seed: good enough to rank
candidates, not to tell a user that one net is more accurate than another.
At the end of a run every front member and the known nets it is compared
with (:func:`known_to_compare`: the known nets' own Pareto front) are trained
again with ``--final-seeds`` seeds (default 3) for :data:`FINAL_LENGTH_FACTOR`
times the proxy's training length, at the proxy's resolution.  Each net gets the mean accuracy over its seeds and a 95%
t-interval (:func:`mean_ci95`); the comparison (:mod:`search.run.comparison`)
speaks only where the intervals allow.

The trained weights of the seed closest to the mean are kept in
``<run>/final/<label>.pt``: that is what ``search export`` writes, so the
exported net is the net that was scored.  Known nets' final results are
cached across runs like their proxy results.

Its cost is bounded by the time limit.  Front members and known nets take turns
(members in front order, known nets cheapest first): with members first, two
measured default runs spent the whole final share on members and never trained
a known net, so no comparison ever had intervals on both sides.  A net is
trained with as many of the seeds as its estimated training time (its proxy
time x the length factor, per seed) fits before the deadline, first seeds
first: on a busy machine one longer training still gives the export trained
weights and a figure from more steps than the proxy's, though no interval, so
the comparison makes no claim from it.  A net not even one seed fits is
skipped, and the run says which.
"""

from __future__ import annotations

import io
import logging
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from search.run.config import RunConfig
from search.run.final_front import Note
from search.run.records import TrialRecord
from search.run.rundir import RunDir, write_atomic
from searchspace import decode, encode
from searchspace.scaling import at_resolution

log = logging.getLogger("search")

# The final training's length, in multiples of the proxy's: the one knob of the protocol's cost,
# which is this factor x the seeds x each net's proxy time.  The issue asks for a recipe longer than
# the proxy's; 2 gives 8 epochs at batch 32 on digits (352 steps, 11k images, close to the 14k of
# benchmarks/proxy_fidelity.py's 10-epoch reference; the four known nets still under 0.90 after the
# proxy's 4 epochs reach 0.88-0.98 there).  At 4, one measured default run (12-minute limit, 2 cores)
# had time in its final share for one known net only: 12 proxy times per net.
FINAL_LENGTH_FACTOR = 2
FINAL_FOLDER = "final"
FINAL_FIELDS = ("final_accuracy", "final_ci_low", "final_ci_high", "final_seeds", "final_epochs")


def final_training_length(config: RunConfig) -> dict[str, int | bool | str]:
    """The final recipe's length, augmentation and optimizer, derived from the run's proxy settings (the one place
    that does it)."""
    return {"epochs": config.proxy_epochs * FINAL_LENGTH_FACTOR, "batch_size": config.proxy_batch_size,
            "augment": config.proxy_augment, "optimizer": config.proxy_optimizer}


def known_to_compare(baselines: list[TrialRecord]) -> tuple[list[TrialRecord], dict[str, str]]:
    """The known nets worth the final protocol, and why each other one is left out.

    A known net beaten on both the proxy's score and latency by another known net adds nothing to
    the comparison: whatever a found net can say against it, it can say against the better one.
    So only the known nets' own Pareto front (proxy score up, latency down) is trained again.
    """
    from search.run.final_front import final_latency
    from search.run.pareto import pareto_indices

    scored = [b for b in baselines if b.objective is not None and final_latency(b) is not None]
    front = [scored[i] for i in pareto_indices([(b.objective, final_latency(b)) for b in scored])]
    reasons = {}
    for record in scored:
        if any(record is member for member in front):
            continue
        better = min((m for m in front if m.objective >= record.objective and final_latency(m) <= final_latency(record)),
                     key=final_latency)  # the fastest of those that beat it: the plainest reason
        reasons[record.baseline] = (f"not trained again: {better.baseline} scores at least as high and is as fast "
                                    "under the proxy")
    return front, reasons


def alternate(first: list, second: list) -> list:
    """first[0], second[0], first[1], second[1], ... and then the rest of the longer list."""
    turns = [item for pair in zip(first, second) for item in pair]
    shorter = min(len(first), len(second))
    return turns + first[shorter:] + second[shorter:]


def final_seeds(config: RunConfig) -> list[int]:
    return [config.seed + i for i in range(config.final_seeds)]


def mean_ci95(values: list[float]) -> tuple[float, float | None, float | None]:
    """Mean and its two-sided 95% Student-t interval (no interval from one value)."""
    from scipy import stats

    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, None, None
    half = stats.t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return mean, max(0.0, mean - half), min(1.0, mean + half)


@dataclass(frozen=True)
class SeedRun:
    seed: int
    accuracy: float
    state_dict: dict[str, torch.Tensor]


def train_seeds(spec, record: TrialRecord, config: RunConfig, dataset, train_device: str,
                seeds: list[int] | None = None) -> list[SeedRun] | str:
    """One training per seed (None: the run's final seeds) at the record's proxy resolution; a failure message if
    any seed fails."""
    from evaluators.proxy import ProxySettings, TrainingFailure, train
    from evaluators.proxy.recipe import zero_init_residual_branches
    from searchspace import build

    resolution = int(record.proxy_resolution)
    trained_spec = at_resolution(spec, resolution)  # the proxy's rule
    runs = []
    for seed in final_seeds(config) if seeds is None else seeds:
        torch.manual_seed(seed)
        model = build(trained_spec)
        settings = ProxySettings(**final_training_length(config), resolution=resolution, seed=seed)
        # train() zero-initialises residual branches only for a spec it builds itself, never for a module
        # it is given; the weights are kept here, so the proxy's start is applied here, or the final
        # protocol would train another recipe than the one that ranked the nets.
        if settings.zero_init_residual:
            zero_init_residual_branches(model)
        outcome = train(model, dataset, settings, device=train_device)
        if isinstance(outcome, TrainingFailure):
            return f"final training failed with seed {seed}: {outcome.reason}: {outcome.message}"
        runs.append(SeedRun(seed, outcome.accuracy, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}))
    return runs


def weights_path(rundir: RunDir, label: str) -> Path:
    return rundir.path / FINAL_FOLDER / f"{label}.pt"


def label_of(record: TrialRecord) -> str:
    return str(record.baseline) if record.baseline else f"trial{int(record.number)}"


def save_weights(rundir: RunDir, record: TrialRecord, runs: list[SeedRun], config: RunConfig) -> None:
    """The run whose accuracy is closest to the mean: the weights an export delivers."""
    mean = statistics.fmean(run.accuracy for run in runs)
    chosen = min(runs, key=lambda run: abs(run.accuracy - mean))
    spec = at_resolution(decode(record.spec), int(record.proxy_resolution))
    payload = {"state_dict": chosen.state_dict, "spec_string": encode(spec), "seed": chosen.seed,
               "accuracy": chosen.accuracy, "mean_accuracy": mean, **final_training_length(config)}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    write_atomic(weights_path(rundir, label_of(record)), buffer.getvalue())


def result_fields(runs: list[SeedRun], config: RunConfig) -> dict[str, Any]:
    mean, low, high = mean_ci95([run.accuracy for run in runs])
    return {"final_accuracy": mean, "final_ci_low": low, "final_ci_high": high, "final_seeds": len(runs),
            "final_epochs": final_training_length(config)["epochs"]}


@dataclass
class FinalProtocol:
    """Runs the protocol over the front and the known nets, within a deadline."""

    config: RunConfig
    dataset: Any
    train_device: str
    rundir: RunDir
    deadline: float

    def run(self, front: list[TrialRecord], baselines: list[TrialRecord], note: Note) -> list[str]:
        """Fill in the final figures; return the labels the deadline left out."""
        from search.run.baseline_cache import BaselineCache

        cache, skipped = BaselineCache(), []
        # A warm-start copy on the front is its known net (same digest): one training serves both.
        trained: dict[str, TrialRecord] = {}
        for record in alternate(front, sorted(baselines, key=self._estimate_s)):
            key = self._cache_key(record) if record.baseline else None
            twin = trained.get(str(record.digest))
            cached = cache.get(key) if key else None
            if cached is not None:
                record.update(**cached)
                continue
            if twin is not None and record.final_accuracy is None:
                self._take_from(twin, record, note)
                continue
            if record.final_accuracy is not None:  # trained by this run before it was resumed
                trained.setdefault(str(record.digest), record)
                continue
            seeds = self._seeds_that_fit(record)
            if not seeds:
                skipped.append(label_of(record))
                continue
            self._train(record, note, seeds)
            if record.final_accuracy is not None:
                trained[str(record.digest)] = record
                if key and len(seeds) == self.config.final_seeds:  # the cache answers for the run's full seeds only
                    cache.put(key, {k: getattr(record, k) for k in FINAL_FIELDS})
        return skipped

    def _take_from(self, twin: TrialRecord, record: TrialRecord, note: Note) -> None:
        """The figures and weights of the same net, trained under another label in this run."""
        fields = {k: getattr(twin, k) for k in FINAL_FIELDS}
        record.update(**fields)
        source = weights_path(self.rundir, label_of(twin))
        if source.exists():
            write_atomic(weights_path(self.rundir, label_of(record)), source.read_bytes())
        if record.number is not None:
            note(int(record.number), fields)

    def _train(self, record: TrialRecord, note: Note, seeds: list[int]) -> None:
        full = self.config.final_seeds
        log.info("final protocol: training %s with %d seeds%s", label_of(record), len(seeds),
                 "" if len(seeds) == full else f" (only {len(seeds)} of {full} fit before the deadline)")
        runs = train_seeds(decode(record.spec), record, self.config, self.dataset, self.train_device, seeds)
        if isinstance(runs, str):
            fields = {"left_front": runs} if record.number is not None else {"error": runs}
        else:
            save_weights(self.rundir, record, runs, self.config)
            fields = result_fields(runs, self.config)
        record.update(**fields)
        if record.number is not None:
            note(int(record.number), fields)

    def _seeds_that_fit(self, record: TrialRecord) -> list[int]:
        """The first of the run's final seeds, as many as fit before the deadline at the record's estimated pace."""
        seeds = final_seeds(self.config)
        per_seed_s = self._estimate_s(record) / len(seeds)
        if per_seed_s <= 0.0:  # no proxy time to go by: the full protocol, as before any estimate
            return seeds
        return seeds[: max(0, int((self.deadline - time.monotonic()) // per_seed_s))]

    def _estimate_s(self, record: TrialRecord) -> float:
        proxy_s = record.proxy_seconds or record.train_seconds or 0.0
        return float(proxy_s) * FINAL_LENGTH_FACTOR * self.config.final_seeds

    def _cache_key(self, record: TrialRecord) -> dict[str, Any]:
        from search.run.baseline_cache import cache_key

        return cache_key(record.digest, self.config, "final", seeds=final_seeds(self.config),
                         length=final_training_length(self.config))
