"""Known nets evaluated exactly like the candidates, so every run has its yardstick.

Which known nets: every zoo net of the space's families, at the run's
deployment resolution with the dataset's channels and classes, whose latency
fits the budget (nets over it are measured, found not to fit, and not
trained).  The space's families are those of the nets it declares as its
points, plus every zoo net whose body uses only block kinds the space can
sample (so the unified space, which samples every common kind, is compared
with MnasNet, ShuffleNetV2, MobileNetV3 ... too).  ``--baseline NAME`` limits
the comparison to the nets named (trained even when over the budget: how
accurate the over-budget ResNet-18 is, is part of the answer);
``--baseline +NAME`` adds a net to the automatic set.  Without a budget the
space's declared nets are used.

Results are cached across runs (:mod:`search.run.baseline_cache`) and kept in
the run's ``baselines.json``, so neither a second run nor a resumed one pays
for them again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from evaluators.cost import cost
from search.run.baseline_cache import BaselineCache, cache_key, rebudgeted
from search.run.evaluate import CandidateEvaluator, adapt_to_run
from search.run.phases import names_text
from search.run.proxy_score import TIME_LIMITED
from search.run.records import TrialRecord
from search.run.rundir import RunDir, write_atomic
from search.run.scores import with_quality
from searchspace import NetSpec, SpecError, zoo

log = logging.getLogger("search")

# A net is not even probed when its MACs would need more than this many times the best
# MAC throughput measured so far to fit the budget: the giants of the zoo (RegNetY-128GF)
# would cost seconds per forward pass just to learn that they do not fit.  The margin covers
# how far MAC throughput differs between designs on one CPU: on the 2-core test machine
# (results/benchmarks/proxy_fidelity_digits_nets.json) MobileNetV2 ran 10 MMAC/ms and
# ResNet-18 41, so with a margin of 2 learnt on mobile nets, ResNet-18 (44 ms) was wrongly
# ruled out of a 50 ms budget.
THROUGHPUT_MARGIN = 6.0


@dataclass(frozen=True)
class BaselineChoice:
    names: tuple[str, ...]  # in the order to evaluate them
    required: frozenset[str]  # named by the user: evaluated and trained even when over the budget


def choose_baselines(config, space) -> BaselineChoice:
    added = tuple(n[1:] for n in config.baseline_names if n.startswith("+"))
    limited = tuple(n for n in config.baseline_names if not n.startswith("+"))
    if limited:
        return BaselineChoice(limited + added, frozenset(limited + added))
    automatic = list(space.baselines)
    if config.budget_ms is not None:
        automatic += [n for n in _family_nets(space) if n not in automatic]
    return BaselineChoice(tuple(dict.fromkeys(added + tuple(automatic))), frozenset(added))


def _family_nets(space) -> list[str]:
    """Zoo nets of the space's families, in rounds: each family's smallest net not yet taken, per round.

    Smallest first because small nets are the likeliest to fit and the cheapest to train; one
    family per turn because a time limit that cuts the phase short should leave out the fourth
    MnasNet width, not the whole of RegNet.
    """
    families = {zoo.info(name).family for name in space.baselines}
    kinds = {value for knob in space.knobs() if knob.name.endswith((".block", ".kind")) for value in (knob.values or ())}
    by_family: dict[str, list[tuple[int, str]]] = {}
    for name in zoo.names():
        spec = zoo.get(name)
        body = _body_kinds(spec)
        if zoo.info(name).family in families or (kinds and body <= kinds):
            by_family.setdefault(zoo.info(name).family, []).append((cost(spec).macs, name))
    return interleave_families(by_family)


def interleave_families(by_family: dict[str, list[tuple[int, str]]]) -> list[str]:
    """Round r holds each family's r-th smallest net; within a round, smallest first."""
    ordered = {family: sorted(nets) for family, nets in by_family.items()}
    rounds = max((len(nets) for nets in ordered.values()), default=0)
    return [name for r in range(rounds) for _, name in sorted(nets[r] for nets in ordered.values() if r < len(nets))]


class BaselineRunner:
    """Evaluates the chosen known nets, from the cross-run cache where it can."""

    def __init__(self, evaluator: CandidateEvaluator, rundir: RunDir, cache: BaselineCache | None = None) -> None:
        self.evaluator = evaluator
        self.config = evaluator.config
        self.rundir = rundir
        self.cache = cache or BaselineCache()
        self.best_throughput = 0.0  # MACs per ms, the fastest seen: bounds what a net can reach
        # Per lineage (family and body block kinds), the fewest MACs of a net timed over the budget.
        self.slowest_macs: dict[tuple[str, frozenset[str]], int] = {}

    def run(self, choice: BaselineChoice, stop: Callable[[], bool], on_done=None) -> tuple[list[TrialRecord], list[str]]:
        """The baselines' records, and the names ``stop`` left unevaluated."""
        stored = _load(self.rundir)
        records, skipped = [], []
        for name in choice.names:
            spec = self._spec(name)
            if spec is None:
                continue
            run_key = f"{name}:{spec.digest()}"
            record = stored.get(run_key) or self._cached(spec)
            if record is None:
                required = name in choice.required
                macs = cost(spec).macs
                if not required and (self._cannot_fit(name, macs) or self._larger_than_a_slow_sibling(name, spec, macs)):
                    continue
                if stop():
                    skipped.append(name)
                    continue
                record = self._evaluate(name, spec, required)
                if record.state == "failed" and (record.error or "").startswith(TIME_LIMITED):
                    skipped.append(name)  # cut short by the phase's deadline: not a result, not cached
                    continue
            record = rebudgeted(record, self.config).but(baseline=name)
            self._learn_throughput(record)
            self._learn_over_budget(name, spec, record)
            if record.state != "complete" and name not in choice.required:
                log.info("known net %s does not fit: %s", name, record.error)
                continue
            stored[run_key] = record
            _write(self.rundir, stored)
            records.append(record)
            if on_done is not None:
                on_done(record)
        return records, skipped

    def _spec(self, name: str) -> NetSpec | None:
        try:
            return adapt_to_run(zoo.get(name, resolution=self.config.resolution), self.evaluator.dataset)
        except SpecError as error:
            log.warning("baseline %s cannot be used at this resolution: %s", name, error)
            return None

    def _cached(self, spec: NetSpec) -> TrialRecord | None:
        fields = self.cache.get(cache_key(spec.digest(), self.config, "proxy"))
        if fields is None:
            return None
        record = with_quality(TrialRecord.of(fields), self.config.proxy_score)  # the caching run's score may differ
        judged = rebudgeted(record, self.config)
        # Cached as too slow to train, but this run's budget lets it in: it must be trained now.
        return None if judged.state == "infeasible" and judged.error == "not trained" else record

    def _cannot_fit(self, name: str, macs: int) -> bool:
        """Over the budget by its MACs alone.  Checked before the time limit, since it costs nothing:
        a net ruled out this way is not one the time limit left unchecked."""
        budget = self.config.budget_ms
        if budget is None or not self.best_throughput:
            return False
        needs_ms = macs / (THROUGHPUT_MARGIN * self.best_throughput)
        if needs_ms > budget:  # not cached: a cheap bound is all this decision is worth
            log.info("known net %s does not fit: needs at least %.0f ms by its MACs", name, needs_ms)
        return needs_ms > budget

    def _larger_than_a_slow_sibling(self, name: str, spec: NetSpec, macs: int) -> bool:
        """At least as many MACs as a net of its lineage already timed over the budget.

        A lineage is a family with one set of block kinds (ResNet-50 and its
        attention variants; not ResNet-18, whose blocks differ), within which
        more MACs never ran faster on the CPUs measured: this is what keeps a
        busy run from timing a dozen ResNet-50 variants after ResNet-50 itself
        was over.  MACs, not names, so MobileNetV2 is still timed after a
        slower-per-MAC MobileNetV3 of fewer MACs was found over.
        """
        over = self.slowest_macs.get(_lineage(name, spec))
        if over is None or macs < over:
            return False
        log.info("known net %s does not fit: a net of its lineage with fewer MACs is over the budget", name)
        return True

    def _learn_over_budget(self, name: str, spec: NetSpec, record: TrialRecord) -> None:
        timed = record.latency_source in ("measured", "cached", "probe")
        if timed and self.config.budget_ms is not None and (record.latency_ms or 0.0) > self.config.budget_ms and record.macs:
            lineage = _lineage(name, spec)
            self.slowest_macs[lineage] = min(self.slowest_macs.get(lineage, record.macs), record.macs)

    def _provisional(self, record: TrialRecord) -> bool:
        """Over the budget on evidence another run should not inherit: a timing the machine was
        still slowed during, or the quick probe's few uncalibrated passes taken while other
        processes wanted the machine.  Kept for this run, taken again by the next, which may find
        the machine quiet (a busy run once left out seven known nets that fit, MobileNetV2 and
        EfficientNet-B0 among them).  A probe on a quiet machine is cached: otherwise every run
        would time the zoo's giants again."""
        from search.run.phases import machine_busy, threads_of_run

        budget = self.config.budget_ms
        if budget is None or (record.latency_ms or 0.0) <= budget:
            return False
        probed_while_busy = record.latency_source == "probe" and machine_busy(threads_of_run(self.config))
        return bool(record.latency_contended) or probed_while_busy

    def _evaluate(self, name: str, spec: NetSpec, required: bool) -> TrialRecord:
        log.info("evaluating baseline %s", name)
        record = self.evaluator.evaluate(spec, train_when_infeasible=required)
        if record.state == "complete" or (record.state == "infeasible" and not self._provisional(record)):
            self.cache.put(cache_key(spec.digest(), self.config, "proxy"), record.stored())
        return record

    def _learn_throughput(self, record: TrialRecord) -> None:
        # A probe's latency is its fastest run, a lower bound: the throughput it implies is an upper bound, safe here.
        if record.latency_source in ("measured", "cached", "probe") and record.latency_ms and record.macs:
            self.best_throughput = max(self.best_throughput, record.macs / record.latency_ms)


def _body_kinds(spec: NetSpec) -> frozenset[str]:
    from searchspace.registry import kind_of

    return frozenset(kind_of(stage.block).name for stage in spec.stages)


def _lineage(name: str, spec: NetSpec) -> tuple[str, frozenset[str]]:
    return zoo.info(name).family, _body_kinds(spec)


def evaluate_baselines(space, evaluator: CandidateEvaluator, rundir: RunDir, clock) -> list[TrialRecord]:
    """The baseline phase: the chosen known nets, stopped at the phase's share of the time limit plus its allowance."""
    choice = choose_baselines(evaluator.config, space)
    deadline = clock.deadline("baselines")
    with clock.phase("baselines") as phase:
        with evaluator.trainings_end_by(deadline):
            records, skipped = BaselineRunner(evaluator, rundir).run(choice, stop=lambda: time.monotonic() > deadline)
        if skipped:
            phase.limited = f"{len(skipped)} known nets not checked ({names_text(skipped)})"
            log.warning("baselines: the time limit left out %s", ", ".join(skipped))
    clock.grant(phase.seconds)
    return records


def store_baselines(rundir: RunDir, records: list[TrialRecord]) -> None:
    """Rewrite ``baselines.json`` with what the run learned since (the final protocol's results)."""
    stored = _load(rundir)
    for record in records:
        stored[f"{record.baseline}:{record.digest}"] = record
    _write(rundir, stored)


def _write(rundir: RunDir, stored: dict[str, TrialRecord]) -> None:
    records = {key: record.stored() for key, record in stored.items()}
    write_atomic(rundir.baselines_file, json.dumps(records, indent=2, default=str) + "\n")


def _load(rundir: RunDir) -> dict[str, TrialRecord]:
    if not rundir.baselines_file.is_file():
        return {}
    try:
        return {key: TrialRecord.of(fields) for key, fields in json.loads(rundir.baselines_file.read_text()).items()}
    except json.JSONDecodeError:
        log.warning("%s is unreadable; baselines will be evaluated again", rundir.baselines_file)
        return {}
