"""`search explore` end to end on the embedded data: files, statistics, resume, failures, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import search.explore.scoring as explore_scoring  # explore scores through this module's score_draw
from search.cli import main
from search.errors import UserError

SPACE_A = """
name: tiny_a
stem: {width: 8}
all_stages:
  stride: 2
  block: bottleneck
  depth: {low: 1, high: 2}
  width: {low: 8, high: 32, step: 8}
  bottleneck_ratio: [1.0, 0.5]
  group_width: [1, 4, 8]
stages: 2
"""
SPACE_B = SPACE_A.replace("tiny_a", "tiny_b") + "shared: [bottleneck_ratio, group_width]\nconstraints: {non_decreasing: [width]}\n"
DATA = ["--dataset", "shapes", "--dataset-option", "size=128", "--dataset-option", "val_size=64", "--resolution", "32"]


@pytest.fixture
def spaces(tmp_path: Path) -> list[str]:
    (tmp_path / "tiny_a.yaml").write_text(SPACE_A)
    (tmp_path / "tiny_b.yaml").write_text(SPACE_B)
    return ["--space", str(tmp_path / "tiny_a.yaml"), "--space", str(tmp_path / "tiny_b.yaml")]


def explore(tmp_path: Path, *args: str) -> int:
    return main(["explore", "--out", str(tmp_path / "out"), "--quiet", *args])


def samples(tmp_path: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(tmp_path / "out" / name / "samples.csv")


def test_synflow_exploration_writes_consistent_files(tmp_path: Path, spaces: list[str]) -> None:
    assert explore(tmp_path, *spaces, *DATA, "--samples", "6", "--macs", ":2M", "--proxy", "synflow", "--name", "s") == 0
    folder = tmp_path / "out" / "s"
    table = samples(tmp_path, "s")
    assert len(table) == 12 and set(table["state"]) == {"complete"} and (table["macs"] <= 2e6).all()
    assert {"knob_stage0.width", "knob_stages.group_width"} <= set(table.columns)
    summary = json.loads((folder / "summary.json").read_text())
    a = table[table.space == "tiny_a"]["error"].to_numpy()
    b = table[table.space == "tiny_b"]["error"].to_numpy()
    assert summary["spaces"]["tiny_a"]["quantiles"]["0.5"] == pytest.approx(np.median(a))
    assert summary["spaces"]["tiny_b"]["best"]["error"] == pytest.approx(b.min())
    assert summary["spaces"]["tiny_a"]["best_of_k"]["6"] == pytest.approx(a.min())
    assert summary["spaces"]["tiny_a"]["sampling"]["accepted"] == 6
    [verdict] = summary["verdicts"]
    assert verdict["p_value"] == pytest.approx(stats.ks_2samp(a, b).pvalue)
    page = (folder / "explore.html").read_text()
    assert page.count("data:image/png;base64,") == len(list(folder.glob("*.png"))) >= 4
    assert "http" not in page and verdict["line"] in page
    assert (folder / "trend_stage0.width.png").is_file() and json.loads((folder / "run.json").read_text())["config"]["command"] == "explore"
    # The same seed draws the same nets.
    assert explore(tmp_path, *spaces, *DATA, "--samples", "6", "--macs", ":2M", "--proxy", "params", "--name", "again") == 0
    assert samples(tmp_path, "again")["spec"].tolist() == table["spec"].tolist()


def test_resume_after_an_interruption_neither_repeats_nor_loses_samples(tmp_path: Path, spaces: list[str], monkeypatch) -> None:
    scored: list[str] = []
    real = explore_scoring.score_draw

    def interrupt_fifth(draw, *args):
        if len(scored) == 4:
            raise KeyboardInterrupt
        scored.append(draw.spec.digest())
        return real(draw, *args)

    monkeypatch.setattr(explore_scoring, "score_draw", interrupt_fifth)
    arguments = [*spaces, *DATA, "--samples", "4", "--macs", ":2M", "--proxy", "synflow", "--name", "r"]
    assert explore(tmp_path, *arguments) == 130
    first = samples(tmp_path, "r")
    assert (first["state"] == "complete").sum() == 4 and (first["state"] == "pending").sum() == 4
    monkeypatch.setattr(explore_scoring, "score_draw", lambda draw, *args: scored.append(draw.spec.digest()) or real(draw, *args))
    assert explore(tmp_path, "--name", "r", "--resume") == 0
    second = samples(tmp_path, "r")
    assert len(scored) == len(set(scored)) == 8  # every net scored exactly once
    assert set(second["state"]) == {"complete"} and second["digest"].tolist() == first["digest"].tolist()
    assert second["error"][:4].tolist() == first["error"][:4].tolist()
    # Growing --samples on resume scores only the new nets.
    assert explore(tmp_path, "--name", "r", "--resume", "--samples", "5") == 0
    assert len(scored) == 10 and len(samples(tmp_path, "r")) == 10


def test_failures_are_rows_with_reasons_and_stay_out_of_the_statistics(tmp_path: Path, spaces: list[str], monkeypatch) -> None:
    import evaluators.zero_cost as zero_cost

    real = zero_cost.score
    calls = []

    def breaks_every_third(spec, method, *args, **kwargs):
        calls.append(spec)
        if len(calls) % 3 == 0:
            raise RuntimeError("simulated out of memory")
        return real(spec, method, *args, **kwargs)

    monkeypatch.setattr(zero_cost, "score", breaks_every_third)
    assert explore(tmp_path, *spaces, *DATA, "--samples", "6", "--macs", ":2M", "--proxy", "synflow", "--name", "f") == 0
    table = samples(tmp_path, "f")
    failed = table[table.state == "failed"]
    assert len(failed) == 4 and failed["error"].isna().all()
    assert failed["reason"].str.contains("synflow failed: RuntimeError: simulated out of memory").all()
    summary = json.loads((tmp_path / "out" / "f" / "summary.json").read_text())
    for name in ("tiny_a", "tiny_b"):
        ok = table[(table.space == name) & (table.state == "complete")]["error"]
        assert summary["spaces"][name]["complete"] == len(ok) and summary["spaces"][name]["failed"] == 6 - len(ok)
        assert summary["spaces"][name]["mean"] == pytest.approx(ok.mean())


def test_training_proxy_gives_top1_errors(tmp_path: Path, spaces: list[str]) -> None:
    assert explore(tmp_path, *spaces, *DATA, "--samples", "2", "--macs", ":1M", "--proxy-epochs", "1",
                   "--proxy-batch-size", "32", "--name", "t") == 0
    table = samples(tmp_path, "t")
    assert set(table["state"]) == {"complete"} and table["error"].between(0, 100).all()
    summary = json.loads((tmp_path / "out" / "t" / "summary.json").read_text())
    assert summary["metric"] == "top-1 error %"


@pytest.mark.parametrize("arguments,message", [
    (["--space", "no_such_space", "--macs", ":2M"], "space 'no_such_space' is not known"),
    (["--macs", "360M:100M"], "--macs '360M:100M': the low end is above the high end"),
    (["--macs", "lots"], "--macs 'lots' is not understood"),
    (["--macs", "1G:2G", "--max-draws", "300"], "only 0 of 300 draws passed --macs 1G:2G"),
    (["--samples", "4"], "give a complexity filter"),
])
def test_bad_input_is_one_line_and_exit_2_without_a_folder(tmp_path: Path, spaces: list[str], capsys, arguments, message) -> None:
    assert explore(tmp_path, *spaces, *DATA, "--proxy", "params", "--name", "bad", *arguments) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1 and "Traceback" not in error
    assert not (tmp_path / "out" / "bad").exists()


def test_latency_filter_measures_kept_nets_and_records_their_latency(tmp_path: Path, spaces: list[str]) -> None:
    assert explore(tmp_path, spaces[0], spaces[1], *DATA, "--samples", "2", "--macs", ":2M", "--latency", ":2s",
                   "--device", "cpu", "--threads", "1", "--proxy", "params", "--name", "l") == 0
    table = samples(tmp_path, "l")
    assert table["latency_ms"].between(0, 2000, inclusive="neither").all()
    summary = json.loads((tmp_path / "out" / "l" / "summary.json").read_text())
    assert summary["spaces"]["tiny_a"]["sampling"]["measured"] >= 2 and summary["filter"]["latency_ms"] == [None, 2000.0]


def test_search_run_refuses_to_resume_an_exploration_folder(tmp_path) -> None:
    from search.cli import main
    from search.explore.config import COMMAND
    from search.run.rundir import RunDir

    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps({"config": {"command": COMMAND, "name": "study"}}))
    with pytest.raises(UserError, match="search explore"):
        RunDir(folder).read_config()
    assert main(["run", "--name", "study", "--out", str(tmp_path), "--resume"]) == 2


def test_a_resumed_exploration_refuses_a_changed_space_file_and_leaves_the_folder_alone(tmp_path: Path, spaces: list[str], capsys) -> None:
    arguments = [*spaces, *DATA, "--samples", "2", "--macs", ":2M", "--proxy", "synflow", "--name", "c"]
    assert explore(tmp_path, *arguments) == 0
    folder = tmp_path / "out" / "c"
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    space = tmp_path / "tiny_b.yaml"
    space.write_text(space.read_text().replace("group_width: [1, 4, 8]", "group_width: [1, 4]"))
    capsys.readouterr()
    assert explore(tmp_path, "--name", "c", "--resume", "--samples", "3") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has changed since the run started" in err[0] and "group_width" in err[0], err
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


def test_a_resumed_exploration_refuses_another_proxy_recipe_and_leaves_the_folder_alone(tmp_path: Path, spaces: list[str], capsys) -> None:
    arguments = [*spaces, *DATA, "--samples", "2", "--macs", ":2M", "--proxy", "synflow", "--name", "r"]
    assert explore(tmp_path, *arguments) == 0
    folder = tmp_path / "out" / "r"
    stored = json.loads((folder / "run.json").read_text())
    stored["environment"]["proxy_recipe"] = "2026-01-01"
    (folder / "run.json").write_text(json.dumps(stored))
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    capsys.readouterr()
    assert explore(tmp_path, "--name", "r", "--resume", "--samples", "3") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "proxy recipe '2026-01-01' is not this version's" in err[0], err
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before
