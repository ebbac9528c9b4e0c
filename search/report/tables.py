"""A run's CSV tables read back, or one sentence saying what is wrong with the file.

A run folder gets copied half-way, cut off by a full disk or edited by hand.  The
report must then name the file and the fault (a :class:`UserError`: one line on
stderr, exit 2) before it writes anything, never show a pandas traceback or
draw a page from half a table.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from search.errors import UserError, shown

# Columns the report computes with: a value that is there must be a number.
NUMERIC = ("number", "params", "macs", "latency_ms", "accuracy", "quality", "val_loss", "score",
           "remeasured_latency_ms", "remeasured_spread_ms", "latency_spread_ms",
           "final_accuracy", "final_ci_low", "final_ci_high", "final_seeds")
TRIALS_COLUMNS = ("number", "state", "baseline", "spec", "params", "macs", "latency_ms", "accuracy", "score")
PARETO_COLUMNS = ("number", "state", "spec", "params", "macs", "latency_ms", "accuracy", "score")


def read_table(path: Path, required: Sequence[str]) -> pd.DataFrame:
    """``path`` as a DataFrame whose ``required`` columns exist and whose numeric columns hold numbers.

    A header without rows is a table with no rows: the run writes one when nothing finished.
    """
    text = _text(path)
    header = _check_rows(path, text)
    missing = [column for column in required if column not in header]
    if missing:
        raise UserError(f"{path} is damaged: it lacks the column(s) {', '.join(missing)}")
    try:
        table = pd.read_csv(io.StringIO(text), dtype={"spec": str, "state": str, "baseline": str})
    except (ValueError, pd.errors.ParserError) as error:  # the rows were checked above; this is a last guard
        raise UserError(f"{path} is damaged: {' '.join(str(error).split())[:160]}") from None
    table = table.assign(**{column: _numbers(path, table, column) for column in NUMERIC if column in table.columns})
    if "state" in table.columns and table["state"].isna().any():
        raise UserError(f"{path} is damaged: row {_row(table['state'].isna())} has no state")
    return table.copy()  # one block per dtype: an empty table is read as one block per column, which pandas warns about


def _text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UserError(f"{path} cannot be read: {error.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"{path} is damaged: byte {error.start} is not UTF-8 text") from None
    if "\x00" in text:
        raise UserError(f"{path} is damaged: it holds NUL bytes")
    return text


def _check_rows(path: Path, text: str) -> list[str]:
    """The header, once every row has as many fields as it (a cut-off or spliced file does not)."""
    try:
        rows = [row for row in csv.reader(io.StringIO(text), strict=True) if row]
    except csv.Error as error:
        raise UserError(f"{path} is damaged: {error}") from None
    if not rows:
        raise UserError(f"{path} is empty")
    header = rows[0]
    for number, row in enumerate(rows[1:], start=1):
        if len(row) != len(header):
            raise UserError(f"{path} is damaged: row {number} has {len(row)} fields where the header has "
                            f"{len(header)} (a truncated or edited file)")
    return header


def _numbers(path: Path, table: pd.DataFrame, column: str) -> pd.Series:
    values = pd.to_numeric(table[column], errors="coerce")
    wrong = values.isna() & table[column].notna()
    if wrong.any():
        value = table[column][wrong].iloc[0]
        raise UserError(f"{path} is damaged: row {_row(wrong)}, column {column} holds {shown(str(value), 40)}, not a number")
    return values


def _row(mask: pd.Series) -> int:
    """The 1-based data row of the first ``True`` (the header is row 0)."""
    return int(mask.to_numpy().argmax()) + 1
