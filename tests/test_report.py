"""`search report`: the page's content against the run folder's own tables and an outside hypervolume."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

from search.cli import main
from search.report import load_run, summary
from search.report.hypervolume import history
from search.report.importance import param_importances
from search.run.scores import DEFAULT_PROXY_SCORE
from tests.report_run import copy_run, make_tiny_run, run_stdout


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    return make_tiny_run(tmp_path_factory)

# Named after the objective: the tiny run keeps the default --proxy-score.
PLOTS = (*(f"{DEFAULT_PROXY_SCORE}_vs_{axis}.png" for axis in ("latency", "macs", "params")), "hypervolume.png", "knobs.png")


def front_numbers_in_page(page: str) -> list[int]:
    table = re.search(r'<table id="front">(.*?)</table>', page, re.S).group(1)
    return [int(n) for n in re.findall(r'<tr><td class="num">(\d+)</td>', table)]


def test_the_run_writes_a_self_contained_report_with_every_plot(tiny_run: Path) -> None:
    page = (tiny_run / "report.html").read_text()
    for name in PLOTS:
        assert (tiny_run / "plots" / name).stat().st_size > 1000, name
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) >= len(PLOTS) and all(src.startswith("data:image/png;base64,") for src in images)
    assert not re.search(r'(src|href)="https?:', page), "the page must not need the network"
    assert "report: results/tiny/report.html" in run_stdout(tiny_run)


def test_the_front_table_lists_exactly_the_pareto_csv_members_with_a_build_line(tiny_run: Path) -> None:
    page = (tiny_run / "report.html").read_text()
    listed = pd.read_csv(tiny_run / "pareto.csv")
    front = listed[listed["pareto"]]
    assert sorted(front_numbers_in_page(page)) == sorted(front["number"].astype(int))
    for spec in front["spec"]:  # an inception net's spec holds ">" and "|", which the page escapes
        assert f"build(decode('{spec}'))" in html.unescape(page)


def test_baselines_are_named_and_compared_in_the_summary(tiny_run: Path) -> None:
    out = run_stdout(tiny_run)
    assert re.search(r"resnet18 .*(faster|slower|within noise|undertrained by this recipe|not compared|no found net)", out)
    assert summary(tiny_run) in html.unescape((tiny_run / "report.html").read_text())


def test_hypervolume_never_decreases_and_matches_optuna(tiny_run: Path) -> None:
    data = load_run(tiny_run)
    numbers, values, reference = history(data.trials, data.config.budget_ms)
    assert reference == (0.0, 200.0) and numbers == sorted(numbers)
    # Each value is summed afresh from the front's boxes: the same front can differ in its last bit.
    assert all(b >= a or b == pytest.approx(a, rel=1e-12) for a, b in zip(values, values[1:]))
    feasible = data.trials[(data.trials["state"] == "complete") & (data.trials["latency_ms"] < 200)]
    assert len(feasible) >= 1
    for count, value in zip(range(1, len(numbers) + 1), values):
        seen = feasible[feasible["number"] < numbers[count - 1] + 1]
        if seen.empty:
            assert value == 0.0
            continue
        # optuna minimises: quality becomes -quality, the reference (0 quality, budget) becomes (0, 200).
        losses = np.array([[-q, lat] for q, lat in zip(seen["objective"], seen["latency_ms"])])
        assert value == pytest.approx(optuna._hypervolume.compute_hypervolume(losses, np.array([0.0, 200.0])))


def test_importances_cover_the_knobs_or_say_why_not(tiny_run: Path) -> None:
    data = load_run(tiny_run)
    values, note = param_importances(data)
    page = (tiny_run / "report.html").read_text()
    if values:
        assert set(values) == {DEFAULT_PROXY_SCORE, "latency_ms"} and data.objective == DEFAULT_PROXY_SCORE
        assert all(set(v) <= {k.removeprefix("param_") for k in data.knobs} for v in values.values())
        assert (tiny_run / "plots" / "importances.png").is_file()
    else:
        assert note and note.split(";")[0] in page


def test_search_report_rewrites_a_folder_without_its_study_database_with_a_note(tiny_run: Path, tmp_path: Path, capsys) -> None:
    copy = copy_run(tiny_run, tmp_path)
    (copy / "study.db").unlink()
    (copy / "report.html").unlink()
    assert main(["report", str(copy)]) == 0
    assert "Pareto front (" in capsys.readouterr().out
    page = (copy / "report.html").read_text()
    assert "need the run&#x27;s study database" in page
    listed = pd.read_csv(copy / "pareto.csv")
    assert sorted(front_numbers_in_page(page)) == sorted(listed[listed["pareto"]]["number"].astype(int))


def test_too_few_feasible_trials_give_a_note_not_an_error(tiny_run: Path, tmp_path: Path) -> None:
    copy = copy_run(tiny_run, tmp_path)
    table = pd.read_csv(copy / "trials.csv")
    searched = table["baseline"].isna()
    table.loc[searched & (table["number"] > table.loc[searched, "number"].min()), "state"] = "infeasible"
    table.to_csv(copy / "trials.csv", index=False)
    values, note = param_importances(load_run(copy))
    assert values == {} and "need at least 3 feasible trials; this run has 1" in note


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "missing", "no run folder at"),
    (lambda tmp: tmp, "is not a run folder"),
])
def test_report_errors_are_one_line_and_exit_2(tmp_path: Path, capsys, make, message) -> None:
    assert main(["report", str(make(tmp_path))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("search: error: ") and message in err[0]
