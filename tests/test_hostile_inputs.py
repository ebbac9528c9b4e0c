"""Hostile and careless input (issue 15): no code runs from a data file, no run is lost, no traceback.

Each case is something an attacker or a careless user can hand the command
line. The promise checked throughout: one line on stderr starting with
``search: error:``, exit code 2, and every file that existed before (an earlier
run included) byte-for-byte as it was, with nothing new anywhere. Most cases
call the CLI's ``main`` in this process (fast); those that measure memory, race
two processes or train nets run ``search`` as a real process.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from PIL import Image

from benchmarks.process_memory import Measured, measure_search
from evaluators.data import DatasetError, load_dataset
from search.cli import main
from tests.test_cli_run import QUICK, environment, one_line_error, search, start
from tests.test_data_torchvision_sets import write_cifar10

REPO = Path(__file__).resolve().parent.parent
SPACE = REPO / "benchmarks" / "spaces" / "tabular.yaml"  # 512 small nets: quick to train at 32 px
# A generous budget: on a loaded machine a 32-pixel net can take longer than 500 ms, and an infeasible one is not trained.
RUN_ARGS = ["--space", "tiny.yaml", "--searcher", "random", "--budget", "10s", "--no-baselines", *QUICK]
# A refused command's whole-process peak (the issue measured 3.4 and 4.45 GB from files under 1 KB). Such a command
# never imports torch, which alone peaks at 0.63 GB in the development venv and 0.88 GB in a fresh CI venv.
WHOLE_PROCESS_LIMIT_MB = 1024


# ---- helpers ---------------------------------------------------------------------------


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` and the digest of its bytes.

    Left out: the test's cache folder, and the content of a run folder's
    ``.lock``, which a process that locks the folder writes its PID into.
    """
    return {
        str(path.relative_to(root)): "" if path.name == ".lock" else hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "cache" not in path.relative_to(root).parts
    }


def cli(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str]:
    """``search ARGS`` in this process: the exit code and stderr."""
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().err


def refused(capsys: pytest.CaptureFixture, root: Path, *args: str) -> str:
    """Run ``search ARGS`` in ``root``; assert the one-line refusal and that no file changed; return the line."""
    before = tree(root)
    code, stderr = cli(capsys, *args)
    lines = stderr.strip().splitlines()
    assert code == 2, (code, stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("search: error: "), stderr[-2000:]
    assert len(lines[0]) <= 1_100  # a message never carries an unbounded user value
    assert tree(root) == before  # earlier results intact, nothing created
    return lines[0]


def measured_search(tmp_path: Path, *args: str) -> Measured:
    """``search ARGS`` as a real process in ``tmp_path``: its exit, whole-process peak memory and whether it imported torch."""
    return measure_search(list(args), tmp_path, environment(tmp_path))


def refused_without_torch(tmp_path: Path, *args: str) -> tuple[str, Measured]:
    """``search ARGS`` as a real process in ``tmp_path``: refused in one line, and torch never imported."""
    measured = measured_search(tmp_path, *args)
    line = one_line_error(measured.result)
    assert not measured.torch_imported, (args, line)
    return line, measured


def refused_lightly(tmp_path: Path, *args: str) -> str:
    """``search ARGS`` as a real process: refused in one line, without importing torch, under the memory limit."""
    line, measured = refused_without_torch(tmp_path, *args)
    assert measured.peak_mb < WHOLE_PROCESS_LIMIT_MB, (args, measured.peak_mb)
    return line


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real two-trial run of a small space file, made once; tests copy it."""
    root = tmp_path_factory.mktemp("finished")
    shutil.copy(SPACE, root / "tiny.yaml")
    result = search(root, "run", "--name", "earlier", "--trials", "2", *RUN_ARGS, timeout=1800)  # minutes on a busy VM
    assert result.returncode == 0, result.stderr[-3000:]
    return root


@pytest.fixture
def earlier(finished_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the finished run's working folder as this test's working folder."""
    shutil.copytree(finished_run, tmp_path / "work", ignore=shutil.ignore_patterns("cache"))
    monkeypatch.chdir(tmp_path / "work")
    return tmp_path / "work"


def run_dir(root: Path) -> Path:
    return root / "results" / "earlier"


def records(run: Path) -> list[dict]:
    study = optuna.load_study(study_name=run.name, storage=f"sqlite:///{run / 'study.db'}")
    return [dict(t.user_attrs.get("record", {}), number=t.number, optuna_state=t.state.name) for t in study.get_trials()]


# ---- 1. no code from a data file -------------------------------------------------------


class _RunsCode:
    """Unpickling this calls ``os.system``: the classic malicious pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("victim", ["data_batch_1", "test_batch", "batches.meta"])
def test_a_crafted_cifar_file_runs_no_code(tmp_path: Path, victim: str) -> None:
    write_cifar10(tmp_path, np.random.default_rng(0))
    marker = tmp_path / "pwned"
    (tmp_path / "cifar-10-batches-py" / victim).write_bytes(pickle.dumps({"data": _RunsCode(marker)}, protocol=2))
    with pytest.raises(DatasetError, match="posix.system|os.system"):
        load_dataset("cifar10", data_root=tmp_path)
    assert not marker.exists()


def test_a_cifar_file_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    write_cifar10(tmp_path, np.random.default_rng(0))
    batch = {"data": np.zeros((2, 100), dtype=np.uint8), "labels": [0, 1]}
    (tmp_path / "cifar-10-batches-py" / "data_batch_2").write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(DatasetError, match="data_batch_2: 'data' is not an N x 3072 uint8 array"):
        load_dataset("cifar10", data_root=tmp_path)


def test_a_crafted_cifar_file_is_one_line_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    write_cifar10(tmp_path / "data", np.random.default_rng(0))
    marker = tmp_path / "pwned"
    (tmp_path / "data" / "cifar-10-batches-py" / "data_batch_1").write_bytes(pickle.dumps(_RunsCode(marker), protocol=2))
    line = refused(capsys, tmp_path, "run", "--dataset", "cifar10", "--data-root", "data")
    assert "cifar10: could not read" in line and not marker.exists()


# ---- 2. one process owns a run folder --------------------------------------------------


def wait_until(condition, process: subprocess.Popen, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"the run ended before {what}: {process.communicate()[1][-2000:]}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def lock_owner(run: Path) -> str:
    try:
        return (run / ".lock").read_text().strip()
    except OSError:
        return ""


def test_a_live_run_refuses_a_second_resume_and_an_overwrite(earlier: Path) -> None:
    run = run_dir(earlier)
    owner = start(earlier, "run", "--name", "earlier", "--resume", "--trials", "200", *RUN_ARGS)
    try:
        wait_until(lambda: lock_owner(run) == str(owner.pid), owner, "the run took its lock")
        for extra in (["--resume", "--trials", "200"], ["--overwrite", "--trials", "1"]):
            line = one_line_error(search(earlier, "run", "--name", "earlier", *extra, *RUN_ARGS, timeout=300))
            assert f"is in use by another search (process {owner.pid})" in line
        assert owner.poll() is None and (run / "run.json").is_file()  # the live run was not disturbed
    finally:
        owner.send_signal(signal.SIGINT)
        owner.communicate(timeout=300)
    assert owner.returncode == 130
    numbers = [r["number"] for r in records(run)]
    assert len(numbers) == len(set(numbers))


def test_two_resumes_started_together_train_each_net_once(earlier: Path) -> None:
    run = run_dir(earlier)
    racers = [start(earlier, "run", "--name", "earlier", "--resume", "--trials", "4", "--quiet", *RUN_ARGS) for _ in range(2)]
    outcomes = [(p.wait(timeout=600), p.communicate()[1]) for p in racers]
    codes = sorted(code for code, _ in outcomes)
    assert codes[0] == 0, outcomes
    for code, stderr in outcomes:  # the other either waited for nothing (all done) or was refused in one line
        assert code == 0 or (code == 2 and "is in use by another search" in stderr and len(stderr.strip().splitlines()) == 1)
    finished = [r for r in records(run) if r.get("state") in ("complete", "infeasible", "failed")]
    new_nets = [r for r in finished if r.get("duplicate_of") is None]
    assert len(new_nets) == 4
    digests = [r["digest"] for r in new_nets if r.get("digest")]
    assert len(digests) == len(set(digests))  # no net trained twice
    assert not [r for r in records(run) if r["optuna_state"] == "RUNNING"]


def test_a_lock_left_by_a_dead_process_is_not_in_the_way(earlier: Path, capsys: pytest.CaptureFixture) -> None:
    (run_dir(earlier) / ".lock").write_text("999999999\n")  # no process holds a flock on it
    code, stderr = cli(capsys, "run", "--name", "earlier", "--resume", "--trials", "2", "--quiet", *RUN_ARGS)
    assert code == 0, stderr[-2000:]


# ---- 3. validated before the folder is touched; a failing trial is data -----------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--max-params", "0.4"], "--max-params '0.4' is less than 1"),
        (["--max-macs", "0.0004k"], "--max-macs '0.0004k' is less than 1"),
        (["--dataset-option", "size=40", "--proxy-batch-size", "100"], "--proxy-batch-size 100 is more than the"),
        (["--storage", "nosuchdb://x/y"], "--storage 'nosuchdb://x/y' cannot be used"),
        (["--storage", "sqlite:////no/such/folder/x.db"], "cannot be used: unable to open database file"),
        (["--storage", "not a url at all"], "--storage 'not a url at all' cannot be used"),
    ],
)
def test_bad_settings_never_replace_an_earlier_run(earlier: Path, capsys: pytest.CaptureFixture,
                                                    arguments: list[str], message: str) -> None:
    line = refused(capsys, earlier, "run", "--name", "earlier", "--overwrite", "--trials", "1", *RUN_ARGS, *arguments)
    assert message in line


@pytest.mark.parametrize("damage", ["corrupt", "not a folder"])
def test_a_bad_latency_cache_is_refused_before_any_folder_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture, damage: str) -> None:
    monkeypatch.chdir(tmp_path)
    if damage == "corrupt":
        (tmp_path / "cache").mkdir()
        (tmp_path / "cache" / "latency.sqlite").write_bytes(b"this is not a database" * 100)
        monkeypatch.setenv("CONVSPACE_CACHE", str(tmp_path / "cache"))
    else:
        (tmp_path / "blocker").write_text("a file where the cache folder should be")
        monkeypatch.setenv("CONVSPACE_CACHE", str(tmp_path / "blocker" / "cache"))
    line = refused(capsys, tmp_path, "run", "--name", "new", "--trials", "1", *QUICK)
    assert "the latency cache" in line and "CONVSPACE_CACHE" in line
    assert not (tmp_path / "results").exists()


def test_a_failing_trial_is_recorded_and_the_run_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture) -> None:
    from search.run.evaluate import CandidateEvaluator

    def broken(self, spec, **options):
        raise ZeroDivisionError("division by zero")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(CandidateEvaluator, "evaluate", broken)
    code, stderr = cli(capsys, "run", "--name", "broken", "--trials", "2", "--quiet", "--no-baselines", *QUICK)
    assert code == 0, stderr[-2000:]
    trials = records(tmp_path / "results" / "broken")
    assert [r["optuna_state"] for r in trials] == ["FAIL", "FAIL"]  # none stranded in RUNNING
    assert all(r["state"] == "failed" and "ZeroDivisionError: division by zero" in r["error"] for r in trials)


def test_a_failed_overwrite_puts_the_old_run_back(earlier: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture) -> None:
    from search.errors import UserError

    def no_study(*args: object, **kwargs: object) -> None:
        raise UserError("the study could not be opened")

    monkeypatch.setattr("search.run.session.open_study", no_study)  # fails after the new folder exists
    line = refused(capsys, earlier, "run", "--name", "earlier", "--overwrite", "--trials", "1", *RUN_ARGS)
    assert "the study could not be opened" in line
    assert sorted(p.name for p in (earlier / "results").iterdir()) == ["earlier"]


# ---- 4. a resumed run proposes new nets -----------------------------------------------


def test_a_resumed_run_of_n_more_trials_trains_n_new_nets(earlier: Path, capsys: pytest.CaptureFixture) -> None:
    before = {r["digest"] for r in records(run_dir(earlier))}
    code, stderr = cli(capsys, "run", "--name", "earlier", "--resume", "--trials", "5", "--quiet", *RUN_ARGS)
    assert code == 0, stderr[-2000:]
    new_nets = [r for r in records(run_dir(earlier)) if r.get("duplicate_of") is None]
    assert len(new_nets) == 5
    trained_now = [r["digest"] for r in new_nets if r["digest"] not in before]
    assert len(trained_now) == 3 and len(set(trained_now)) == 3


# ---- 5. a changed space file ----------------------------------------------------------


def test_a_resume_with_a_changed_space_file_names_the_change(earlier: Path, capsys: pytest.CaptureFixture) -> None:
    space = earlier / "tiny.yaml"
    space.write_text(space.read_text().replace("width: [16, 32]", "width: [16, 24]"))
    line = refused(capsys, earlier, "run", "--name", "earlier", "--resume", "--trials", "3", *RUN_ARGS)
    assert "space 'tiny.yaml' has changed since the run started (stage0.width '{16, 32}' -> '{16, 24}')" in line


def test_a_resume_under_another_proxy_recipe_is_refused_and_one_from_before_the_record_goes_on(
        earlier: Path, capsys: pytest.CaptureFixture) -> None:
    from evaluators.proxy.settings import RECIPE_VERSION

    stored = json.loads((run_dir(earlier) / "run.json").read_text())
    assert stored["environment"]["proxy_recipe"] == RECIPE_VERSION  # every run records its recipe
    stored["environment"]["proxy_recipe"] = "2026-01-01"
    (run_dir(earlier) / "run.json").write_text(json.dumps(stored))
    line = refused(capsys, earlier, "run", "--name", "earlier", "--resume", "--trials", "3", *RUN_ARGS)
    assert "proxy recipe '2026-01-01' is not this version's" in line and RECIPE_VERSION in line
    del stored["environment"]["proxy_recipe"]  # a run from before the record: nothing to compare
    (run_dir(earlier) / "run.json").write_text(json.dumps(stored))
    code, stderr = cli(capsys, "run", "--name", "earlier", "--resume", "--trials", "3", "--quiet", *RUN_ARGS)
    assert code == 0, stderr[-2000:]
    assert json.loads((run_dir(earlier) / "run.json").read_text())["environment"]["proxy_recipe"] == RECIPE_VERSION


# ---- 6. small files that would take gigabytes ----------------------------------------------


BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")]
    + ["stages: *i", ""]
)


def test_a_yaml_alias_bomb_is_refused_in_little_memory(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_text(BILLION_LAUGHS)
    assert len(BILLION_LAUGHS) < 1024
    assert "expands to more than 100,000 values" in refused_lightly(tmp_path, "run", "--space", "bomb.yaml", "--name", "bomb")
    assert not (tmp_path / "results").exists()


def test_an_image_claiming_too_many_pixels_is_refused_before_decoding(tmp_path: Path) -> None:
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        for index in range(2):
            Image.new("RGB", (8, 8)).save(tmp_path / label / f"{index}.png")
    Image.new("1", (10_000, 6_000)).save(tmp_path / "a" / "huge.png")  # 60 megapixels in a few kilobytes
    with pytest.raises(DatasetError, match=r"huge.png is 10000x6000, more than 50,000,000 pixels"):
        load_dataset(f"imagefolder:{tmp_path}")


HOSTILE_SPACE_FILES = [
        ("stages:\n  - {stride: 2, depth: 1000000, block: conv, width: 8}\n", "depth: 1000000 is not allowed"),
        ("stages:\n  - {stride: 2, depth: 1, block: conv, width: " + "9" * 5000 + "}\n", "a number is too long"),
        ("stages: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("stages: &a [*a]\n", "expands to more than 100,000 values"),
        ("stages:\n  - {stride: 2, depth: 1, block: conv, width: 100000000}\n", "must be at most 1,000,000"),
        ("all_stages: {stride: 1, depth: 1, block: conv, width: 8}\nstages: 3000000\n", "3000000 stages are too many"),
]


@pytest.mark.parametrize(("content", "message"), HOSTILE_SPACE_FILES)
def test_hostile_space_files_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture, content: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "space.yaml").write_text(content)
    assert message in refused(capsys, tmp_path, "spaces", "space.yaml")


def test_every_hostile_space_file_is_refused_by_a_run_in_little_memory(tmp_path: Path) -> None:
    for index, (content, message) in enumerate(HOSTILE_SPACE_FILES):
        (tmp_path / f"space{index}.yaml").write_text(content)
        assert message in refused_lightly(tmp_path, "run", "--space", f"space{index}.yaml", "--name", f"s{index}"), content[:60]
    # `search spaces FILE` reads a space file the same way, before torch loads too.
    assert "depth: 1000000 is not allowed" in refused_lightly(tmp_path, "spaces", "space0.yaml")
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["run", "--trials", "0"], "--trials 0 is not allowed"),
        (["run", "--budget", "9" * 5000], "--budget"),
        (["run", "--searcher", "bayes"], "'bayes' is not one of"),
        (["run", "--runtime", "tensorrt"], "'tensorrt' is not one of"),
        (["run", "--resume", "--name", "absent"], "no run named 'absent' to resume"),
    ],
)
def test_a_refused_run_never_imports_torch(tmp_path: Path, arguments: list[str], message: str) -> None:
    """Bad options and a missing run are refused before torch loads: a fraction of the memory limit."""
    assert message in refused_lightly(tmp_path, *arguments)
    assert list(tmp_path.iterdir()) == []


def test_an_oversized_space_file_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "space.yaml").write_text("# padding\n" * 200_000)
    assert "is over 1,048,576 bytes: too large" in refused(capsys, tmp_path, "spaces", "space.yaml")


# ---- 7. tracebacks instead of one line ------------------------------------------------------


def test_the_zoo_spec_string_of_285_characters_is_described(capsys: pytest.CaptureFixture) -> None:
    assert main(["zoo", "efficientnet_b0", "--json"]) == 0
    spec = json.loads(capsys.readouterr().out)
    assert main(["zoo", "efficientnet_b0"]) == 0
    string = capsys.readouterr().out.splitlines()[1]
    assert len(string) > 255
    assert main(["describe", string]) == 0
    assert "digest" in capsys.readouterr().out and spec


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["describe", "x" * 300], "expected 4 or 5 sections"),
        (["describe", "y" * 300 + ".json"], "does not exist"),
        (["spaces", "s" * 300 + ".yaml"], "File name too long"),
        (["run", "--space", "s" * 300 + ".yaml"], "File name too long"),
        (["run", "--name", "n" * 300], "--name 'nnnnnn"),
        (["run", "--data-root", "d" * 300, "--dataset", "cifar10"], "File name too long"),
        (["run", "--dataset", "imagefolder:" + "i" * 300], "File name too long"),
        (["report", "r" * 300], "File name too long"),
        (["export", "e" * 300, "--trial", "1", "--format", "pt"], "File name too long"),
        (["run", "--budget", "9" * 5000], "--budget"),
        (["describe", "net_r32 | conv_c" + "9" * 5000 + " | conv_c8 | head"], "is not a finite number"),
        (["describe", "net_r32 | conv_c" + "9" * 20 + " | conv_c8 | head"], "must be at most 1,000,000"),
        (["describe", "net_r32 | conv_c16 | mbconv_r1000000_c16 | head"], "must be an integer from 1 to 1000"),
        (["zoo", "mobilenet_v2", "--width-mult", "nan"], "width multiplier = nan is not allowed"),
        (["zoo", "mobilenet_v2", "--width-mult", "inf"], "width multiplier = inf is not allowed"),
    ],
)
def test_long_and_huge_arguments_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture, arguments: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert message in refused(capsys, tmp_path, *arguments)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"stem": ' + "[" * 100_000 + "]" * 100_000 + "}", "nesting too deep"),
        ('{"resolution": ' + "9" * 5000 + "}", "a number too long"),
        (b"\xff\xfe{", "not UTF-8"),
    ],
)
def test_hostile_spec_files_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
                                         content: str | bytes, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "net.json"
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    assert message in refused(capsys, tmp_path, "describe", "net.json")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda run: (run / "run.json").write_bytes(b"\xff\xfe\x00garbage"), "run.json cannot be read"),
        (lambda run: (run / "run.json").write_text("[1, 2]"), "holds a JSON list, not a run record"),
        (lambda run: (run / "run.json").write_text('{"config": "run"}'), "has no configuration"),
        (lambda run: _edit_config(run, trials="5"), "stored setting trials = '5' is not of type int"),
        (lambda run: _edit_config(run, max_params=0), "--max-params 0 is not allowed"),
        (lambda run: _edit_config(run, command=["x"] * 10), "was written by `search"),
        (lambda run: (run / "study.db").write_bytes((run / "study.db").read_bytes()[:5000]), "the run's study"),
        (lambda run: (run / "study.db").write_bytes(b"\0" * 4096), "the run's study"),
    ],
)
def test_damaged_run_files_stop_a_resume_in_one_line(earlier: Path, capsys: pytest.CaptureFixture, damage, message: str) -> None:
    damage(run_dir(earlier))
    assert message in refused(capsys, earlier, "run", "--name", "earlier", "--resume", "--trials", "3", *RUN_ARGS)


def _edit_config(run: Path, **changes: object) -> None:
    record = json.loads((run / "run.json").read_text())
    record["config"].update(changes)
    (run / "run.json").write_text(json.dumps(record))


# ---- 8. export: paths from data files, output paths, file modes ---------------------------


def test_a_baseline_name_from_trials_csv_cannot_escape_the_run(earlier: Path, capsys: pytest.CaptureFixture) -> None:
    table = pd.read_csv(run_dir(earlier) / "trials.csv").astype({"number": object, "baseline": object})
    table.loc[0, "number"], table.loc[0, "baseline"] = None, "../../../escaped"
    table.to_csv(run_dir(earlier) / "trials.csv", index=False)
    line = refused(capsys, earlier, "export", "results/earlier", "--trial", "../../../escaped", "--format", "pt")
    assert "not a plain file name" in line


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--out", "tiny.yaml/net.pt"], "is a file, not a folder"),
        (["--out", "results"], "is a directory"),
        (["--trial", "9" * 5000], "has no baseline"),
    ],
)
def test_export_to_an_impossible_place_is_one_line(earlier: Path, capsys: pytest.CaptureFixture,
                                                   arguments: list[str], message: str) -> None:
    options = {"--trial": "0", "--format": "pt"}
    options.update(dict(zip(arguments[::2], arguments[1::2])))
    flat = [item for pair in options.items() for item in pair]
    assert message in refused(capsys, earlier, "export", "results/earlier", *flat)


def test_a_damaged_trials_table_is_one_line(earlier: Path, capsys: pytest.CaptureFixture) -> None:
    (run_dir(earlier) / "trials.csv").write_bytes(b"\xff\xfe\x00\x01")
    assert "trials" in refused(capsys, earlier, "export", "results/earlier", "--trial", "0", "--format", "pt")


def test_export_as_python_to_any_file_name(earlier: Path, capsys: pytest.CaptureFixture) -> None:
    code, stderr = cli(capsys, "export", "results/earlier", "--trial", "0", "--format", "python", "--out", "net.python")
    assert code == 0, stderr[-2000:]
    assert "class ExportedNet" in (earlier / "net.python").read_text()


def test_run_files_get_the_usual_mode_not_0600(earlier: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    for name in ("run.json", "trials.csv", "trials.parquet", "pareto.csv"):
        assert stat.S_IMODE((run_dir(earlier) / name).stat().st_mode) == 0o666 & ~umask, name
