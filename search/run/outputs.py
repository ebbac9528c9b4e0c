"""What a run leaves behind: the trial tables, the Pareto front (chosen on final figures), and a summary.

At the end of a run the front is re-measured and chosen again
(:mod:`search.run.final_front`): a delivered net must meet the budget it was
searched for and must not be beaten by another delivered net.  ``pareto.csv``
lists the members first, then the nets that left the front with their
``left_front`` reason.
"""

from __future__ import annotations

import logging

import optuna

from search.run.config import RunConfig
from search.run.final_front import delivered_front, final_latency
from search.run.records import TrialRecord, csv_text, parquet_bytes, study_records, table
from search.run.rundir import RunDir, write_atomic

log = logging.getLogger("search")


def finalize(study: optuna.Study, rundir: RunDir, config: RunConfig, outcome) -> None:
    """Recompute the front and rewrite every table (after each trial; the end of a run is :mod:`search.run.closing`)."""
    write_tables(rundir, study_records(study), outcome, config)


def write_tables(rundir: RunDir, records: list[TrialRecord], outcome, config: RunConfig) -> None:
    """trials.csv/parquet and pareto.csv from ``records``; the front and the summary into ``outcome``."""
    front = delivered_front(records)
    on_front = {r.number for r in front}
    for record in records:
        record.pareto = record.number in on_front
    rows = records + [b.but(number=None, pareto=False) for b in outcome.baselines]
    frame = table(rows)
    write_atomic(rundir.trials_csv, csv_text(frame))
    write_atomic(rundir.trials_parquet, parquet_bytes(frame))
    left = [r for r in records if r.left_front]
    delivered = sorted(front, key=final_latency) + left
    write_atomic(rundir.pareto_csv, csv_text(table(delivered) if delivered else frame.iloc[0:0]))
    outcome.trials, outcome.front = records, front
    pruned = sum(r.state == "pruned" and r.duplicate_of is None for r in records)
    outcome.summary = summarize(front, outcome.baselines, config, left=left, pruned=pruned)


def summarize(front: list[TrialRecord], baselines: list[TrialRecord], config: RunConfig,
              left: list[TrialRecord] = (), pruned: int = 0) -> str:
    """The delivered front with its final figures, the nets that left it and why, how many trainings a pruner
    stopped early, and the comparison."""
    from search.run.comparison import Figures, compare

    name = config.objective_name
    # Once the final protocol has trained the front, the delivered front is chosen on its accuracies (final_front).
    up = "final accuracy" if any(r.final_accuracy is not None for r in front) else name
    nets = "1 net" if len(front) == 1 else f"{len(front)} nets"
    lines = [f"Pareto front ({nets}, {up} up, latency on {config.device} down):"]
    for r in sorted(front, key=final_latency):
        figures = Figures.of(r)
        flag = "  (machine busy while re-measuring)" if r.latency_contended else ""
        # A warm-start trial is a known net itself; unnamed, it would read as a net the search found.
        flag += f"  (= known net {r.warm_start}, started from)" if r.warm_start else ""
        lines.append(f"  #{r.number:<4} {figures.label(name)} {figures.accuracy_text()}  {figures.latency_text()}  "
                     f"{r.params / 1e6:6.2f}M params  {r.macs / 1e6:8.1f}M MACs  {r.spec}{flag}")
    if left:
        lines.append("Left the front:")
        lines += [f"  #{r.number:<4} {r.left_front}" for r in left]
    if pruned:
        by = f"--pruner {config.pruner}" if config.pruner != "none" else f"--scheduler {config.scheduler}"
        lines.append(f"Pruned: {pruned} training(s) stopped early by {by} (never on the front; see trials.csv)")
    if baselines:
        recipe = "final protocol where trained, else the proxy" if config.final_seeds else "same proxy"
        lines.append(f"Against the known nets ({recipe}; same latency protocol; 95% intervals):")
    lines += [compare(front, b) for b in sorted(baselines, key=lambda b: b.latency_ms or float("inf"))]
    return "\n".join(lines)
