"""Benchmark scripts run from any folder and never replace committed results unless asked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from setuptools import find_packages

from benchmarks import _common

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def results_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "results" / "benchmarks"
    monkeypatch.setattr(_common, "RESULTS_DIR", folder)
    return folder


def test_the_default_file_is_written_only_while_it_does_not_exist(results_dir: Path) -> None:
    first = _common.write_result("demo", {"value": 1})
    assert first == results_dir / "demo.json"
    second = _common.write_result("demo", {"value": 2})
    assert second != first and second.parent == results_dir and second.name.startswith("demo.")
    assert json.loads(first.read_text())["value"] == 1  # the earlier result is untouched
    assert json.loads(second.read_text())["value"] == 2


def test_overwrite_and_output_are_the_ways_to_replace_a_file(results_dir: Path, tmp_path: Path) -> None:
    _common.write_result("demo", {"value": 1})
    assert _common.write_result("demo", {"value": 2}, overwrite=True) == results_dir / "demo.json"
    assert json.loads((results_dir / "demo.json").read_text())["value"] == 2
    chosen = tmp_path / "mine.json"
    chosen.write_text("{}")
    assert _common.write_result("demo", {"value": 3}, output=chosen) == chosen
    assert json.loads(chosen.read_text())["value"] == 3


def test_a_script_runs_from_another_folder_and_leaves_committed_results_alone(tmp_path: Path) -> None:
    committed = REPO / "results" / "benchmarks" / "cost_throughput.json"
    before = committed.read_bytes()
    output = tmp_path / "throughput.json"
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "benchmarks.cost_throughput", "--specs", "8", "--stages", "5", "--rounds", "1",
                             "--output", str(output)], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(output.read_text())["specs"] == 8
    assert committed.read_bytes() == before


def test_the_installed_packages_include_the_benchmarks_and_their_space_file() -> None:
    setuptools_config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = find_packages(where=str(REPO), include=setuptools_config["packages"]["find"]["include"])
    assert "benchmarks" in packages
    patterns = setuptools_config["package-data"]["benchmarks"]
    assert any((REPO / "benchmarks").glob(pattern) for pattern in patterns)


def test_proxy_fidelity_writes_its_summary_where_asked_and_leaves_committed_files_alone(tmp_path: Path) -> None:
    committed = {path: path.read_bytes() for path in (REPO / "results" / "benchmarks").glob("proxy_fidelity_digits*")}
    output = tmp_path / "fidelity.json"
    environment = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "benchmarks.proxy_fidelity", "--analyse-only", "--output", str(output)],
                            cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(output.read_text())["summary"] == json.loads(
        (REPO / "results" / "benchmarks" / "proxy_fidelity_digits.json").read_text())["summary"]  # the committed log's
    assert {path: path.read_bytes() for path in committed} == committed
    # The files checked include the summary, the log and the chosen nets (other references' summaries may join them).
    assert {"proxy_fidelity_digits.json", "proxy_fidelity_digits.jsonl", "proxy_fidelity_digits_nets.json"} <= {path.name for path in committed}


def test_code_version_names_the_commit_and_whether_the_code_under_it_changed(tmp_path: Path) -> None:
    """Rows logged over many sessions say which code made them; edits to results (the logs) do not count."""
    from benchmarks._common import code_version

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(tmp_path), *args], capture_output=True, text=True, check=True).stdout.strip()

    assert code_version.__wrapped__(tmp_path) is None  # not a checkout
    git("init", "-q")
    (tmp_path / "results").mkdir()
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "results" / "log.jsonl").write_text("{}\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    head = git("rev-parse", "--short=12", "HEAD")
    assert code_version.__wrapped__(tmp_path) == head
    (tmp_path / "results" / "log.jsonl").write_text("{}\n{}\n")
    (tmp_path / "notes.txt").write_text("untracked\n")
    assert code_version.__wrapped__(tmp_path) == head
    (tmp_path / "code.py").write_text("x = 2\n")
    assert code_version.__wrapped__(tmp_path) == head + "+changes"
