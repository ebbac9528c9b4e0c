"""A run folder read back as tables: search trials, baselines, the front, the configuration."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from search.errors import UserError
from search.run.config import RunConfig
from search.run.records import OBJECTIVE_FIELDS, TrialRecord
from search.run.rundir import RunDir
from search.report.tables import PARETO_COLUMNS, TRIALS_COLUMNS, read_table


@dataclass
class RunData:
    rundir: RunDir
    config: RunConfig
    run_file: dict[str, Any]
    trials: pd.DataFrame  # search trials only, by trial number
    baselines: pd.DataFrame
    front: pd.DataFrame  # the delivered Pareto front (pareto.csv's members)
    left: pd.DataFrame = field(default_factory=pd.DataFrame)  # pareto.csv's nets that left the front, with why
    notes: list[str] = field(default_factory=list)

    @property
    def objective(self) -> str:
        return self.config.objective_name

    @property
    def knobs(self) -> list[str]:
        return [c for c in self.trials.columns if c.startswith("param_")]


def load_run(run_dir: str | Path) -> RunData:
    """Read ``run.json``, ``trials.csv`` and ``pareto.csv`` of a run folder."""
    path = Path(run_dir)
    if not path.exists():
        raise UserError(f"no run folder at {path}")
    rundir = RunDir.at(str(path))
    run_file = rundir.read_run_file()
    config = rundir.read_config()
    if not rundir.trials_csv.is_file():
        raise UserError(f"{path} has no trials.csv yet: the run has not finished a trial")
    # A damaged file stops the report here, before anything is written; a header alone is a run in which no
    # trial finished (the time limit came first), and its page says why.
    table = read_table(rundir.trials_csv, TRIALS_COLUMNS)
    table["objective"] = quality_column(table)
    is_baseline = table["baseline"].notna()
    trials = table[~is_baseline].copy()
    trials["number"] = whole_numbers(trials["number"], rundir.trials_csv)
    trials = trials.sort_values("number").reset_index(drop=True)
    listed = read_table(rundir.pareto_csv, PARETO_COLUMNS) if _has_rows(rundir.pareto_csv) else trials.iloc[0:0].copy()
    listed["objective"] = quality_column(listed)
    listed["number"] = whole_numbers(listed["number"], rundir.pareto_csv)
    members = listed["pareto"].fillna(False).astype(bool) if "pareto" in listed else pd.Series(True, index=listed.index)
    front = listed[members].sort_values("latency_ms").reset_index(drop=True)
    left = listed[~members].reset_index(drop=True)
    return RunData(rundir, config, run_file, trials, table[is_baseline].reset_index(drop=True), front, left)


def whole_numbers(numbers: pd.Series, path: Path) -> pd.Series:
    """Search trials' numbers as integers: each one names a trial (in the study, for export)."""
    if numbers.isna().any() or (numbers % 1 != 0).any():
        raise UserError(f"{path} is damaged: a search trial (no baseline name) has no whole trial number")
    return numbers.astype(int)


def _has_rows(path: Path) -> bool:
    """pareto.csv is written empty when no net was feasible: that is a run with no front, not damage."""
    return path.is_file() and path.stat().st_size > 0


def quality_column(table: pd.DataFrame) -> pd.Series:
    """The objective the search maximised, per row (:attr:`TrialRecord.objective`, the one place its order is kept)."""
    scored = table[[column for column in OBJECTIVE_FIELDS if column in table]].to_dict("records")
    objectives = [TrialRecord.of(row).objective for row in scored]
    return pd.Series([float("nan") if value is None else value for value in objectives], index=table.index, dtype=float)


def records(table: pd.DataFrame) -> list[TrialRecord]:
    """Rows as trial records (the form ``search.run`` code reads)."""
    return [TrialRecord.of(row) for row in table.to_dict("records")]


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)
