"""Find the net a user names in a run folder: a trial number or a baseline name, with its record."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from search.errors import UserError, shown
from search.run.records import TrialRecord
from search.run.rundir import RunDir

if TYPE_CHECKING:  # torch-free: an export's trial is found before torch is imported
    from searchspace import NetSpec


def run_table(rundir: RunDir) -> pd.DataFrame:
    """The run's trials.csv (one row per trial and per baseline)."""
    if not rundir.trials_csv.is_file():
        raise UserError(f"{rundir.path} has no trials.csv yet: the run has not finished a trial")
    try:
        table = pd.read_csv(rundir.trials_csv)
    except (ValueError, OSError) as error:  # pandas' parser errors and bad UTF-8 are ValueErrors
        raise UserError(f"{rundir.trials_csv} cannot be read: {' '.join(str(error).split())[:200]}") from None
    missing = [column for column in ("number", "baseline", "state", "spec") if column not in table.columns]
    if missing:
        raise UserError(f"{rundir.trials_csv} is not a trials table (no {', '.join(missing)} column)")
    return table


def find_record(rundir: RunDir, trial: str) -> TrialRecord:
    """The row of trial number ``trial``, or of the baseline named ``trial``."""
    table = run_table(rundir)
    if str(trial).strip().lstrip("-").isdigit() and len(str(trial)) < 20:  # int() of 5,000 digits would raise
        rows = table[table["number"] == int(trial)]
        what = f"trial {int(trial)}"
        known = ", ".join(str(int(n)) for n in table["number"].dropna())
    else:
        rows = table[table["baseline"] == trial]
        what = f"baseline {shown(trial)}"
        known = ", ".join(str(n) for n in table["baseline"].dropna())
    if rows.empty:
        raise UserError(f"--trial {shown(trial)}: {rundir.path} has no {what} (it has: {known or 'none'})")
    try:
        record = TrialRecord.of(rows.iloc[0].to_dict())
    except (TypeError, ValueError) as error:  # a hand-edited table: a number that is not one
        raise UserError(f"{rundir.trials_csv}: {what} cannot be read ({' '.join(str(error).split())[:200]})") from None
    if record.state == "failed" or not record.spec:
        reason = record.error or f"state {record.state}"
        raise UserError(f"--trial {shown(trial)}: {what} has no net to export ({record.state}: {reason})")
    return record


def record_spec(record: TrialRecord) -> NetSpec:
    from searchspace import decode

    return decode(record.spec)
