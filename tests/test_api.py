"""search.run() and search.explore(): the commands as functions, their results against the run folders."""

from __future__ import annotations

import dataclasses
import inspect
import json
from pathlib import Path

import pandas as pd
import pytest

import search
from search.api import ExploreResult, RunResult
from search.errors import UserError
from search.explore.config import ExploreConfig
from search.run.config import RunConfig
from searchspace import build, decode
from tests.test_explore_cli import SPACE_A, SPACE_B

# As the CLI tests' QUICK: 32 px, one epoch on 256 generated images, one thread.
QUICK = dict(resolution=32, proxy_epochs=1, threads=1, seed=0, dataset="shapes",
             dataset_options={"size": "256", "val_size": "64"}, proxy_batch_size=64)


def test_a_tiny_run_returns_what_its_folder_holds(tmp_path: Path) -> None:
    result = search.run(budget="500ms", trials=2, baselines=False, out=str(tmp_path), name="tiny", quiet=True, final_seeds=0, **QUICK)
    folder = tmp_path / "tiny"
    assert isinstance(result, RunResult) and result.path == folder
    stored = json.loads((folder / "run.json").read_text())["config"]
    assert result.config == RunConfig.from_dict(stored)
    assert (result.config.budget_ms, result.config.trials, result.config.baselines) == (500.0, 2, False)

    trials = pd.read_csv(folder / "trials.csv")
    assert sorted(result.trials["number"]) == sorted(trials["number"]) and len(result.trials) == 2
    assert result.trials["digest"].tolist() == trials["digest"].tolist()
    assert result.baselines.empty
    listed = pd.read_csv(folder / "pareto.csv")
    front = listed[listed["pareto"]]
    assert result.front["number"].tolist() == front["number"].tolist()
    assert result.left_front["number"].tolist() == listed[~listed["pareto"]]["number"].tolist()
    assert set(result.front["number"]) <= set(result.trials.loc[result.trials["pareto"], "number"])
    assert {"run.json", "trials.csv", "trials.parquet", "pareto.csv"} <= set(result.files)
    nets = "1 net," if len(front) == 1 else f"{len(front)} nets,"
    assert result.summary.startswith(f"Pareto front ({nets}")  # what the command prints
    assert all(f"#{n}" in result.summary for n in front["number"])

    number = int(result.trials["number"].iloc[0])
    spec = result.spec(number)
    assert spec.digest() == result.trials.loc[result.trials["number"] == number, "digest"].iloc[0]
    assert result.create_model(number).spec == spec == decode(trials.loc[trials["number"] == number, "spec"].iloc[0])
    with pytest.raises(UserError, match=r"trial = 99 is not in .* \(trials: "):
        result.spec(99)

    again = RunResult.load(folder)
    assert again.config == result.config and again.trials.equals(result.trials) and again.front.equals(result.front)


def test_baselines_are_their_own_table(tmp_path: Path) -> None:
    result = search.run(budget="500ms", trials=1, baseline_names=("resnet18",), out=str(tmp_path), name="b", quiet=True, final_seeds=0,
                        **QUICK)
    assert result.baselines["baseline"].tolist() == ["resnet18"]
    assert result.trials["baseline"].isna().all()
    # resnet18 is a point of the default space: warm start makes it trial 0, with the baseline's own result.
    copy, baseline = result.trials.set_index("number").loc[0], result.baselines.iloc[0]
    assert (copy["digest"], copy["accuracy"]) == (baseline["digest"], baseline["accuracy"])
    assert len(result.trials) == 2  # the copy is not counted by --trials
    assert result.spec("resnet18").stages == build(result.spec("resnet18")).spec.stages


def test_a_tiny_exploration_returns_its_samples_summary_and_verdicts(tmp_path: Path) -> None:
    (tmp_path / "tiny_a.yaml").write_text(SPACE_A)
    (tmp_path / "tiny_b.yaml").write_text(SPACE_B)
    result = search.explore(spaces=[str(tmp_path / "tiny_a.yaml"), str(tmp_path / "tiny_b.yaml")], samples=3,
                            macs=(None, "2M"), proxy="params", dataset="shapes", resolution=32,
                            dataset_options={"size": "128", "val_size": "64"}, out=str(tmp_path), name="e", quiet=True)
    folder = tmp_path / "e"
    assert isinstance(result, ExploreResult) and result.path == folder
    assert result.config.macs == (None, 2_000_000.0) and result.config.spaces[0].endswith("tiny_a.yaml")
    samples = pd.read_csv(folder / "samples.csv")
    assert result.samples["digest"].tolist() == samples["digest"].tolist() and len(samples) == 6
    summary = json.loads((folder / "summary.json").read_text())
    assert result.summary == summary
    assert result.verdicts == [v["line"] for v in summary["verdicts"]] and len(result.verdicts) == 1


def test_signatures_show_the_configurations_defaults_under_the_commands_names() -> None:
    run_parameters = inspect.signature(search.run).parameters
    defaults = {f.name: f.default for f in dataclasses.fields(RunConfig)}
    assert run_parameters["trials"].default == defaults["trials"]
    assert run_parameters["time_limit"].default == defaults["time_limit_s"]
    assert "budget" in run_parameters and "budget_ms" not in run_parameters
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in run_parameters.values())
    explore_parameters = inspect.signature(search.explore).parameters
    assert explore_parameters["samples"].default == ExploreConfig.samples
    assert "latency" in explore_parameters and "command" not in explore_parameters


def test_bad_keywords_and_values_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"run\(\) got an unexpected keyword argument 'budjet' \(did you mean budget\?\)"):
        search.run(budjet="50ms")
    with pytest.raises(UserError, match=r"budget 'fast' is not understood"):
        search.run(budget="fast", out=str(tmp_path))
    with pytest.raises(UserError, match=r"--trials 0 is not allowed: must be at least 1"):
        search.run(trials=0, out=str(tmp_path))
    with pytest.raises(UserError, match=r"quiet = 'yes' is not allowed: must be True or False"):
        search.run(quiet="yes")
    with pytest.raises(UserError, match="give a complexity filter"):
        search.explore(spaces="unified", out=str(tmp_path))
    assert not any(tmp_path.iterdir())  # nothing was written


def test_the_packages_stay_packages() -> None:
    import search.run.loop as loop

    assert loop.__name__ == "search.run.loop" and callable(search.run) and callable(search.explore)
