"""What a run leaves behind: the trial tables, the Pareto front (re-measured), and a summary.

At the end of a run every front member is timed again with a longer protocol
(more runs, fresh measurement, no cache).  A member whose re-measured median
exceeds the budget leaves the front with a note, and the front is recomputed
until every member holds: a delivered net must meet the budget it was
searched for.
"""

from __future__ import annotations

import logging
from typing import Any

import optuna

from search.run.config import RunConfig
from search.run.pareto import pareto_indices
from search.run.records import (
    annotate,
    annotations,
    objective_value,
    table,
    trial_record,
)
from search.run.rundir import RunDir, write_atomic
from searchspace import decode

log = logging.getLogger("search")

REMEASURE_MIN_TIME_S = 2.0
REMEASURE_MIN_RUNS = 30


def front_of(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Feasible trials that no other feasible trial beats on both quality and latency."""
    candidates = [
        r for r in records
        if r["state"] == "complete" and r.get("latency_ms") is not None and objective_value(r) is not None and not r.get("left_front")
    ]
    points = [(objective_value(r), r["latency_ms"]) for r in candidates]
    return [candidates[i] for i in pareto_indices(points)]


def remeasure_front(records: list[dict[str, Any]], config: RunConfig, study: optuna.Study) -> None:
    """Time the front again, longer; drop members that no longer meet the budget."""
    from evaluators.latency import measure

    checked: set[int] = set()
    while True:
        unchecked = [r for r in front_of(records) if r["number"] not in checked]
        if not unchecked:
            return
        for record in unchecked:
            checked.add(record["number"])
            result = measure(decode(record["spec"]), config.device, threads=config.threads, use_cache=False,
                             min_time_s=REMEASURE_MIN_TIME_S, min_runs=REMEASURE_MIN_RUNS)
            record["remeasured_latency_ms"] = result.median_ms
            if config.budget_ms is not None and result.median_ms > config.budget_ms:
                record["left_front"] = True
                record["error"] = f"re-measured at {result.median_ms:.2f} ms, over the {config.budget_ms:g} ms budget: left the front"
                log.warning("trial %d %s", record["number"], record["error"])
            annotate(study, record["number"], **{k: record[k] for k in ("remeasured_latency_ms", "left_front", "error") if k in record})


def finalize(study: optuna.Study, rundir: RunDir, config: RunConfig, outcome, *, remeasure: bool) -> None:
    """Recompute the front and rewrite every table (after each trial, and at the end)."""
    notes = annotations(study)
    records = [trial_record(t, notes) for t in study.get_trials(deepcopy=False)]
    if remeasure and config.budget_ms is not None:
        remeasure_front(records, config, study)
    front = front_of(records)
    on_front = {r["number"] for r in front}
    for record in records:
        record["pareto"] = record["number"] in on_front
    rows = records + [dict(b, number=None, pareto=False) for b in outcome.baselines]
    frame = table(rows)
    write_atomic(rundir.trials_csv, frame.to_csv(index=False))
    write_atomic(rundir.trials_parquet, _parquet_bytes(frame))
    write_atomic(rundir.pareto_csv, table(front).to_csv(index=False) if front else frame.iloc[0:0].to_csv(index=False))
    outcome.trials, outcome.front = records, front
    outcome.summary = summarize(front, outcome.baselines, config)


def _parquet_bytes(frame) -> bytes:
    import io

    buffer = io.BytesIO()
    _typed(frame).to_parquet(buffer, index=False)
    return buffer.getvalue()


def _typed(frame):
    """One type per column, as parquet needs: booleans, numbers, or else text.

    Knob columns mix types across block kinds (a kernel size here, ``None``
    there), so each object column gets the narrowest type that holds it.
    """
    import pandas as pd

    typed = frame.copy()
    for column in typed.columns:
        if typed[column].dtype != object:
            continue
        values = typed[column].dropna()
        if len(values) and values.map(lambda v: isinstance(v, bool)).all():
            typed[column] = typed[column].astype("boolean")
        elif len(values) and values.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)).all():
            typed[column] = pd.to_numeric(typed[column])
        else:
            typed[column] = typed[column].astype("string")
    return typed


def summarize(front: list[dict[str, Any]], baselines: list[dict[str, Any]], config: RunConfig) -> str:
    """The front, and for each baseline the best found net at least as good and how much faster."""
    name = config.objective_name
    lines = [f"Pareto front ({len(front)} nets, {name} up, latency on {config.device} down):"]
    for r in sorted(front, key=lambda r: r["latency_ms"]):
        latency = r.get("remeasured_latency_ms") or r["latency_ms"]
        lines.append(f"  #{r['number']:<4} {name} {objective_value(r):.4f}  {latency:8.2f} ms  "
                     f"{r['params'] / 1e6:6.2f}M params  {r['macs'] / 1e6:8.1f}M MACs  {r['spec']}")
    if baselines:
        lines.append("Against the known nets (same proxy, same latency protocol):")
    for b in baselines:
        value = objective_value(b)
        if value is None or b.get("latency_ms") is None:
            lines.append(f"  {b['baseline']}: not evaluated ({b.get('error') or b.get('state')})")
            continue
        better = [r for r in front if objective_value(r) >= value]
        head = f"  {b['baseline']:<16} {name} {value:.4f} at {b['latency_ms']:.2f} ms"
        if not better:
            lines.append(head + ": no found net is at least as good")
            continue
        best = min(better, key=lambda r: r.get("remeasured_latency_ms") or r["latency_ms"])
        latency = best.get("remeasured_latency_ms") or best["latency_ms"]
        lines.append(head + f": #{best['number']} has {objective_value(best):.4f} at {latency:.2f} ms ({b['latency_ms'] / latency:.2f}x faster)")
    return "\n".join(lines)
