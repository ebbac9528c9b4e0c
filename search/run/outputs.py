"""What a run leaves behind: the trial tables, the Pareto front (chosen on final figures), and a summary.

At the end of a run the front is re-measured and chosen again
(:mod:`search.run.final_front`): a delivered net must meet the budget it was
searched for and must not be beaten by another delivered net.  ``pareto.csv``
lists the members first, then the nets that left the front with their
``left_front`` reason.
"""

from __future__ import annotations

import logging
from typing import Any

import optuna

from search.run.config import RunConfig
from search.run.final_front import delivered_front, final_latency
from search.run.records import (
    annotations,
    table,
    trial_record,
)
from search.run.rundir import RunDir, write_atomic

log = logging.getLogger("search")


def finalize(study: optuna.Study, rundir: RunDir, config: RunConfig, outcome) -> None:
    """Recompute the front and rewrite every table (after each trial; the end of a run is :mod:`search.run.closing`)."""
    notes = annotations(study)
    write_tables(rundir, [trial_record(t, notes) for t in study.get_trials(deepcopy=False)], outcome, config)


def write_tables(rundir: RunDir, records: list[dict[str, Any]], outcome, config: RunConfig) -> None:
    """trials.csv/parquet and pareto.csv from ``records``; the front and the summary into ``outcome``."""
    front = delivered_front(records)
    on_front = {r["number"] for r in front}
    for record in records:
        record["pareto"] = record["number"] in on_front
    rows = records + [dict(b, number=None, pareto=False) for b in outcome.baselines]
    frame = table(rows)
    write_atomic(rundir.trials_csv, frame.to_csv(index=False))
    write_atomic(rundir.trials_parquet, _parquet_bytes(frame))
    left = [r for r in records if r.get("left_front")]
    delivered = sorted(front, key=final_latency) + left
    write_atomic(rundir.pareto_csv, table(delivered).to_csv(index=False) if delivered else frame.iloc[0:0].to_csv(index=False))
    outcome.trials, outcome.front = records, front
    outcome.summary = summarize(front, outcome.baselines, config, left=left)


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


def summarize(front: list[dict[str, Any]], baselines: list[dict[str, Any]], config: RunConfig,
              left: list[dict[str, Any]] = ()) -> str:
    """The delivered front with its final figures, the nets that left it and why, and the comparison."""
    from search.run.comparison import Figures, compare

    name = config.objective_name
    lines = [f"Pareto front ({len(front)} nets, {name} up, latency on {config.device} down):"]
    for r in sorted(front, key=final_latency):
        figures = Figures.of(r)
        flag = "  (machine busy while re-measuring)" if r.get("latency_contended") else ""
        lines.append(f"  #{r['number']:<4} {name} {figures.accuracy_text()}  {figures.latency_text()}  "
                     f"{r['params'] / 1e6:6.2f}M params  {r['macs'] / 1e6:8.1f}M MACs  {r['spec']}{flag}")
    if left:
        lines.append("Left the front:")
        lines += [f"  #{r['number']:<4} {r['left_front']}" for r in left]
    if baselines:
        recipe = "final protocol where trained, else the proxy" if config.final_seeds else "same proxy"
        lines.append(f"Against the known nets ({recipe}; same latency protocol; 95% intervals):")
    lines += [compare(front, b) for b in sorted(baselines, key=lambda b: b.get("latency_ms") or float("inf"))]
    return "\n".join(lines)
