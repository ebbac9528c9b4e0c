"""The exploration's run folder, with `search run`'s conventions (run.json, atomic writes, --resume).

Layout::

    run.json         configuration (command "explore"), environment, start and resume times
    samples.csv      one row per accepted net: space, index, spec, digest, params, macs,
                     latency, error, state (pending, complete, failed), reason, seconds, knob_*
    summary.json     per-space statistics, pairwise verdicts, best-of-k values
    explore.html     the report, PNGs inline; edf.png, edf_normalized.png, best_of_k.png,
                     trend_<knob>.png

samples.csv is rewritten atomically after every net, so an interruption
loses at most the net in flight: it is still ``pending`` and is scored on resume.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd

from search.errors import UserError
from search.explore.config import ExploreConfig
from search.run.rundir import RunDir, write_atomic

FIXED_COLUMNS = ("space", "index", "spec", "digest", "params", "macs", "latency_ms", "error", "state", "reason", "seconds")
PENDING, COMPLETE, FAILED = "pending", "complete", "failed"


def reopen(out: str, name: str) -> tuple[RunDir, ExploreConfig]:
    rundir = RunDir.open_existing(out, name)
    data = rundir.read_run_file()
    return rundir, ExploreConfig.from_dict(data.get("config", {}), str(rundir.path))


def samples_path(rundir: RunDir) -> Path:
    return rundir.path / "samples.csv"


def read_samples(rundir: RunDir) -> list[dict[str, Any]]:
    path = samples_path(rundir)
    if not path.is_file():
        return []
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (OSError, pd.errors.ParserError) as error:
        raise UserError(f"{path} cannot be read: {error}") from None
    return [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]


def write_samples(rundir: RunDir, rows: list[dict[str, Any]]) -> None:
    frame = pd.DataFrame.from_records(rows)
    for column in FIXED_COLUMNS:
        if column not in frame:
            frame[column] = None
    knobs = sorted(c for c in frame.columns if c not in FIXED_COLUMNS)
    buffer = io.StringIO()
    frame[list(FIXED_COLUMNS) + knobs].to_csv(buffer, index=False)
    write_atomic(samples_path(rundir), buffer.getvalue())
