"""One tiny real run folder per test session, shared by the report and export tests.

Built once with ``search run`` as a user runs it (a real process); with
pytest-xdist the workers share it through a file lock, so the run is made once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from filelock import FileLock

REPO = Path(__file__).resolve().parent.parent
QUICK = ["--resolution", "32", "--proxy-epochs", "1", "--threads", "1", "--seed", "0", "--dataset", "shapes",
         "--dataset-option", "size=192", "--dataset-option", "val_size=64", "--proxy-batch-size", "64"]


def search(cwd: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, CONVSPACE_CACHE=str(cwd / "cache"), OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "search.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def make_tiny_run(tmp_path_factory) -> Path:
    """``results/tiny``: 5 trials and one baseline, with the report written at the end of the run."""
    session = os.environ.get("PYTEST_XDIST_TESTRUNUID")  # set alike in every xdist worker of one session
    shared = tmp_path_factory.getbasetemp().parent if session else tmp_path_factory.getbasetemp()
    folder = shared / f"report-tiny-run-{session or 'local'}"
    with FileLock(str(folder) + ".lock"):
        run = folder / "results" / "tiny"
        if not (folder / "done").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            result = search(folder, "run", "--budget", "200ms", "--trials", "5", "--name", "tiny", "--baseline", "resnet18", *QUICK)
            assert result.returncode == 0, result.stderr[-3000:]
            (folder / "stdout.txt").write_text(result.stdout)
            (folder / "stderr.txt").write_text(result.stderr)  # piped: the progress view's plain lines
            (folder / "done").write_text("")
    return run


def run_stdout(run: Path) -> str:
    return (run.parent.parent / "stdout.txt").read_text()


def run_stderr(run: Path) -> str:
    return (run.parent.parent / "stderr.txt").read_text()


def copy_run(run: Path, destination: Path) -> Path:
    """A private copy to change (tests never alter the shared run)."""
    target = destination / run.name
    shutil.copytree(run, target)
    return target


def crowd_known_nets(run: Path, names: list[str]) -> None:
    """Add known nets that sit almost on top of the run's first one (as resnet18 and resnet34 can).

    Each is a copy of that net's row in trials.csv, a few percent slower and a
    little less accurate: their labels would print on top of each other if they
    were placed where matplotlib puts them by default.
    """
    import pandas as pd

    table = pd.read_csv(run / "trials.csv")
    known = table[table["baseline"].notna()].iloc[0]
    rows = []
    for index, name in enumerate(names, start=1):
        row = known.copy()
        row["baseline"], row["latency_ms"] = name, known["latency_ms"] * (1 + 0.02 * index)
        row["accuracy"] = known["accuracy"] - 0.002 * index
        rows.append(row)
    pd.concat([table, pd.DataFrame(rows)], ignore_index=True).to_csv(run / "trials.csv", index=False)
