"""The report's figures: each size panel draws a real front, the zoom keeps the front and known nets, few knobs shown."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from search.report import TOP_KNOBS, load_run
from search.report.importance import param_importances, ranked_knobs
from search.report.plots import panel_front, varied_knobs, zoom_box
from search.run.scores import DEFAULT_PROXY_SCORE
from tests.report_run import make_tiny_run


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    return make_tiny_run(tmp_path_factory)


def non_dominated(table: pd.DataFrame, x: str) -> set[int]:
    """The definition, checked pair by pair: no other net at least as good on both and better on one."""
    rows = list(table[["number", "objective", x]].itertuples(index=False))
    return {n for n, q, c in rows
            if not any(q2 >= q and c2 <= c and (q2 > q or c2 < c) for _, q2, c2 in rows)}


def test_a_made_up_panel_front_is_the_non_dominated_set() -> None:
    trials = pd.DataFrame({"number": range(6), "state": ["complete"] * 5 + ["infeasible"],
                           "objective": [0.5, 0.6, 0.55, 0.7, 0.4, 0.99], "macs": [10, 20, 30, 40, 5, 1]})
    assert set(panel_front(trials, "macs")["number"]) == {0, 1, 3, 4}  # #2 loses to #1; #5 was over a limit


@pytest.mark.parametrize("axis", ["macs", "params"])
def test_each_size_panel_draws_the_front_of_that_size(tiny_run: Path, axis: str) -> None:
    data = load_run(tiny_run)
    front = panel_front(data.trials, axis).sort_values(axis)
    scored = data.trials[(data.trials["state"] == "complete") & data.trials["objective"].notna()]
    assert set(front["number"]) == non_dominated(scored, axis)
    assert front["objective"].is_monotonic_increasing, "a front over a size climbs as the size grows"


def test_the_zoomed_view_holds_the_front_the_known_nets_and_the_budget(tiny_run: Path) -> None:
    data = load_run(tiny_run)
    (x0, x1), (y0, y1) = zoom_box(data, "latency_ms")
    for table in (data.front, data.baselines):
        assert table["latency_ms"].between(x0, x1).all() and table["objective"].dropna().between(y0, y1).all()
    assert x0 <= data.config.budget_ms <= x1
    inside = data.trials[data.trials["latency_ms"].between(x0, x1)]
    assert inside["objective"].dropna().between(y0, y1).all(), "no scored net in the latency range is cut off"


def test_the_page_has_the_zoomed_front_inline_with_one_label_per_known_net(tiny_run: Path) -> None:
    page = (tiny_run / "report.html").read_text()
    data = load_run(tiny_run)
    assert (tiny_run / "plots" / f"{DEFAULT_PROXY_SCORE}_vs_latency_front.svg").is_file()
    assert re.search(r'<div class="figure"><svg[^>]*viewBox', page)
    assert len(re.findall(r'id="known-net-label-\d+"', page)) == len(data.baselines)
    assert "Log latency axis, zoomed on the front" in page


def test_the_knobs_shown_are_the_most_important_and_the_page_says_how_many_were_left_out(tiny_run: Path) -> None:
    data = load_run(tiny_run)
    importance, _ = param_importances(data)
    varied = varied_knobs(data)
    ranked = ranked_knobs(varied, importance, data.objective)
    scores = [importance.get(data.objective, {}).get(k.removeprefix("param_"), -1.0) for k in ranked]
    assert sorted(ranked) == sorted(varied) and scores == sorted(scores, reverse=True)
    shown = min(TOP_KNOBS, len(varied))
    page = (tiny_run / "report.html").read_text()
    assert f"{shown} of the {len(varied)} knobs that took two or more values" in page
    assert f"{len(varied) - shown} are left out" in page


def test_ranking_puts_knobs_without_an_importance_last_in_their_order() -> None:
    importance = {"accuracy": {"a": 0.1, "c": 0.7}}
    assert ranked_knobs(["param_a", "param_b", "param_c", "param_d"], importance, "accuracy") == ["param_c", "param_a", "param_b", "param_d"]
    assert ranked_knobs(["param_b", "param_a"], {}, "accuracy") == ["param_b", "param_a"]
