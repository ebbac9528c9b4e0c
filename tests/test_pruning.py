"""--pruner asha|hyperband: the optuna backend stops poor proxy trainings early (search.run.pruning).

Checked against optuna's own records: the search study's trial states
(``TrialState.PRUNED``) and the learning-curve study's intermediate values,
which are what ``Trial.report`` stored and what the pruner judged.
"""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

import search
from search.cli import main
from search.errors import UserError
from search.run.config import RunConfig, dump
from search.run.pruning import TRIAL_ATTR, make_pruner

EPOCHS = 3
# Tiny nets on digits at 16 px, three proxy epochs: a pruner has rungs after epochs 1 and 2.
TINY_SPACE = """
name: tiny_prune
stem: {width: 8}
all_stages:
  stride: 2
  block: [basic, mbconv]
  depth: {low: 1, high: 2}
  width: {low: 8, high: 32, step: 8}
stages: 2
"""
SETTINGS = dict(dataset="digits", resolution=32, proxy_resolution=16, proxy_epochs=EPOCHS, proxy_batch_size=64,
                threads=1, seed=0, baselines=False, final_seeds=0, pruner="asha", quiet=True)


def studies(run: Path, name: str) -> tuple[optuna.Study, optuna.Study]:
    url = f"sqlite:///{run / 'study.db'}"
    return optuna.load_study(study_name=name, storage=url), optuna.load_study(study_name=f"{name}.curves", storage=url)


def curves_by_trial(curves: optuna.Study) -> dict[int, list[optuna.trial.FrozenTrial]]:
    found: dict[int, list[optuna.trial.FrozenTrial]] = {}
    for curve in curves.get_trials(deepcopy=False):
        found.setdefault(curve.user_attrs[TRIAL_ATTR], []).append(curve)
    return found


@pytest.fixture
def space_file(tmp_path: Path) -> str:
    path = tmp_path / "tiny_prune.yaml"
    path.write_text(TINY_SPACE)
    return str(path)


def test_asha_stops_poor_trainings_early_and_a_resumed_run_keeps_them(tmp_path: Path, space_file: str) -> None:
    search.run(space=space_file, trials=4, out=str(tmp_path), name="pruned", **SETTINGS)
    run = tmp_path / "pruned"
    study, curves = studies(run, "pruned")
    table = pd.read_csv(run / "trials.csv").set_index("number")
    reused = set(table.index[table["duplicate_of"].notna()])  # a net proposed again keeps its result: not trained
    pruned = [t.number for t in study.get_trials() if t.state == TrialState.PRUNED and t.number not in reused]
    assert pruned, "the pruner stopped no training: the test no longer exercises pruning"

    curve_of = curves_by_trial(curves)
    assert not reused & set(curve_of)
    for number in pruned:
        row, (curve,) = table.loc[number], curve_of[number]
        # The record holds what optuna's pruner judged: the run's score (--proxy-score) at the epoch it stopped.
        assert row["state"] == "pruned" and curve.state == TrialState.PRUNED
        assert row["epochs"] == curve.last_step < EPOCHS
        assert row["quality"] == pytest.approx(curve.intermediate_values[curve.last_step])
        assert pd.notna(row["latency_ms"]) and pd.notna(row["params"]) and pd.notna(row["macs"])  # kept
        assert not row["pareto"]
    for number in table.index[table["state"] == "complete"]:
        (curve,) = curve_of[number]
        assert curve.state == TrialState.COMPLETE and sorted(curve.intermediate_values) == list(range(1, EPOCHS + 1))
        assert table.loc[number, "epochs"] == EPOCHS

    first_numbers = {t.number: t.state for t in study.get_trials()}
    resumed = search.run(space=space_file, trials=6, out=str(tmp_path), name="pruned", resume=True, quiet=True)
    assert resumed.config.pruner == "asha"  # stored in run.json, restored by --resume
    study, curves = studies(run, "pruned")
    after = {t.number: t.state for t in study.get_trials()}
    assert all(after[number] == state for number, state in first_numbers.items())  # kept as they were
    # Trained once: one learning curve per search trial, none for a net reused as a duplicate.
    assert all(len(found) == 1 for found in curves_by_trial(curves).values())
    table = pd.read_csv(run / "trials.csv")
    trained = table[table["duplicate_of"].isna() & table["state"].isin(["complete", "pruned"])]
    assert trained["digest"].is_unique
    assert "Pruned:" in resumed.summary or not (table["state"] == "pruned").any()


def test_the_pruners_are_optunas_with_proxy_epochs_as_the_resource() -> None:
    assert isinstance(make_pruner("asha", EPOCHS), optuna.pruners.SuccessiveHalvingPruner)
    assert isinstance(make_pruner("hyperband", EPOCHS), optuna.pruners.HyperbandPruner)
    assert isinstance(make_pruner("none", EPOCHS), optuna.pruners.NopPruner)


def test_a_run_keeps_its_pruner_in_run_json_and_on_resume() -> None:
    stored = RunConfig(name="fixed", pruner="hyperband")
    assert RunConfig.from_dict(json.loads(dump(stored))).pruner == "hyperband"
    assert RunConfig.from_dict({"name": "old"}).pruner == "none"  # a run.json from before --pruner
    with pytest.raises(UserError, match="--pruner 'asha' differs from the run being resumed"):
        stored.resumed_with({"pruner": "asha"})


@pytest.mark.parametrize("args, message", [
    (["--pruner", "median"], "--pruner"),
    (["--pruner", "asha", "--backend", "ray"], "with --backend ray use --scheduler asha"),
    (["--pruner", "hyperband", "--proxy", "synflow"], "needs --proxy training"),
])
def test_bad_pruner_options_are_one_line_errors(tmp_path: Path, capsys, monkeypatch, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--name", "bad", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("search: error: ") and message in err[0]
    assert not (tmp_path / "results" / "bad").exists()
