"""`search run --backend ray`: Ray Tune trials on a local runtime, written to the same run folder.

One Ray runtime is started for the module (in this process) and most runs join it with
``--ray-address``; the fault test lets the command start (and stop) its own local runtime.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import optuna
import pandas as pd
import pytest

from search.cli import main
from search.run.ray_trainable import KILL_TRIAL_ENV
from search.run.evaluate import CONSTRAINT_NAMES
from search.run.records import COLUMNS
from tests.test_cli_run import NO_FINAL, QUICK, environment, search

ray = pytest.importorskip("ray")

COUNTED = {"complete", "infeasible", "failed", "pruned"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> str:
    """A 2-CPU Ray runtime for the module; its workers share one private latency cache."""
    cache = tmp_path_factory.mktemp("ray-cache")
    previous = os.environ.get("CONVSPACE_CACHE")
    os.environ["CONVSPACE_CACHE"] = str(cache)  # inherited by the runtime's workers
    try:
        context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    finally:
        if previous is not None:
            os.environ["CONVSPACE_CACHE"] = previous
    yield context.address_info["gcs_address"]
    ray.shutdown()


def ray_run(tmp_path: Path, address: str | None, *args: str, env: dict[str, str] | None = None):
    joined = ["--ray-address", address] if address else []
    if env is None:
        return search(tmp_path, "run", "--backend", "ray", *joined, *args, *QUICK, timeout=600)
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "search.cli", "run", "--backend", "ray", *joined, *args, *QUICK],
                          cwd=tmp_path, env={**environment(tmp_path), **env}, capture_output=True, text=True, timeout=600)


def study_of(run: Path) -> optuna.Study:
    return optuna.load_study(study_name=run.name, storage=f"sqlite:///{run / 'study.db'}")


def test_ray_run_writes_the_optuna_backends_files_and_a_faithful_study_and_resumes(tmp_path: Path, cluster: str) -> None:
    # Without warm start, so the study holds exactly the searched trials this test counts (tests/test_warm_start.py covers it).
    result = ray_run(tmp_path, cluster, "--workers", "2", "--trials", "3", "--name", "onray", "--max-params", "5M", "--no-warm-start",
                     "--baseline", "mobilenet_v2", *NO_FINAL)
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "results" / "onray"
    before = {t.number: (t.params, t.values, t.user_attrs["record"]) for t in study_of(run).get_trials()}
    assert len(before) == 3
    resumed = search(tmp_path, "run", "--name", "onray", "--resume", "--trials", "4", *QUICK)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    trials = study_of(run).get_trials()
    assert {t.number: (t.params, t.values, t.user_attrs["record"]) for t in trials[:3]} == before  # nothing redone
    assert len(trials) == 4 and trials[3].user_attrs["record"]["state"] in COUNTED
    assert "evaluating baseline" not in (run / "search.log").read_text().split("resumed ray run")[1]
    reference = search(tmp_path, "run", "--trials", "1", "--name", "onoptuna", "--no-baselines", *QUICK, *NO_FINAL)
    assert reference.returncode == 0, reference.stderr[-3000:]
    other = tmp_path / "results" / "onoptuna"
    assert {p.name for p in other.iterdir()} <= {p.name for p in run.iterdir()}
    assert (run / "ray").is_dir() and (run / "baselines.json").is_file()
    stored = json.loads((run / "run.json").read_text())["config"]
    assert (stored["backend"], stored["workers"], stored["ray_address"], stored["trials"]) == ("ray", 2, cluster, 4)

    trials = pd.read_csv(run / "trials.csv")
    assert [c for c in trials.columns if not c.startswith("param_")] == list(COLUMNS)
    assert [c for c in pd.read_csv(other / "trials.csv").columns if not c.startswith("param_")] == list(COLUMNS)
    searched = trials[trials["baseline"].isna()]
    assert sorted(searched["number"]) == [0, 1, 2, 3] and set(searched["state"]) <= {"complete", "infeasible", "failed"}
    assert list(trials["baseline"].dropna()) == ["mobilenet_v2"]

    # The study holds what the optuna backend would: params that rebuild the net, values, constraints.
    from evaluators.data import load_dataset
    from search.spaces import DEFAULT_SPACE, FixedSuggest, SpaceContext, load_space
    from searchspace import encode

    dataset = load_dataset("shapes", resolution=None, size="256", val_size="64")
    context = SpaceContext(in_channels=dataset.in_channels, num_classes=dataset.num_classes, resolution=32)
    space = load_space(DEFAULT_SPACE)  # the run above names no space
    for trial in study_of(run).get_trials():
        record = trial.user_attrs["record"]
        assert encode(space.sample(FixedSuggest(trial.params), context)) == record["spec"]
        if record["state"] == "complete":
            assert trial.values == pytest.approx([record["quality"], record["latency_ms"]])  # the run's score
            # The one constraints list optuna and optuna-dashboard both read, in CONSTRAINT_NAMES order.
            assert trial.system_attrs["constraints"][CONSTRAINT_NAMES.index("params")] == pytest.approx(record["params"] / 5e6 - 1.0)
    listed = pd.read_csv(run / "pareto.csv", dtype={"pareto": bool})  # an empty front reads as text otherwise
    front = listed[listed["pareto"]]  # the rest left the front after re-measurement, each with its reason
    assert listed[~listed["pareto"]]["left_front"].notna().all()
    assert set(front["number"]) == set(searched[searched["pareto"]]["number"])
    assert (front["params"] <= 5e6).all()


def test_a_killed_worker_is_a_failed_trial_and_the_run_finishes(tmp_path: Path) -> None:
    # No --ray-address: the command starts its own local runtime (and must stop it to exit).
    result = ray_run(tmp_path, None, "--workers", "2", "--trials", "3", "--name", "faulty", "--no-baselines", *NO_FINAL,
                     env={KILL_TRIAL_ENV: "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    trials = pd.read_csv(tmp_path / "results" / "faulty" / "trials.csv").set_index("number")
    assert sorted(trials.index) == [0, 1, 2]
    assert trials.loc[1, "state"] == "failed" and "worker failed" in trials.loc[1, "error"]
    assert set(trials.loc[[0, 2], "state"]) <= {"complete", "infeasible"}
    assert study_of(tmp_path / "results" / "faulty").trials[1].state == optuna.trial.TrialState.FAIL


def test_asha_prunes_by_proxy_epochs_and_records_the_epochs_run(tmp_path: Path, cluster: str) -> None:
    result = ray_run(tmp_path, cluster, "--workers", "1", "--trials", "4", "--name", "asha", "--no-baselines",
                     "--scheduler", "asha", "--proxy-epochs", "2", *NO_FINAL)
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "results" / "asha"
    # Ray's own results: how many epochs each trial reported, and whether it reached its final report.
    reported = {}
    for path in (run / "ray" / "tune").glob("*/result.json"):
        results = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        reported[results[0]["config"]["_number"]] = (results[-1]["final"], results[-1].get("epoch"))
    stopped = {number: epoch for number, (final, epoch) in reported.items() if not final}
    assert stopped, "ASHA stopped no trial: the test no longer exercises pruning"
    trials = pd.read_csv(run / "trials.csv").set_index("number")
    pruned = trials[trials["state"] == "pruned"]
    assert {int(n): int(e) for n, e in pruned["epochs"].items()} == stopped
    assert (pruned["epochs"] < 2).all() and pruned["accuracy"].notna().all()
    states = {t.number: t.state for t in study_of(run).get_trials()}
    assert all(states[n] == optuna.trial.TrialState.PRUNED for n in stopped)


@pytest.mark.parametrize("args, message", [
    (["--workers", "2"], "--backend ray"),
    (["--ray-address", "auto"], "--backend ray"),
    (["--backend", "ray", "--scheduler", "asha", "--proxy", "synflow"], "needs --proxy training"),
    (["--backend", "ray", "--gpus-per-trial", "0.5"], "needs a GPU"),
    (["--backend", "ray", "--workers", "0"], "--workers 0"),
])
def test_bad_ray_options_are_one_line_errors_and_create_nothing(tmp_path: Path, capsys, monkeypatch, args, message) -> None:
    import torch

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["run", "--name", "bad", *args, *QUICK]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("search: error: ") and message in err[0]
    assert not (tmp_path / "results" / "bad").exists()


def test_the_per_epoch_hook_sees_each_epoch_as_the_result_records_it() -> None:
    from evaluators.data import load_dataset
    from evaluators.proxy import ProxySettings, train
    from searchspace import decode

    dataset = load_dataset("shapes", resolution=16, size="128", val_size="32")
    seen = []
    # The spec is adapted to the data's channels and classes by train() itself.
    result = train(decode("net_r16_i3_n4 | conv_s2_c8 | conv_s2_c16 | head"), dataset,
                   ProxySettings(epochs=2, batch_size=32, eval_each_epoch=True), on_epoch=seen.append)
    assert seen == list(result.history) and [e.epoch for e in seen] == [1, 2]
    assert all(e.val_accuracy is not None for e in seen)


def test_ray_trials_are_screened_by_the_latency_predictor_and_it_is_refitted_as_in_the_optuna_backend(
        tmp_path: Path, cluster: str) -> None:
    from evaluators.devices import device_name
    from evaluators.latency import LatencyCache
    from evaluators.latency.cache import CACHE_FILE_NAME
    from evaluators.latency.predictor import MIN_MEASUREMENTS
    from search.run.latency_model import REFIT_EVERY
    from tests.latency_support import synthetic_result
    from tests.predictor_support import tiny_nets

    # This machine's cache (the driver's) holds enough measurements for a fit: every net took a second.
    cache = LatencyCache(tmp_path / "cache" / CACHE_FILE_NAME)
    nets = list({net.digest(): net for net in tiny_nets(3 * MIN_MEASUREMENTS, seed=5)}.values())[:MIN_MEASUREMENTS]
    for net in nets:
        cache.put(synthetic_result(net.digest(), device=device_name("cpu"), median_ms=1000.0), spec_json=net.to_json())
    result = ray_run(tmp_path, cluster, "--workers", "2", "--trials", str(REFIT_EVERY), "--name", "predicted",
                     "--no-baselines", "--budget", "1ms", "--final-seeds", "0")
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "results" / "predicted"
    trials = pd.read_csv(run / "trials.csv")
    assert len(trials) == REFIT_EVERY
    # Rejected in the driver on the prediction alone: nothing measured, nothing trained.
    assert set(trials["state"]) == {"infeasible"} and set(trials["latency_source"]) == {"predicted"}
    assert trials["error"].str.contains("predicted latency").all() and trials["accuracy"].isna().all()
    fitted = [line for line in (run / "search.log").read_text().splitlines() if "latency predictor fitted" in line]
    assert len(fitted) == 2  # at the start, and again after REFIT_EVERY trials
    saved = json.loads((run / "latency_model.json").read_text())
    assert saved["metadata"]["training_measurements"] == MIN_MEASUREMENTS


def test_sigterm_stops_a_ray_run_cleanly_and_resume_finishes_it(tmp_path: Path, cluster: str) -> None:
    import signal
    import subprocess
    import sys

    from tests.test_cli_run import wait_for_trials

    args = ["run", "--backend", "ray", "--ray-address", cluster, "--workers", "1", "--trials", "4", "--name", "stopped",
            "--no-baselines", "--final-seeds", "0"]
    run = tmp_path / "results" / "stopped"
    process = subprocess.Popen([sys.executable, "-m", "search.cli", *args, *QUICK], cwd=tmp_path,
                               env=environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_trials(run, 1, process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr[-3000:]
    assert "interrupted" in stderr and "--resume" in stderr and "Traceback" not in stderr
    stopped = pd.read_csv(run / "trials.csv")
    assert (stopped["state"].isin(["complete", "infeasible", "failed"])).sum() >= 1
    assert set(stopped["state"]) <= COUNTED | {"interrupted"}  # nothing left running

    resumed = search(tmp_path, *args, "--resume", *QUICK, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    trials = pd.read_csv(run / "trials.csv")
    finished = trials[trials["state"].isin(COUNTED) & trials["duplicate_of"].isna()]
    assert len(finished) == 4  # the trials asked for, across both processes
    assert finished["digest"].is_unique  # none evaluated twice
    kept = stopped[stopped["state"].isin(COUNTED)].set_index("number")
    assert trials.set_index("number").loc[kept.index, "digest"].tolist() == kept["digest"].tolist()
