"""The recommended net: the rule the page states, on fronts made by hand, and the page that shows it."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from search.cli import main
from search.report import load_run
from search.report.recommend import RULE, recommend
from tests.report_run import copy_run, make_tiny_run

NAN = math.nan


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    return make_tiny_run(tmp_path_factory)  # its budget is 200 ms


def with_front(run: Path, members: list[tuple[float, float, float, float]], remeasured: dict[int, float] | None = None) -> Path:
    """pareto.csv rewritten to hold members #100, #101, ...: (final mean, CI low, CI high, latency ms) each."""
    template = pd.read_csv(run / "pareto.csv").iloc[0]
    rows = []
    for index, (mean, low, high, latency) in enumerate(members):
        row = template.copy()
        row["number"], row["pareto"], row["left_front"], row["latency_ms"] = 100 + index, True, NAN, latency
        row["remeasured_latency_ms"] = (remeasured or {}).get(100 + index, NAN)
        row["final_accuracy"], row["final_ci_low"], row["final_ci_high"], row["final_seeds"] = mean, low, high, 3 if low == low else NAN
        rows.append(row)
    pd.DataFrame(rows).to_csv(run / "pareto.csv", index=False)
    return run


def test_the_most_accurate_fitting_member_when_no_faster_one_is_within_noise(tiny_run: Path, tmp_path: Path) -> None:
    run = with_front(copy_run(tiny_run, tmp_path), [(0.70, 0.68, 0.72, 20.0), (0.80, 0.78, 0.82, 50.0)])
    choice = recommend(load_run(run))
    assert choice.number == 101 and "the most accurate front member within the 200 ms budget" in choice.reason
    assert (choice.figures.low, choice.figures.high, choice.figures.seeds) == (0.78, 0.82, 3)


def test_a_faster_member_whose_interval_overlaps_is_picked_and_the_difference_called_noise(tiny_run: Path, tmp_path: Path) -> None:
    members = [(0.65, 0.60, 0.70, 10.0),  # fastest, but its interval is clear of the best's: really less accurate
               (0.78, 0.73, 0.83, 20.0),  # overlaps the best's interval: the pick
               (0.79, 0.74, 0.84, 30.0),  # overlaps too, but slower than #101
               (0.80, 0.75, 0.85, 50.0)]  # the most accurate
    choice = recommend(load_run(with_front(copy_run(tiny_run, tmp_path), members)))
    assert choice.number == 101
    assert "#103 is the most accurate" in choice.reason and "within noise" in choice.reason and "-0.0200" in choice.reason


def test_a_member_whose_remeasured_latency_breaks_the_budget_is_not_picked(tiny_run: Path, tmp_path: Path) -> None:
    run = with_front(copy_run(tiny_run, tmp_path), [(0.70, 0.68, 0.72, 20.0), (0.90, 0.88, 0.92, 150.0)], remeasured={101: 250.0})
    assert recommend(load_run(run)).number == 100


def test_without_a_final_protocol_the_proxy_figure_decides_and_the_missing_interval_is_said(tiny_run: Path, tmp_path: Path) -> None:
    run = with_front(copy_run(tiny_run, tmp_path), [(NAN, NAN, NAN, 20.0), (NAN, NAN, NAN, 50.0)])
    table = pd.read_csv(run / "pareto.csv")
    table["accuracy"] = table["quality"] = [0.5, 0.6]  # the proxy's figures: its accuracy and the score the search kept
    table.to_csv(run / "pareto.csv", index=False)
    choice = recommend(load_run(run))
    assert choice.number == 101 and "no confidence interval" in choice.reason


def test_a_member_the_final_protocol_trained_with_one_seed_is_named_by_its_accuracy(tiny_run: Path, tmp_path: Path) -> None:
    run = with_front(copy_run(tiny_run, tmp_path), [(0.60, NAN, NAN, 20.0), (0.70, NAN, NAN, 50.0)])
    table = pd.read_csv(run / "pareto.csv")
    table["final_seeds"], table["quality"] = 1, [0.40, 0.45]  # the proxy's score, which the final mean replaces
    table.to_csv(run / "pareto.csv", index=False)
    choice = recommend(load_run(run))
    assert choice.number == 101 and "trained it with one seed" in choice.reason
    assert choice.headline("accuracy_x_likelihood").startswith("#101: accuracy 0.7000 (1 seed, no interval)")


def with_one_seed(run: Path, numbers: list[int]) -> Path:
    """The members named were trained by the final protocol with one seed (``with_front`` gave them no interval)."""
    table = pd.read_csv(run / "pareto.csv")
    table.loc[table["number"].isin(numbers), "final_seeds"] = 1
    table.to_csv(run / "pareto.csv", index=False)
    return run


def test_a_faster_member_whose_interval_holds_the_best_ones_single_seed_is_picked(tiny_run: Path, tmp_path: Path) -> None:
    # The default job's front of 2026-12-06: one seed of MobileNetV4-conv-small's copy, inside the interval of
    # MobileNetV3-Small's faster copy.
    members = [(0.9926, 0.9886, 0.9966, 6.56), (0.9944, NAN, NAN, 8.15)]
    choice = recommend(load_run(with_one_seed(with_front(copy_run(tiny_run, tmp_path), members), [101])))
    assert choice.number == 100
    assert "#101 is the most accurate" in choice.reason and "its one seed's accuracy lies inside" in choice.reason
    assert "-0.0018" in choice.reason


def test_a_faster_single_seed_inside_the_best_ones_interval_is_picked(tiny_run: Path, tmp_path: Path) -> None:
    members = [(0.78, NAN, NAN, 20.0), (0.80, 0.75, 0.85, 50.0)]
    choice = recommend(load_run(with_one_seed(with_front(copy_run(tiny_run, tmp_path), members), [100])))
    assert choice.number == 100 and "this faster net's one seed's accuracy lies inside its 95% interval" in choice.reason


def test_a_single_seed_outside_the_other_ones_interval_is_a_real_difference(tiny_run: Path, tmp_path: Path) -> None:
    members = [(0.90, 0.88, 0.92, 6.0), (0.95, NAN, NAN, 8.0)]
    choice = recommend(load_run(with_one_seed(with_front(copy_run(tiny_run, tmp_path), members), [101])))
    assert choice.number == 101 and "trained it with one seed" in choice.reason


def test_a_proxy_score_is_never_compared_with_a_final_interval(tiny_run: Path, tmp_path: Path) -> None:
    run = with_front(copy_run(tiny_run, tmp_path), [(0.70, 0.60, 0.80, 20.0), (NAN, NAN, NAN, 50.0)])
    table = pd.read_csv(run / "pareto.csv")
    table.loc[table["number"] == 101, ["accuracy", "quality"]] = 0.75  # one proxy run, inside #100's interval
    table.to_csv(run / "pareto.csv", index=False)
    choice = recommend(load_run(run))
    assert choice.number == 101 and "a single proxy run" in choice.reason


def test_no_member_within_the_budget_means_no_recommendation(tiny_run: Path, tmp_path: Path) -> None:
    choice = recommend(load_run(with_front(copy_run(tiny_run, tmp_path), [(0.7, 0.6, 0.8, 300.0)])))
    assert choice.number is None and "fits the 200 ms budget" in choice.reason


def test_the_page_names_the_pick_with_its_interval_and_states_the_rule(tiny_run: Path, tmp_path: Path, capsys) -> None:
    members = [(0.78, 0.73, 0.83, 20.0), (0.80, 0.75, 0.85, 50.0)]
    run = with_front(copy_run(tiny_run, tmp_path), members)
    assert main(["report", str(run)]) == 0
    assert "Recommended (rule in report.html): #100: accuracy 0.7800 [0.7300, 0.8300] (3 seeds)" in capsys.readouterr().out
    page = (run / "report.html").read_text().replace("&#x27;", "'")
    block = page[page.index('<div id="recommendation">'):]
    block = block[:block.index("</div>")]
    assert "Pick #100: accuracy 0.7800 [0.7300, 0.8300] (3 seeds)" in block and "within noise" in block
    assert RULE in block
    assert page.index('id="recommendation"') < page.index('id="front"'), "the pick comes before the tables"
