"""The trial record: one row per evaluated net, the same for search trials and baselines.

An evaluation produces a flat dict of the :data:`COLUMNS` below.  Search trials
keep theirs in the optuna trial's user attributes (so the study database alone
holds everything), baselines in ``baselines.json``; ``trials.csv`` and
``trials.parquet`` are regenerated from those two sources.
"""

from __future__ import annotations

import math
from typing import Any

import optuna
import pandas as pd

RECORD_ATTR = "record"
# Finished trials are read-only in optuna; what the run learns about a trial
# afterwards (its re-measured latency, that it left the front, that it was
# queued again) is kept in the study's own attributes, keyed by trial number.
ANNOTATIONS_ATTR = "annotations"

# Our states; optuna's COMPLETE covers both "complete" and "infeasible" (its constraints say which).
STATES = ("complete", "infeasible", "failed", "pruned", "interrupted", "running", "waiting")

COLUMNS = (
    "number", "state", "baseline", "spec", "digest", "params", "macs", "resolution", "proxy_resolution",
    "latency_ms", "latency_spread_ms", "latency_runs", "latency_source", "accuracy", "train_loss", "score",
    "train_seconds", "images_per_second", "peak_mem_mb", "regime", "epochs", "violation", "pareto",
    "remeasured_latency_ms", "remeasured_spread_ms", "latency_contended", "left_front",
    "final_accuracy", "final_ci_low", "final_ci_high", "final_seeds", "final_epochs", "error", "duplicate_of", "seconds", "latency_seconds", "proxy_seconds", "started",
)


def empty_record() -> dict[str, Any]:
    return {column: None for column in COLUMNS}


def is_feasible(record: dict[str, Any]) -> bool:
    return record.get("state") == "complete"


def objective_value(record: dict[str, Any]) -> float | None:
    """The quality the search maximises: proxy accuracy, or the training-free score."""
    value = record.get("accuracy") if record.get("accuracy") is not None else record.get("score")
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def jsonable(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` as the study stores it: NaN becomes null and infinities the largest float JSON can hold."""
    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None if math.isnan(value) else math.copysign(1e300, value)
        return value

    return {k: clean(v) for k, v in record.items()}


def annotations(study: optuna.Study) -> dict[str, dict[str, Any]]:
    return dict(study.user_attrs.get(ANNOTATIONS_ATTR, {}))


def annotate(study: optuna.Study, number: int, **fields: Any) -> None:
    notes = annotations(study)
    notes[str(number)] = {**notes.get(str(number), {}), **fields}
    study.set_user_attr(ANNOTATIONS_ATTR, notes)


def trial_record(trial: optuna.trial.FrozenTrial, notes: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A trial's row: its stored record, later annotations, its number, and its state as the study knows it."""
    record = empty_record()
    record.update(trial.user_attrs.get(RECORD_ATTR, {}))
    record.update((notes or {}).get(str(trial.number), {}))
    record["number"] = trial.number
    if trial.state == optuna.trial.TrialState.RUNNING:
        record["state"] = "running"
    elif trial.state == optuna.trial.TrialState.WAITING:  # queued again after an interruption
        record["state"] = "waiting"
    elif record.get("state") is None:
        record["state"] = {
            optuna.trial.TrialState.FAIL: "failed",
            optuna.trial.TrialState.PRUNED: "pruned",
            optuna.trial.TrialState.COMPLETE: "complete",
        }.get(trial.state, "failed")
    for name, value in trial.params.items():
        record[f"param_{name}"] = value
    return record


def table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows in a stable column order: the fixed columns, then the space's knobs."""
    frame = pd.DataFrame.from_records(records)
    for column in COLUMNS:
        if column not in frame:
            frame[column] = None
    knobs = sorted(c for c in frame.columns if c.startswith("param_"))
    frame = frame[list(COLUMNS) + knobs]
    frame["pareto"] = frame["pareto"].fillna(False).astype(bool)
    return frame
