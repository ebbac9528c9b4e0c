"""A finished run as optuna-dashboard shows it: its own JSON API, driven in-process through its WSGI app.

The reference is the dashboard release on PyPI (the ``test`` extra): what its
API returns is what its pages draw, so objectives, constraints and per-trial
attributes found here are what a user sees with ``optuna-dashboard <storage>``.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from wsgiref.util import setup_testing_defaults

import optuna
import pandas as pd
import pytest
from optuna_dashboard import wsgi

import search
from search.errors import UserError
from search.run.evaluate import CONSTRAINT_NAMES
from search.run.scores import DEFAULT_PROXY_SCORE
from tests.report_run import REPO, make_tiny_run


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return make_tiny_run(tmp_path_factory)  # --budget 200ms, 5 trials, known net resnet18, final protocol on


class Dashboard:
    """optuna-dashboard's WSGI app, asked for JSON the way its web page asks."""

    def __init__(self, storage_url: str) -> None:
        self.app = wsgi(optuna.storages.RDBStorage(storage_url))

    def get(self, path: str) -> dict:
        environ: dict = {}
        setup_testing_defaults(environ)
        environ.update(PATH_INFO=path, REQUEST_METHOD="GET", **{"wsgi.input": io.BytesIO()})
        status = []
        body = b"".join(self.app(environ, lambda line, headers, exc_info=None: status.append(line)))
        assert status[0].startswith("200"), (path, status, body[:500])
        return json.loads(body)

    def studies(self) -> dict[str, dict]:
        """Study name -> the study's detail (trials, objective names, ...)."""
        summaries = self.get("/api/studies")["study_summaries"]
        return {s["study_name"]: self.get(f"/api/studies/{s['study_id']}") for s in summaries}


def attributes(trial: dict) -> dict[str, str]:
    return {pair["key"]: pair["value"] for pair in trial["user_attrs"]}


def test_the_dashboard_shows_objectives_constraints_attributes_and_known_nets(tiny: Path) -> None:
    studies = Dashboard(f"sqlite:///{tiny / 'study.db'}").studies()
    assert set(studies) == {"tiny", "tiny.final"}  # the study is named after the run; its answer beside it
    searched = studies["tiny"]
    assert searched["objective_names"] == [DEFAULT_PROXY_SCORE, "latency_ms"]  # what the search maximised
    assert searched["directions"] == ["maximize", "minimize"]
    finished = [t for t in searched["trials"] if t["state"] == "Complete"]
    assert len(finished) >= 1
    rows = {int(r["number"]): r for r in _csv_rows(tiny / "trials.csv") if r["number"]}  # an integer column
    for trial in finished:
        row, shown = rows[trial["number"]], attributes(trial)
        # One constraint per limit, in CONSTRAINT_NAMES order, > 0 when over: latency relative to the 200 ms budget.
        assert len(trial["constraints"]) == len(CONSTRAINT_NAMES)
        assert trial["constraints"][0] == pytest.approx(float(row["latency_ms"]) / 200.0 - 1.0)
        assert (trial["constraints"][0] <= 0) == (row["state"] == "complete")
        assert shown["spec"] == row["spec"] and shown["state"] == row["state"]
        assert (int(shown["params"]), int(shown["macs"])) == (int(row["params"]), int(row["macs"]))
    study_attrs = {pair["key"]: pair["value"] for pair in searched["user_attrs"]}  # the dashboard cuts long values short
    assert json.loads(study_attrs["constraint_names"]) == list(CONSTRAINT_NAMES)

    answer = studies["tiny.final"]
    assert answer["objective_names"] == ["accuracy", "latency_ms"]  # the answer is in accuracies, whatever the search maximised
    known = [attributes(t) for t in answer["trials"] if "baseline" in attributes(t)]
    assert [k["baseline"] for k in known] == ["resnet18"]
    members = [attributes(t) for t in answer["trials"] if "trial" in attributes(t)]
    front = {int(r["number"]): r for r in _csv_rows(tiny / "pareto.csv") if r["pareto"] == "True"}
    assert {int(m["trial"]) for m in members} == set(front)
    for member in members:  # the re-measured latency, per trial, where the dashboard lists attributes
        row = front[int(member["trial"])]
        assert float(member["remeasured_latency_ms"]) == pytest.approx(float(row["remeasured_latency_ms"]))
    for trial in answer["trials"]:  # each member's figure is its final accuracy, else its proxy accuracy: no score
        if "trial" in attributes(trial) and trial["state"] == "Complete":
            row = front[int(attributes(trial)["trial"])]
            assert trial["values"][0] == pytest.approx(float(row["final_accuracy"] or row["accuracy"]))
    assert all(len(t["constraints"]) == len(CONSTRAINT_NAMES) for t in answer["trials"] if t["state"] == "Complete")


def _csv_rows(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open() as stream:
        return list(csv.DictReader(stream))


QUICKEST = dict(resolution=32, threads=1, seed=0, dataset="shapes", dataset_options={"size": "128", "val_size": "32"},
                proxy="params", trials=1, baselines=False, final_seeds=0, quiet=True)


def test_two_runs_share_a_storage_under_two_study_names(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    search.run(name="first", out=str(tmp_path), storage=storage, **QUICKEST)
    search.run(name="second", out=str(tmp_path), storage=storage, study_name="mine", **QUICKEST)
    names = set(optuna.get_all_study_names(storage))
    assert {"first", "first.final", "mine", "mine.final"} == names
    assert len(optuna.load_study(study_name="mine", storage=storage).trials) == 1
    with pytest.raises(UserError, match="already holds a study named 'mine'"):
        search.run(name="third", out=str(tmp_path), storage=storage, study_name="mine", **QUICKEST)
    assert not (tmp_path / "third").exists()  # refused before any folder was made

    command = [sys.executable, "-m", "search.cli", "run", "--name", "fourth", "--out", str(tmp_path),
               "--storage", storage, "--study-name", "first"]
    result = subprocess.run(command, cwd=tmp_path, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0, result.stderr[-2000:]
    assert "already holds a study named 'first'" in result.stderr and "--study-name" in result.stderr


def test_a_run_written_before_study_names_and_tidy_attributes_resumes(tmp_path: Path) -> None:
    import sqlite3
    from contextlib import closing

    search.run(name="old", out=str(tmp_path), **QUICKEST)
    folder, storage = tmp_path / "old", f"sqlite:///{tmp_path / 'old' / 'study.db'}"
    # As the previous format wrote it: one study named "search", each trial's record its only user attribute,
    # no answer study, and no study_name in run.json.
    optuna.delete_study(study_name="old.final", storage=storage)
    with closing(sqlite3.connect(folder / "study.db")) as database, database:
        database.execute("UPDATE studies SET study_name = 'search'")
        database.execute("DELETE FROM trial_user_attributes WHERE key != 'record'")
    stored = json.loads((folder / "run.json").read_text())
    del stored["config"]["study_name"]
    (folder / "run.json").write_text(json.dumps(stored))

    search.run(name="old", out=str(tmp_path), resume=True, trials=2, quiet=True)
    assert set(optuna.get_all_study_names(storage)) == {"search", "search.final"}
    first, second = optuna.load_study(study_name="search", storage=storage).get_trials()
    assert set(first.user_attrs) == {"record"} and first.user_attrs["record"]["state"] == "complete"  # kept as it was
    assert second.user_attrs["spec"] == second.user_attrs["record"]["spec"] != first.user_attrs["record"]["spec"]
    assert pd.read_csv(folder / "trials.csv")["number"].tolist() == [0, 1]
