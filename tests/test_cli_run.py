"""`search run` end to end, as a user runs it: a real process, real signals, the embedded digits data."""

from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import optuna
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
# Small and quick: a 32-pixel deployment resolution, one proxy epoch on 256 generated images, one thread.
QUICK = ["--resolution", "32", "--proxy-epochs", "1", "--threads", "1", "--seed", "0",
         "--dataset", "shapes", "--dataset-option", "size=256", "--dataset-option", "val_size=64", "--proxy-batch-size", "64"]
# For runs whose test is not about the final protocol: it retrains the front with 3 seeds, which was most of
# such a test's minutes.  The shared tiny run (tests/report_run.py) and tests/test_final_protocol_*.py cover it.
NO_FINAL = ["--final-seeds", "0"]


def environment(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(CONVSPACE_CACHE=str(tmp_path / "cache"), OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    return env


def search(tmp_path: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "search.cli", *args], cwd=tmp_path, env=environment(tmp_path),
        capture_output=True, text=True, timeout=timeout,
    )


# A run started from a terminal gets Ctrl-C: SIGINT at its default disposition and not blocked.
# A child inherits both from whoever starts it, and a pytest worker that has run other tests need
# not be in that state (a non-interactive shell's background job is not either), so the run the
# interrupt tests signal is put in it explicitly before the CLI starts.
AS_FROM_A_TERMINAL = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); "
    "runpy.run_module('search.cli', run_name='__main__', alter_sys=True)"
)


def start(tmp_path: Path, *args: str) -> subprocess.Popen:
    """``search`` as a process that a later SIGINT interrupts as Ctrl-C would."""
    return subprocess.Popen(
        [sys.executable, "-c", AS_FROM_A_TERMINAL, *args], cwd=tmp_path, env=environment(tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finished_trials(run: Path) -> list[optuna.trial.FrozenTrial]:
    db = run / "study.db"
    if not db.exists():
        return []
    try:
        study = optuna.load_study(study_name=run.name, storage=f"sqlite:///{db}")
    except (KeyError, Exception):  # the study is being created
        return []
    return [t for t in study.get_trials(deepcopy=False) if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)]


def count_finished_trials(run: Path) -> int:
    """Finished trials, read through a read-only connection.

    Polling with ``optuna.load_study`` while the run is still creating its
    storage would race it: optuna creates missing tables on load, and two
    processes migrating one fresh SQLite file at once fail.
    """
    db = run / "study.db"
    if not db.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as connection:
            return connection.execute("SELECT COUNT(*) FROM trials WHERE state IN ('COMPLETE', 'FAIL')").fetchone()[0]
    except sqlite3.OperationalError:  # the tables do not exist yet, or the file is locked for a moment
        return 0


def new_nets_finished(run: Path) -> int:
    table = pd.read_csv(run / "trials.csv")
    return len(table[table["state"].isin(["complete", "infeasible", "failed"]) & table["duplicate_of"].isna()])


def wait_for_trials(run: Path, count: int, process: subprocess.Popen, timeout: float = 400) -> None:
    deadline = time.monotonic() + timeout
    while count_finished_trials(run) < count:
        assert process.poll() is None, f"the run ended early: {process.communicate()[1][-2000:]}"
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.5)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("search: error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_a_run_writes_every_file_with_baselines_and_a_front_within_budget(tmp_path: Path) -> None:
    result = search(tmp_path, "run", "--budget", "200ms", "--trials", "4", "--name", "first",
                    "--baseline", "mobilenet_v2", "--baseline", "resnet18", *QUICK, *NO_FINAL)
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "results" / "first"
    for name in ("run.json", "study.db", "trials.csv", "trials.parquet", "pareto.csv", "search.log", "baselines.json"):
        assert (run / name).is_file(), name
    stored = json.loads((run / "run.json").read_text())
    assert stored["config"]["budget_ms"] == 200.0 and stored["config"]["seed"] == 0
    assert {"packages", "latency_device", "latency_threads"} <= set(stored["environment"])

    trials = pd.read_csv(run / "trials.csv")
    parquet = pd.read_parquet(run / "trials.parquet")
    assert list(parquet.columns) == list(trials.columns)
    for column in ("number", "state", "spec", "digest", "params", "macs", "latency_ms", "accuracy", "pareto", "baseline"):
        assert parquet[column].astype(object).where(parquet[column].notna(), None).tolist() == \
            trials[column].astype(object).where(trials[column].notna(), None).tolist(), column
    required = ["number", "state", "spec", "digest", "params", "macs", "resolution", "latency_ms", "latency_spread_ms",
                "accuracy", "train_seconds", "peak_mem_mb", "baseline", "pareto", "error"]
    assert set(required) <= set(trials.columns)
    searched = trials[trials["baseline"].isna()]
    # Warm start: the known nets that fit (both) are points of the space, so they are the first trials, not counted.
    copies = searched[searched["digest"].isin(trials[trials["baseline"].notna()]["digest"])]
    assert sorted(copies["number"]) == [0, 1]
    assert len(searched) == 4 + 2 and set(searched["state"]) <= {"complete", "infeasible", "failed"}
    assert sorted(trials["baseline"].dropna()) == ["mobilenet_v2", "resnet18"]
    assert trials[trials["baseline"].notna()]["accuracy"].notna().all()
    trained = trials[trials["accuracy"].notna()]
    assert trained["val_loss"].notna().all() and (trained["val_loss"] > 0).all()  # each proxy training's held-out loss
    # What the search maximised, the default --proxy-score: accuracy times exp(-held-out loss), the study's first value.
    assert trained["quality"].to_numpy() == pytest.approx((trained["accuracy"] * (-trained["val_loss"]).map(math.exp)).to_numpy())
    study = optuna.load_study(study_name="first", storage=f"sqlite:///{run / 'study.db'}")
    told = {trial.number: trial.values[0] for trial in study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))}
    complete = searched[searched["state"] == "complete"]
    assert len(complete) >= 1 and [told[n] for n in complete["number"]] == pytest.approx(complete["quality"].tolist())
    assert (complete["quality"] < complete["accuracy"]).all()  # so the study's values are not the accuracies

    listed = pd.read_csv(run / "pareto.csv")
    front = listed[listed["pareto"]]
    assert listed[~listed["pareto"]]["left_front"].notna().all()  # the rest left the front, each with its reason
    assert len(front) >= 1 and (front["state"] == "complete").all()
    assert (front["latency_ms"] <= 200.0).all() and (front["remeasured_latency_ms"] <= 200.0).all()
    assert set(front["number"]) == set(searched[searched["pareto"]]["number"])
    assert "Pareto front" in result.stdout and "resnet18" in result.stdout


def test_nothing_fits_an_impossible_budget_and_nothing_is_trained(tmp_path: Path) -> None:
    result = search(tmp_path, "run", "--budget", "0.001ms", "--trials", "3", "--name", "tight", "--no-baselines", *QUICK)
    assert result.returncode == 0, result.stderr[-3000:]
    trials = pd.read_csv(tmp_path / "results" / "tight" / "trials.csv")
    assert (trials["state"] == "infeasible").all()
    assert trials["accuracy"].isna().all() and trials["train_seconds"].isna().all()
    assert trials["error"].str.contains("over the 0.001 ms budget").all()
    assert pd.read_csv(tmp_path / "results" / "tight" / "pareto.csv").empty


def new_nets_in_study(run: Path) -> list[dict]:
    """The records of the finished trials that trained a net (a reused duplicate did not)."""
    records = [t.user_attrs.get("record", {}) for t in finished_trials(run)]
    return [r for r in records if r.get("state") in ("complete", "infeasible", "failed") and r.get("duplicate_of") is None]


def test_resume_after_kill_loses_and_repeats_nothing(tmp_path: Path) -> None:
    args = ["run", "--budget", "500ms", "--name", "killed", "--no-baselines", *QUICK, *NO_FINAL]
    run = tmp_path / "results" / "killed"
    process = start(tmp_path, *args, "--trials", "500")  # far more than can finish before the kill
    wait_for_trials(run, 2, process)
    before = {t.number: (t.state, t.user_attrs["record"].get("digest"), t.values) for t in finished_trials(run)}
    process.send_signal(signal.SIGKILL)
    process.wait()

    wanted = len(new_nets_in_study(run)) + 2  # --trials counts the whole run's trials
    resumed = search(tmp_path, *args, "--trials", str(wanted), "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    trials = {t.number: t for t in finished_trials(run)}
    for number, (state, digest, values) in before.items():  # nothing completed was lost or changed
        assert (trials[number].state, trials[number].user_attrs["record"].get("digest"), trials[number].values) == (state, digest, values)
    new_nets = new_nets_in_study(run)
    assert len(new_nets) == wanted  # exactly the trials asked for, across both processes
    trained = [r["digest"] for r in new_nets if r.get("digest")]
    assert len(trained) == len(set(trained))  # no net evaluated twice
    assert new_nets_finished(run) == wanted


def test_ctrl_c_records_the_trial_in_flight_and_writes_the_files(tmp_path: Path) -> None:
    # Far more trials than can finish before the signal, however slowly this test's own process is
    # scheduled: with a handful, a busy machine let the run end on its own before Ctrl-C came.
    args = ["run", "--budget", "500ms", "--name", "stopped", "--no-baselines", *QUICK, *NO_FINAL]
    run = tmp_path / "results" / "stopped"
    process = start(tmp_path, *args, "--trials", "500")
    wait_for_trials(run, 1, process)
    time.sleep(1.0)  # let the next trial start
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr[-3000:]
    assert "interrupted" in stderr and "--resume" in stderr and "Traceback" not in stderr
    table = pd.read_csv(run / "trials.csv")
    assert "interrupted" in set(table["state"])
    wanted = new_nets_finished(run) + 2  # --trials counts the whole run's trials, those before the stop included
    resumed = search(tmp_path, *args, "--trials", str(wanted), "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert new_nets_finished(run) == wanted


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["run", "--bogus"], "No such option '--bogus'"),
        (["run", "--budget", "fast"], "--budget 'fast' is not understood"),
        (["run", "--budget", "-5ms"], "--budget '-5ms' is not understood"),
        (["run", "--budget", "0ms"], "--budget '0ms' must be positive"),
        (["run", "--device", "tpu"], "device 'tpu' is not recognised"),
        (["run", "--device", "cuda:7"], "device 'cuda:7'"),
        (["run", "--space", "galaxy"], "galaxy"),
        (["run", "--space", "missing.yaml"], "missing.yaml"),
        (["run", "--dataset", "imagenet"], "unknown dataset 'imagenet'"),
        (["run", "--name", "ghost", "--resume"], "no run named 'ghost' to resume"),
        (["run", "--resume"], "--resume needs --name"),
        (["run", "--name", "x", "--resume", "--overwrite"], "--resume and --overwrite contradict each other"),
        (["run", "--scheduler", "asha"], "--scheduler asha needs --backend ray"),
        (["run", "--baseline", "resnet51"], "zoo net 'resnet51' is not known"),
        (["run", "--max-params", "lots"], "--max-params 'lots' is not understood"),
        (["run", "--dataset-option", "limit"], "--dataset-option 'limit' is not understood"),
        (["run", "--dataset", "shapes", "--dataset-option", "colour=red"], "unknown option 'colour'"),
        (["zoo", "resnet51"], "zoo net 'resnet51' is not known"),
        (["describe", "net | | nope_c8 | head"], "block kind 'nope' is not known"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_two(tmp_path: Path, arguments: list[str], message: str) -> None:
    line = one_line_error(search(tmp_path, *arguments, timeout=120))
    assert message in line
    assert not (tmp_path / "results").exists()  # nothing was created for a rejected run


def test_an_invalid_space_file_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("stages:\n  - block: mbconvv\n    width: 16\n")
    line = one_line_error(search(tmp_path, "run", "--space", "broken.yaml", timeout=120))
    assert "broken.yaml" in line and "mbconvv" in line


def test_an_existing_run_is_never_overwritten_by_accident(tmp_path: Path) -> None:
    run = tmp_path / "results" / "precious"
    run.mkdir(parents=True)
    (run / "run.json").write_text('{"config": {"name": "precious"}}')
    (run / "trials.csv").write_text("number,state\n0,complete\n")
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in run.iterdir()}
    for arguments in (["run", "--name", "precious"], ["run", "--name", "precious", "--budget", "nonsense"]):
        one_line_error(search(tmp_path, *arguments, timeout=120))
        assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in run.iterdir()} == digest
    (tmp_path / "results" / "notarun").mkdir()
    line = one_line_error(search(tmp_path, "run", "--name", "notarun", "--overwrite", "--trials", "1", *QUICK, timeout=120))
    assert "not a run folder" in line


@pytest.mark.parametrize("command", [[], ["run"], ["zoo"], ["spaces"], ["describe"]])
def test_help_shows_examples(tmp_path: Path, command: list[str]) -> None:
    result = search(tmp_path, *command, "--help", timeout=120)
    assert result.returncode == 0
    assert "Example" in result.stdout
