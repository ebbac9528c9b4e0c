"""The proxy-fidelity benchmark's statistics, on synthetic logs whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import kendalltau, rankdata, spearmanr

from benchmarks.fidelity.analysis import PAIRED_WITH_DEFAULT, PAIRED_WITH_DEFAULT_SCORE, PAIRED_WITH_MACS, SIZE_BIAS, correlation, paired_difference, summarise
from benchmarks.fidelity.jobs import read_log, read_log_lines, run_all
from benchmarks.fidelity.picks import top_k_contains_best
from benchmarks.fidelity.variants import BY_NAME, DEFAULT_PROXY, PROXIES, REFERENCE
from search.run.scores import ACCURACY_X_LIKELIHOOD


def synthetic_log(reference: np.ndarray, proxy: np.ndarray, noise: float = 0.0) -> tuple[dict, list[dict]]:
    rng = np.random.default_rng(0)
    nets = [{"label": f"net-{i}", "known": i < 2} for i in range(len(reference))]
    rows = {}
    for i, net in enumerate(nets):
        for seed in (0, 1):
            value = float(reference[i] + noise * rng.standard_normal())
            rows[f"{net['label']}|{REFERENCE.name}|{seed}"] = {"accuracy": value}
        # A proxy whose loss curve is the mirror image of its accuracy.
        rows[f"{net['label']}|{PROXIES[0].name}|0"] = {"accuracy": float(proxy[i]), "tse": float(-proxy[i]), "wall_seconds": 1.0}
    return rows, nets


def test_correlation_agrees_with_scipy_and_its_interval_holds_the_estimate():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(30)
    y = x + rng.standard_normal(30)
    figures = correlation(x, y, seed=0)
    assert figures["spearman"] == pytest.approx(spearmanr(x, y).statistic, abs=1e-4)
    assert figures["kendall"] == pytest.approx(kendalltau(x, y).statistic, abs=1e-4)
    low, high = figures["spearman_ci95"]
    assert low < figures["spearman"] < high


def test_a_paired_difference_is_the_gap_between_scipys_correlations_and_narrower_than_independent_intervals_give():
    rng = np.random.default_rng(2)
    reference = rng.standard_normal(30)
    shared = rng.standard_normal(30)  # noise both proxies share, which pairing cancels
    better, worse = reference + shared + 0.3 * rng.standard_normal(30), reference + shared + 1.5 * rng.standard_normal(30)
    figures = paired_difference(better, worse, reference, seed=0)
    expected = spearmanr(better, reference).statistic - spearmanr(worse, reference).statistic
    assert figures["spearman_difference"] == pytest.approx(expected, abs=1e-4)
    low, high = figures["ci95"]
    assert low < figures["spearman_difference"] < high
    assert paired_difference(better, better, reference, seed=0)["ci95"] == [0.0, 0.0]
    # Were the two correlations independent, the difference's interval would be about this wide; shared nets covary.
    separate = [correlation(score, reference, seed=0)["spearman_ci95"] for score in (better, worse)]
    assert high - low < np.hypot(*[hi - lo for lo, hi in separate])


def test_the_loss_floor_is_the_smoothed_targets_entropy_as_scipy_computes_it():
    from scipy.stats import entropy

    from benchmarks.fidelity.analysis import smoothed_target_entropy

    for classes, smoothing in ((10, 0.1), (100, 0.1), (10, 0.3)):
        target = np.full(classes, smoothing / classes)
        target[0] += 1 - smoothing
        assert smoothed_target_entropy(classes, smoothing) == pytest.approx(entropy(target))
    # The floor is real: cross-entropy against the smoothed target is least when the prediction is the target.
    logits = torch.log(torch.tensor([0.91] + [0.01] * 9))
    loss = torch.nn.functional.cross_entropy(logits[None], torch.tensor([0]), label_smoothing=0.1)
    assert float(loss) == pytest.approx(smoothed_target_entropy(10, 0.1), abs=1e-5)


def test_the_seed_gap_is_split_by_whether_the_reference_fitted_the_net():
    from benchmarks.fidelity.analysis import FITTED_MARGIN, seed_gap_by_fit, smoothed_target_entropy

    floor = smoothed_target_entropy(10, 0.1)
    labels = [f"net-{i}" for i in range(6)]
    # Three nets fitted (seeds 1 point apart), three left underfitting (seeds 10, 20, 30 points apart).
    per_seed = np.array([[0.90, 0.91], [0.80, 0.81], [0.70, 0.71], [0.50, 0.60], [0.40, 0.60], [0.30, 0.60]])
    losses = [floor + 0.1, floor + 0.2, floor + FITTED_MARGIN - 0.01, floor + 0.5, floor + 0.7, floor + 0.9]
    rows = {f"{label}|{REFERENCE.name}|{seed}": {"accuracy": per_seed[i, seed], "final_loss": losses[i]}
            for i, label in enumerate(labels) for seed in (0, 1)}
    split = seed_gap_by_fit(rows, labels, per_seed, REFERENCE.name)
    assert split["fitted"] == {"nets": 3, "median": 1.0, "max": 1.0}
    assert split["underfit"] == {"nets": 3, "median": 20.0, "max": 30.0}
    assert split["gap_against_loss"]["spearman"] == pytest.approx(spearmanr([1, 1, 1, 10, 20, 30], losses).statistic, abs=1e-4)
    del rows[f"net-0|{REFERENCE.name}|1"]["final_loss"]
    assert seed_gap_by_fit(rows, labels, per_seed, REFERENCE.name) is None  # an unknown loss splits nothing


def test_training_free_scores_are_judged_whatever_else_their_rows_record():
    """A zero-cost row as run_job writes it carries the code and device beside the scores; only scores are judged."""
    reference = np.linspace(0.3, 0.9, 8)
    rows, nets = synthetic_log(reference, reference)
    rng = np.random.default_rng(1)
    noise = rng.standard_normal(len(reference))
    for i, net in enumerate(nets):
        rows[f"{net['label']}|zero_cost|0"] = {
            "key": f"{net['label']}|zero_cost|0", "label": net["label"], "variant": "zero_cost", "seed": 0, "wall_seconds": 1.0,
            "code": "0123456789ab+changes", "device": "cpu", "synflow": float(reference[i]), "synflow_seconds": 0.1,
            "naswot": float(noise[i]), "macs": float(-reference[i]), "snip": None, "snip_error": "no gradient"}
    scores = summarise(rows, nets)["training_free"]["scores"]
    assert set(scores) == {"synflow", "naswot", "macs", "snip", "zero_cost_rank_sum"}
    assert scores["synflow"]["spearman"] == 1.0 and scores["macs"]["spearman"] == -1.0
    assert scores["naswot"]["spearman"] == pytest.approx(spearmanr(noise, reference).statistic, abs=1e-4)

    # With the default proxy in the log, each score is also set against its accuracy on the same nets.
    default_accuracy = reference + 0.2 * rng.standard_normal(len(reference))
    for i, net in enumerate(nets):
        rows[f"{net['label']}|{DEFAULT_PROXY}|0"] = {"accuracy": float(default_accuracy[i]), "tse": 0.0, "wall_seconds": 1.0}
    summary = summarise(rows, nets)
    expected = 1.0 - spearmanr(default_accuracy, reference).statistic
    assert summary["training_free"]["scores"]["synflow"][PAIRED_WITH_DEFAULT]["spearman_difference"] == pytest.approx(expected, abs=1e-4)
    assert summary["proxies"][PROXIES[0].name]["scores"]["accuracy"][PAIRED_WITH_DEFAULT]["spearman_difference"] == pytest.approx(expected, abs=1e-4)
    assert PAIRED_WITH_DEFAULT not in summary["proxies"][DEFAULT_PROXY]["scores"]["accuracy"]
    # and against MACs, the free baseline (here the exact reverse of the reference): the default's accuracy gains 1 + its Spearman.
    beats_macs = summary["proxies"][DEFAULT_PROXY]["scores"]["accuracy"][PAIRED_WITH_MACS]["spearman_difference"]
    assert beats_macs == pytest.approx(1.0 + spearmanr(default_accuracy, reference).statistic, abs=1e-4)
    assert PAIRED_WITH_MACS not in summary["training_free"]["scores"]["macs"]
    assert PAIRED_WITH_DEFAULT_SCORE not in summary["training_free"]["scores"]["synflow"]  # no held-out loss logged

    # With held-out losses, each score is also set against the default's search score, as search.run.scores makes it.
    losses = rng.uniform(0.1, 2.0, len(reference))
    for i, net in enumerate(nets):
        rows[f"{net['label']}|{DEFAULT_PROXY}|0"]["val_loss"] = float(losses[i])
    summary = summarise(rows, nets)
    search_score = default_accuracy * np.exp(-losses)
    expected = 1.0 - spearmanr(search_score, reference).statistic
    assert summary["training_free"]["scores"]["synflow"][PAIRED_WITH_DEFAULT_SCORE]["spearman_difference"] == pytest.approx(expected, abs=1e-4)
    assert PAIRED_WITH_DEFAULT_SCORE not in summary["proxies"][DEFAULT_PROXY]["scores"]["accuracy_x_likelihood"]


def test_without_training_free_rows_the_macs_baseline_comes_from_the_net_list():
    reference = np.linspace(0.3, 0.9, 8)
    proxy = reference[::-1].copy()
    rows, nets = synthetic_log(reference, proxy)
    figures = summarise(rows, nets)["proxies"][PROXIES[0].name]["scores"]["accuracy"]
    assert PAIRED_WITH_MACS not in figures  # the synthetic nets carry no MACs
    for net, macs in zip(nets, reference):
        net["macs"] = int(1e6 * macs)  # MACs that rank as the reference does
    figures = summarise(rows, nets)["proxies"][PROXIES[0].name]["scores"]["accuracy"]
    assert figures[PAIRED_WITH_MACS]["spearman_difference"] == pytest.approx(-2.0)


def test_a_proxy_that_favours_small_nets_has_a_negative_rank_error_against_macs_as_scipy_computes_it():
    rng = np.random.default_rng(3)
    macs = rng.uniform(20, 800, 30)
    reference = 0.8 + 0.0002 * macs + 0.03 * rng.standard_normal(30)  # bigger nets generalise a little better
    short = reference - 0.0006 * macs  # a short training that leaves the big nets behind
    rows, nets = synthetic_log(reference, short)
    for net, value in zip(nets, macs):
        net["macs"] = int(1e6 * value)
    figures = summarise(rows, nets)["proxies"][PROXIES[0].name]["scores"]["accuracy"]
    expected = spearmanr(rankdata(short) - rankdata(reference), macs).statistic
    assert figures[SIZE_BIAS]["spearman"] == pytest.approx(expected, abs=1e-4) and expected < -0.5
    low, high = figures[SIZE_BIAS]["spearman_ci95"]
    assert low < expected < high < 0
    # Erring towards big nets turns the sign; ranking exactly as the reference does leaves no error to correlate.
    rows, _ = synthetic_log(reference, reference + 0.0006 * macs)
    assert summarise(rows, nets)["proxies"][PROXIES[0].name]["scores"]["accuracy"][SIZE_BIAS]["spearman_ci95"][0] > 0
    rows, _ = synthetic_log(reference, reference)
    assert summarise(rows, nets)["proxies"][PROXIES[0].name]["scores"]["accuracy"][SIZE_BIAS]["spearman"] is None


def test_top_k_looks_for_the_references_best():
    reference = np.array([0.1, 0.9, 0.5, 0.3, 0.2, 0.4, 0.6])
    assert top_k_contains_best(reference, reference)
    assert not top_k_contains_best(-reference, reference)
    tied = np.array([0.9, 0.1, 0.2, 0.3, 0.4, 0.5, 0.9])  # two nets share the first place
    assert top_k_contains_best(np.array([0, 1, 2, 3, 4, 5, 9.0]), tied)


def test_a_perfect_proxy_reaches_one_and_a_reversed_one_minus_one():
    reference = np.linspace(0.5, 0.99, 12)
    for proxy, expected in ((reference, 1.0), (-reference, -1.0)):
        rows, nets = synthetic_log(reference, proxy)
        scores = summarise(rows, nets)["proxies"][PROXIES[0].name]["scores"]
        assert scores["accuracy"]["spearman"] == pytest.approx(expected)
        assert scores["tse"]["spearman"] == pytest.approx(expected)  # oriented so that higher is better
        assert scores["accuracy"]["top5_contains_best"] is (expected > 0)


def test_the_reference_ceiling_falls_and_its_seed_gap_grows_with_seed_noise():
    reference = np.linspace(0.5, 0.99, 20)
    quiet = summarise(*synthetic_log(reference, reference, noise=0.0))["reference"]["seed_to_seed"]["spearman"]
    noisy_summary = summarise(*synthetic_log(reference, reference, noise=0.2))["reference"]
    noisy = noisy_summary["seed_to_seed"]["spearman"]
    assert summarise(*synthetic_log(reference, reference, noise=0.0))["reference"]["seed_gap_points"]["max"] == 0.0
    assert 0 < noisy_summary["seed_gap_points"]["median"] <= noisy_summary["seed_gap_points"]["max"]
    assert quiet == pytest.approx(1.0) and noisy < 0.9
    # Picking by one noisy seed and judging by the other loses points; with no noise the seeds pick the same net.
    level = np.full(20, 0.8)  # nets that differ only by seed noise
    rows, nets = synthetic_log(level, reference, noise=0.05)
    seeds = np.array([[rows[f"{net['label']}|{REFERENCE.name}|{seed}"]["accuracy"] for seed in (0, 1)] for net in nets])
    expected = [round(100 * (seeds[:, 1 - i].max() - seeds[np.argmax(seeds[:, i]), 1 - i]), 1) for i in (0, 1)]
    assert summarise(rows, nets)["reference"]["pick_regret_points_between_seeds"] == expected and min(expected) > 0
    assert summarise(*synthetic_log(reference, reference))["reference"]["pick_regret_points_between_seeds"] == [0.0, 0.0]


def test_an_interim_summary_judges_against_the_first_reference_seed_while_the_second_is_missing():
    reference = np.linspace(0.5, 0.99, 10)
    rows, nets = synthetic_log(reference, reference)
    for net in nets[:7]:  # the second seed is still training for most nets
        del rows[f"{net['label']}|{REFERENCE.name}|1"]
    rows.update({f"net-{i}|{REFERENCE.name}|0": {"accuracy": 1.0 - value} for i, value in enumerate(reference[:3])})
    assert summarise(rows, nets)["nets_with_reference"] == 3 and "proxies" not in summarise(rows, nets)
    interim = summarise(rows, nets, reference_seeds=1)
    assert interim["nets_with_reference"] == 10 and interim["reference_seeds"] == 1
    assert interim["reference"]["seed_to_seed"] is None  # no ceiling from one seed
    first_seed = np.array([rows[f"{net['label']}|{REFERENCE.name}|0"]["accuracy"] for net in nets])
    expected = spearmanr(reference, first_seed).statistic
    assert interim["proxies"][PROXIES[0].name]["scores"]["accuracy"]["spearman"] == pytest.approx(expected, abs=1e-4)


def test_known_nets_are_listed_with_their_weakest_accuracy():
    reference = np.linspace(0.5, 0.99, 6)
    summary = summarise(*synthetic_log(reference, reference))
    assert summary["known_nets"][PROXIES[0].name]["min"] == pytest.approx(0.5)
    assert set(summary["known_nets"][PROXIES[0].name]["accuracy"]) == {"net-0", "net-1"}


@pytest.mark.parametrize("train_size", [1437, 4000, 50000])  # digits, shapes of 5,000, CIFAR-10
def test_the_reference_trains_ten_times_the_longest_proxy_on_any_dataset(train_size):
    # A proxy that does not set the length is measured against a shorter reference, and says so (below).
    longest = max(variant.steps(train_size) for variant in PROXIES if variant.sets_reference_length)
    assert any(not variant.sets_reference_length and variant.steps(train_size) > longest for variant in PROXIES)
    assert BY_NAME[REFERENCE.name].steps(train_size) == 10 * longest
    assert BY_NAME[REFERENCE.name].train_kwargs_for(train_size)["steps"] == 10 * longest


def test_the_digits_reference_is_the_one_measured():
    from evaluators.data import load_dataset

    # results/benchmarks/proxy_fidelity_digits.jsonl holds reference runs of 440 steps: still the same job.
    assert REFERENCE.steps(len(load_dataset("digits", seed=0))) == 440


def test_the_log_keeps_the_last_row_of_each_job(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text('{"key": "a|v|0", "accuracy": 0.1}\n\n{"key": "a|v|0", "accuracy": 0.2}\n')
    assert read_log(log) == {"a|v|0": {"key": "a|v|0", "accuracy": 0.2}}
    assert [row["accuracy"] for row in read_log_lines(log)] == [0.1, 0.2]  # every run of a job, for device_agreement


def test_workers_started_by_spawn_run_every_job_and_log_its_row(tmp_path):
    """The start CUDA needs: a spawned worker imports afresh, so the job and the function must pickle by name."""
    from types import SimpleNamespace

    log = tmp_path / "log.jsonl"
    jobs = [SimpleNamespace(key=f"net-{i}|v|0") for i in range(3)]
    rows = run_all(jobs, log, 2, say=lambda _: None, run=vars, start="spawn")  # vars(job) is a row holding the key
    assert set(rows) == {job.key for job in jobs}
    assert read_log(log) == {job.key: {"key": job.key} for job in jobs}


def test_a_log_replaced_while_jobs_run_still_gets_every_later_row(tmp_path):
    """What ``git stash`` does to a log under a running benchmark: the file is unlinked and written anew."""
    from types import SimpleNamespace

    log = tmp_path / "log.jsonl"
    jobs = [SimpleNamespace(key=f"net-{i}|v|0") for i in range(3)]

    def replace_the_log(_message):
        if log.exists():
            text = log.read_text()
            log.unlink()
            log.write_text(text)

    run_all(jobs, log, 1, say=replace_the_log, run=vars)
    assert read_log(log) == {job.key: {"key": job.key} for job in jobs}


def test_a_job_trained_on_two_devices_shows_how_far_they_land_apart():
    from benchmarks.fidelity.analysis import device_agreement

    lines = [{"key": "a|r|0", "accuracy": 0.90},  # before rows named their device: the CPU
             {"key": "b|r|0", "accuracy": 0.50, "device": "cpu"}, {"key": "c|r|0", "accuracy": 0.70, "device": "cuda:0"},
             {"key": "a|r|0", "accuracy": 0.93, "device": "cuda:0"}, {"key": "b|r|0", "accuracy": 0.46, "device": "cuda:0"},
             {"key": "c|r|0", "failure": "nan", "device": "cpu"}]  # a failure has no accuracy to compare
    found = device_agreement(lines)
    assert found["jobs"] == 2 and found["devices"] == ["cpu", "cuda:0"]
    assert found["points_by_job"] == {"a|r|0": 3.0, "b|r|0": -4.0}
    assert (found["median_abs_points"], found["max_abs_points"]) == (3.5, 4.0)
    assert device_agreement(lines[:3]) is None  # no job on two devices yet


def test_vectorised_rank_statistics_equal_scipys_with_ties():
    from benchmarks.fidelity.analysis import _kendall_rows, _spearman_rows

    rng = np.random.default_rng(2)
    x = rng.integers(0, 5, (6, 15)).astype(float)  # many ties, as in bootstrap resamples
    y = x + rng.integers(0, 3, (6, 15))
    for row in range(6):
        assert _spearman_rows(x, y)[row] == pytest.approx(spearmanr(x[row], y[row]).statistic)
        assert _kendall_rows(x, y)[row] == pytest.approx(kendalltau(x[row], y[row]).statistic)


def test_each_proxy_states_how_many_times_its_steps_the_reference_trained():
    reference = np.linspace(0.5, 0.99, 6)
    rows, nets = synthetic_log(reference, reference)
    for row_key, row in rows.items():
        row["steps"] = 440 if f"|{REFERENCE.name}|" in row_key else 176
    summary = summarise(rows, nets)
    assert summary["proxies"][PROXIES[0].name]["reference_steps_per_proxy_step"] == pytest.approx(2.5)


@pytest.mark.parametrize("train_size", [1437, 1500, 4000])  # digits, the shapes harder set, mnist5k
def test_the_long_reference_trains_ten_times_the_default_proxys_steps(train_size):
    from benchmarks.fidelity.variants import COMMON, DEFAULT_PROXY, REFERENCE_LONG
    from evaluators.proxy import ProxySettings
    from search.run.config import RunConfig

    default = RunConfig(name="t")
    proxy = BY_NAME[DEFAULT_PROXY]
    # The variant judged is the product's own default proxy, not a look-alike.
    kwargs = {**COMMON, **proxy.train_kwargs}
    assert (kwargs["epochs"], kwargs["batch_size"], kwargs["augment"], kwargs["optimizer"]) == (
        default.proxy_epochs, default.proxy_batch_size, default.proxy_augment, default.proxy_optimizer)
    rule = ("adamw_lr", "adamw_weight_decay", "adamw_reference_fan_in", "adamw_fan_in_power", "adamw_max_rate_scale",
            "adamw_pointwise_max_rate_scale")
    assert {name: kwargs[name] for name in rule} == {name: getattr(ProxySettings(), name) for name in rule}
    assert REFERENCE_LONG.steps(train_size) == 10 * proxy.steps(train_size) == 10 * 4 * (train_size // 32)
    assert REFERENCE_LONG.train_kwargs_for(train_size)["steps"] == REFERENCE_LONG.steps(train_size)


def test_a_summary_against_the_long_reference_reads_its_rows_and_only_them():
    from benchmarks.fidelity.variants import REFERENCE_LONG

    reference = np.linspace(0.5, 0.99, 8)
    rows, nets = synthetic_log(reference, reference)
    renamed = {key.replace(f"|{REFERENCE.name}|", f"|{REFERENCE_LONG.name}|"): row for key, row in rows.items()}
    renamed.update({f"net-{i}|{REFERENCE.name}|{seed}": {"accuracy": 1.0 - value}  # the other reference, reversed
                    for i, value in enumerate(reference) for seed in (0, 1)})
    summary = summarise(renamed, nets, reference_variant=REFERENCE_LONG)
    assert summary["reference_variant"] == REFERENCE_LONG.name
    assert summary["proxies"][PROXIES[0].name]["scores"]["accuracy"]["spearman"] == pytest.approx(1.0)
    assert summarise(renamed, nets)["proxies"][PROXIES[0].name]["scores"]["accuracy"]["spearman"] == pytest.approx(-1.0)


def test_the_pilot_runs_every_reference_before_any_proxy_and_refuses_malformed_candidates():
    from benchmarks.harder_set_pilot import PILOT_PROXY, parse_candidate, pilot_jobs
    from benchmarks.fidelity.variants import REFERENCE_LONG

    nets = [{"label": "a", "spec_string": "net | conv_c8 | head"}, {"label": "b", "spec_string": "net | conv_c16 | head"}]
    jobs = pilot_jobs(["shapes:size=1500,difficulty=0.0", "mnist5k"], nets, lambda dataset: 32)
    assert [job.variant for job in jobs] == [REFERENCE_LONG.name] * 4 + [PILOT_PROXY] * 4
    assert jobs[0].dataset_options == (("difficulty", "0.0"), ("size", "1500")) and jobs[2].dataset_options == ()
    assert len({job.key for job in jobs}) == len(jobs)  # one log row per dataset, net and variant
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        parse_candidate("shapes:size")


def test_the_pilot_trains_the_named_reference_where_asked_and_counts_the_nets_it_fitted():
    from benchmarks.fidelity.analysis import FITTED_MARGIN, loss_floor
    from benchmarks.harder_set_pilot import PILOT_PROXY, TRAINED_REFERENCES, pilot_jobs, summarise as summarise_pilot

    assert "reference_long_adamw_4x" in TRAINED_REFERENCES and "reference_best" not in TRAINED_REFERENCES  # a best-of trains nothing
    nets = [{"label": label, "spec_string": "net | conv_c8 | head"} for label in ("a", "b", "c")]
    jobs = pilot_jobs(["shapes:size=1500"], nets, lambda dataset: 32, "reference_long_adamw_4x", "cuda:0")
    assert [job.variant for job in jobs] == ["reference_long_adamw_4x"] * 3 + [PILOT_PROXY] * 3
    assert {job.device for job in jobs} == {"cuda:0"}
    floor = loss_floor()
    rows = {"shapes:size=1500|a|reference_long_adamw_4x|0": {"accuracy": 0.99, "final_loss": floor + 0.01},
            "shapes:size=1500|b|reference_long_adamw_4x|0": {"accuracy": 0.60, "final_loss": floor + FITTED_MARGIN + 0.01},
            "shapes:size=1500|c|reference_long_adamw_4x|0": {"accuracy": 0.95, "final_loss": floor + FITTED_MARGIN - 0.01}}
    entry = summarise_pilot(rows, ["shapes:size=1500"], nets, "reference_long_adamw_4x")["shapes:size=1500"]
    assert entry["reference_done"] == 3 and entry["reference_fitted"] == 2  # b ends above the floor's margin
    assert entry["spread_points"] == pytest.approx(39.0) and entry["spread_reaches_20"]
    assert entry["nets"]["b"]["reference_final_loss"] == pytest.approx(floor + FITTED_MARGIN + 0.01)
    assert floor == pytest.approx(0.5, abs=0.01)  # label smoothing 0.1 over ten classes


@pytest.mark.parametrize("option, says", [(["--net", "no-such-net"], "no such net"), (["--device", "tpu"], "not recognised"),
                                          (["--reference", "reference_best"], "invalid choice")])  # a best-of reference trains nothing
def test_the_pilot_refuses_bad_options_before_touching_its_folder(tmp_path, monkeypatch, capsys, option, says):
    import sys

    from benchmarks import harder_set_pilot

    monkeypatch.setattr(sys, "argv", ["harder_set_pilot", *option, "--output-dir", str(tmp_path / "out")])
    with pytest.raises(SystemExit) as stopped:
        harder_set_pilot.main()
    assert stopped.value.code == 2
    assert says in capsys.readouterr().err.splitlines()[-1]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_variant_is_a_valid_proxy_recipe(name):
    """A misspelt or out-of-range field would otherwise surface only when a worker trains the variant, hours in."""
    from evaluators.proxy import ProxySettings
    from benchmarks.fidelity.variants import COMMON, JOB_FIELDS

    kwargs = BY_NAME[name].train_kwargs_for(1437)
    for job_field in JOB_FIELDS:  # the job's own fields (benchmarks.fidelity.jobs), not settings
        kwargs.pop(job_field, None)
    settings = ProxySettings(**{**COMMON, **kwargs})
    assert settings.total_steps(1437 // settings.batch_size) == BY_NAME[name].steps(1437)


def test_the_best_of_reference_takes_each_nets_better_recipe_per_seed_and_needs_both():
    from benchmarks.fidelity.variants import REFERENCE_BEST

    sgd, adamw = REFERENCE_BEST.best_of
    reference = np.linspace(0.2, 0.9, 8)
    rows, nets = synthetic_log(reference, reference)
    for i in range(8):
        for seed in (0, 1):
            value = rows.pop(f"net-{i}|{REFERENCE.name}|{seed}")["accuracy"]
            # Even nets do better under SGD, odd ones under AdamW; the worse recipe inverts the order.
            worse = 0.1 - value / 10
            rows[f"net-{i}|{sgd}|{seed}"] = {"accuracy": value if i % 2 == 0 else worse}
            rows[f"net-{i}|{adamw}|{seed}"] = {"accuracy": worse if i % 2 == 0 else value}
    del rows[f"net-7|{adamw}|1"]
    summary = summarise(rows, nets, reference_variant=REFERENCE_BEST)
    assert summary["nets_with_reference"] == 7  # net-7 lacks one part's second seed
    assert summary["reference"]["accuracy_min"] == pytest.approx(0.2)
    assert summary["reference"]["best_nets"] == ["net-6"]
    assert summary["proxies"][PROXIES[0].name]["scores"]["accuracy"]["spearman"] == pytest.approx(1.0)
    assert summary["known_nets"][REFERENCE_BEST.name]["accuracy"] == {"net-0": pytest.approx(0.2), "net-1": pytest.approx(0.3)}


def test_every_schedule_trains_real_variants_and_never_a_best_of_reference():
    from benchmarks.proxy_fidelity import SCHEDULES

    for reference, schedule in SCHEDULES.items():
        trained = {variant for variant, _ in schedule if variant != "zero_cost"}
        assert trained <= set(BY_NAME), reference
        assert not any(BY_NAME[variant].best_of for variant in trained), reference
        # A schedule holds the first seed of each reference it is judged against.
        parts = BY_NAME[reference].best_of or (reference,)
        assert all((part, 0) in schedule for part in parts), reference


def test_the_plateau_check_reports_what_doubling_the_reference_changed():
    from benchmarks.fidelity.analysis import reference_plateau, reference_plateaus
    from benchmarks.fidelity.variants import REFERENCE_LONG, REFERENCE_LONG_2X, REFERENCE_LONG_ADAMW, REFERENCE_LONG_ADAMW_2X

    labels = [f"net-{i}" for i in range(6)]
    short = [0.3, 0.5, 0.4, 0.6, 0.7, 0.2]
    rows = {f"{label}|{REFERENCE_LONG.name}|0": {"accuracy": value} for label, value in zip(labels, short)}
    assert reference_plateau(rows, labels, REFERENCE_LONG.name) is None  # nothing trained at twice the length yet
    assert reference_plateaus(rows, labels) is None
    # Twice the steps: every net gains 10 points except net-5, which overtakes all (the order changes).
    rows.update({f"{label}|{REFERENCE_LONG_2X.name}|0": {"accuracy": value + 0.1} for label, value in zip(labels[:5], short)})
    rows[f"net-5|{REFERENCE_LONG_2X.name}|0"] = {"accuracy": 0.9}
    check = reference_plateau(rows, labels, REFERENCE_LONG.name)
    assert check["nets"] == 6
    assert check["mean_gain_points"] == pytest.approx(100 * (0.5 + 0.7) / 6, abs=0.1)
    assert check["accuracy_at_both_lengths"]["net-5"] == [0.2, 0.9]
    assert check["spearman_between_lengths"]["spearman"] == pytest.approx(spearmanr(short, [0.4, 0.6, 0.5, 0.7, 0.8, 0.9]).statistic, abs=1e-4)
    del rows[f"net-0|{REFERENCE_LONG_2X.name}|0"], rows[f"net-1|{REFERENCE_LONG_2X.name}|0"], rows[f"net-2|{REFERENCE_LONG_2X.name}|0"]
    assert "spearman_between_lengths" not in reference_plateau(rows, labels, REFERENCE_LONG.name)  # three nets rank nothing
    # Each reference is checked against its own doubled run: AdamW's rows do not mix with SGD's.
    assert set(reference_plateaus(rows, labels)) == {REFERENCE_LONG.name}
    rows.update({f"net-0|{REFERENCE_LONG_ADAMW.name}|0": {"accuracy": 0.5}, f"net-0|{REFERENCE_LONG_ADAMW_2X.name}|0": {"accuracy": 0.45}})
    both = reference_plateaus(rows, labels)
    assert both[REFERENCE_LONG_ADAMW.name] == {"nets": 1, "mean_gain_points": -5.0, "accuracy_at_both_lengths": {"net-0": [0.5, 0.45]}}
    assert both[REFERENCE_LONG.name]["nets"] == 3


def test_a_best_of_reference_reports_which_part_won_and_how_the_parts_agree():
    from benchmarks.fidelity.analysis import best_of_parts
    from benchmarks.fidelity.variants import REFERENCE_BEST, REFERENCE_LONG

    sgd, adamw = REFERENCE_BEST.best_of
    labels = [f"net-{i}" for i in range(5)]
    rows = {f"{label}|{sgd}|0": {"accuracy": 0.1 * (i + 1)} for i, label in enumerate(labels)}
    rows.update({f"{label}|{adamw}|0": {"accuracy": 0.55 - 0.1 * i} for i, label in enumerate(labels)})  # the reverse order
    parts = best_of_parts(rows, labels, REFERENCE_BEST)
    assert parts["nets"] == 5
    assert parts["wins"] == {sgd: 2, adamw: 3}  # 0.4 > 0.25 and 0.5 > 0.15; 0.55 > 0.1, 0.45 > 0.2, 0.35 > 0.3
    assert parts["spearman_between_parts"]["spearman"] == pytest.approx(-1.0)
    assert best_of_parts(rows, labels, REFERENCE_LONG) is None  # a reference of one recipe has no parts


def test_net_and_only_narrow_the_jobs_to_a_sample_at_twice_the_reference():
    import argparse

    from benchmarks.proxy_fidelity import make_jobs

    nets = [{"label": label, "spec_string": "net | conv_c8 | head"} for label in ("a", "b", "c")]
    args = argparse.Namespace(dataset="shapes", dataset_option=["size=1500"], reference="reference_best",
                              only=["reference_long_2x"], net=["c", "a"], device="cuda:0")
    jobs = make_jobs(args, nets, 32)
    assert [(job.label, job.variant, job.seed) for job in jobs] == [("a", "reference_long_2x", 0), ("c", "reference_long_2x", 0)]
    assert {job.device for job in jobs} == {"cuda:0"} and jobs[0].key == "a|reference_long_2x|0"  # the device is no part of the key
    args.net = None
    assert [job.label for job in make_jobs(args, nets, 32)] == ["a", "b", "c"]


def test_the_jobs_a_schedule_holds_without_rows_are_counted_per_variant_and_seed():
    import argparse

    from benchmarks.fidelity.jobs import jobs_without_rows
    from benchmarks.proxy_fidelity import SCHEDULES, make_jobs

    nets = [{"label": label, "spec_string": "net | conv_c8 | head"} for label in ("a", "b", "c")]
    args = argparse.Namespace(dataset="shapes", dataset_option=[], reference="reference_long_adamw_4x", only=None, net=None, device="cpu")
    jobs = make_jobs(args, nets, 32)
    schedule = SCHEDULES[args.reference]
    assert jobs_without_rows(jobs, {}) == {f"{variant} seed {seed}": 3 for variant, seed in schedule}
    rows = {job.key: {"accuracy": 0.5} for job in jobs if job.label == "a"}
    first_variant, first_seed = schedule[0]
    rows[f"b|{first_variant}|{first_seed}"] = {"failure": "nan"}  # a job that ran and failed is not missing
    missing = jobs_without_rows(jobs, rows)
    assert missing[f"{first_variant} seed {first_seed}"] == 1
    assert all(count == 2 for name, count in missing.items() if name != f"{first_variant} seed {first_seed}")
    assert jobs_without_rows(jobs, {job.key: {} for job in jobs}) == {}


@pytest.mark.parametrize("train_size", [1438, 1150])
def test_each_doubling_of_the_adamw_reference_trains_twice_the_steps_of_the_last(train_size):
    from benchmarks.fidelity.variants import AT_TWICE_THE_LENGTH, REFERENCE_LONG_ADAMW, REFERENCE_LONG_ADAMW_2X, REFERENCE_LONG_ADAMW_4X

    assert (REFERENCE_LONG_ADAMW_2X.name, REFERENCE_LONG_ADAMW_4X.name) == ("reference_long_adamw_2x", "reference_long_adamw_4x")
    steps = [variant.steps(train_size) for variant in (REFERENCE_LONG_ADAMW, REFERENCE_LONG_ADAMW_2X, REFERENCE_LONG_ADAMW_4X)]
    assert steps[1] == 2 * steps[0] and steps[2] == 2 * steps[1]
    assert REFERENCE_LONG_ADAMW_4X.train_kwargs_for(train_size) == {**REFERENCE_LONG_ADAMW.train_kwargs, "steps": steps[2]}
    # The plateau check walks the chain: 1x against 2x, 2x against 4x.
    assert AT_TWICE_THE_LENGTH[REFERENCE_LONG_ADAMW.name] == REFERENCE_LONG_ADAMW_2X.name
    assert AT_TWICE_THE_LENGTH[REFERENCE_LONG_ADAMW_2X.name] == REFERENCE_LONG_ADAMW_4X.name


def test_the_adamw_references_shorter_versions_are_judged_as_proxies_against_it():
    from benchmarks.fidelity.analysis import AGAINST_EACH_SEED
    from benchmarks.fidelity.variants import REFERENCE_LONG_ADAMW, REFERENCE_LONG_ADAMW_2X, REFERENCE_LONG_ADAMW_4X, shorter_versions

    assert shorter_versions(REFERENCE_LONG_ADAMW_4X.name) == [REFERENCE_LONG_ADAMW_2X.name, REFERENCE_LONG_ADAMW.name]
    assert shorter_versions(REFERENCE_LONG_ADAMW.name) == [] and shorter_versions(REFERENCE.name) == []
    rng = np.random.default_rng(3)
    seed_0, seed_1 = rng.uniform(0.6, 1.0, 12), rng.uniform(0.6, 1.0, 12)
    half, quarter = seed_0 + 0.05 * rng.standard_normal(12), rng.uniform(0.3, 0.9, 12)
    nets = [{"label": f"net-{i}", "known": False} for i in range(12)]
    rows = {}
    for i, net in enumerate(nets):
        label = net["label"]
        rows[f"{label}|{REFERENCE_LONG_ADAMW_4X.name}|0"] = {"accuracy": seed_0[i], "steps": 400}
        rows[f"{label}|{REFERENCE_LONG_ADAMW_4X.name}|1"] = {"accuracy": seed_1[i], "steps": 400}
        rows[f"{label}|{REFERENCE_LONG_ADAMW_2X.name}|0"] = {"accuracy": half[i], "tse": 1.0, "steps": 200, "wall_seconds": 6.0}
    summary = summarise(rows, nets, reference_variant=REFERENCE_LONG_ADAMW_4X)
    # Only the versions trained for every net are judged: the quarter-length one has no rows yet.
    assert list(summary["shorter_trainings"]) == [REFERENCE_LONG_ADAMW_2X.name]
    entry = summary["shorter_trainings"][REFERENCE_LONG_ADAMW_2X.name]
    assert (entry["seconds_per_net"], entry["reference_steps_per_proxy_step"]) == (6.0, 2.0)
    figures = entry["scores"]["accuracy"]
    assert figures["spearman"] == pytest.approx(spearmanr(half, (seed_0 + seed_1) / 2).statistic, abs=1e-4)
    # Half the run from seed 0 follows seed 0; against seed 1 alone, which it shares nothing with, it ranks far worse.
    against_0, against_1 = figures[AGAINST_EACH_SEED]
    assert (against_0, against_1) == pytest.approx((spearmanr(half, seed_0).statistic, spearmanr(half, seed_1).statistic), abs=1e-4)
    assert against_1 < against_0 - 0.5
    rows.update({f"{net['label']}|{REFERENCE_LONG_ADAMW.name}|0": {"accuracy": quarter[i], "steps": 100, "wall_seconds": 3.0}
                 for i, net in enumerate(nets)})
    summary = summarise(rows, nets, reference_variant=REFERENCE_LONG_ADAMW_4X)
    assert summary["shorter_trainings"][REFERENCE_LONG_ADAMW.name]["reference_steps_per_proxy_step"] == 4.0
    # One reference seed: an interim look judges against it alone, and says nothing about a second seed.
    interim = summarise(rows, nets, reference_variant=REFERENCE_LONG_ADAMW_4X, reference_seeds=1)
    assert AGAINST_EACH_SEED not in interim["shorter_trainings"][REFERENCE_LONG_ADAMW.name]["scores"]["accuracy"]
    assert "shorter_trainings" not in summarise(*synthetic_log(seed_0, seed_0))


@pytest.mark.parametrize("device, says", [("tpu", "not recognised"), ("cuda:7", "cuda")])
def test_the_benchmark_refuses_a_device_it_cannot_train_on_before_touching_its_folder(tmp_path, monkeypatch, capsys, device, says):
    import sys

    from benchmarks import proxy_fidelity

    if device.startswith("cuda") and torch.cuda.device_count() > 7:
        pytest.skip("this machine has a cuda:7")
    monkeypatch.setattr(sys, "argv", ["proxy_fidelity", "--device", device, "--output-dir", str(tmp_path / "out")])
    with pytest.raises(SystemExit) as stopped:
        proxy_fidelity.main()
    assert stopped.value.code == 2
    assert says in capsys.readouterr().err.splitlines()[-1]
    assert not (tmp_path / "out").exists()


def test_again_trains_logged_jobs_a_second_time_and_the_newer_row_counts(tmp_path):
    from types import SimpleNamespace

    from benchmarks.fidelity.analysis import rerun_agreement

    log = tmp_path / "log.jsonl"
    log.write_text('{"key": "net-0|v|0", "accuracy": 0.5}\n')
    jobs = [SimpleNamespace(key=f"net-{i}|v|0") for i in range(2)]
    assert run_all(jobs, log, 1, say=lambda _: None, run=vars)["net-0|v|0"] == {"key": "net-0|v|0", "accuracy": 0.5}
    rows = run_all(jobs, log, 1, say=lambda _: None, run=vars, again=True)
    assert rows == {job.key: {"key": job.key} for job in jobs} == read_log(log)
    assert len(read_log_lines(log)) == 4  # the first run of each stays in the log
    lines = [{"key": "a|v|0", "accuracy": 0.80}, {"key": "b|v|0", "accuracy": 0.70}, {"key": "a|v|0", "accuracy": 0.80},
             {"key": "b|v|0", "accuracy": 0.73, "device": "cpu"}, {"key": "b|v|0", "accuracy": 0.60, "device": "cuda:0"}]
    found = rerun_agreement(lines)  # the CUDA row is another device's draw, for device_agreement
    assert found == {"jobs": 2, "identical": 1, "points_by_job": {"a|v|0 on cpu": 0.0, "b|v|0 on cpu": 3.0}, "max_abs_points": 3.0}
    assert rerun_agreement(lines[:2]) is None


def test_again_without_only_is_refused_before_anything_runs(tmp_path, monkeypatch, capsys):
    import sys

    from benchmarks import proxy_fidelity

    monkeypatch.setattr(sys, "argv", ["proxy_fidelity", "--again", "--output-dir", str(tmp_path / "out")])
    with pytest.raises(SystemExit) as stopped:
        proxy_fidelity.main()
    assert stopped.value.code == 2 and "--only" in capsys.readouterr().err.splitlines()[-1]
    assert not (tmp_path / "out").exists()


def test_the_held_out_loss_is_judged_once_every_nets_row_records_it_and_a_failure_ranks_last():
    rng = np.random.default_rng(5)
    reference = rng.uniform(0.5, 1.0, 10)
    rows, nets = synthetic_log(reference, reference[::-1].copy())
    proxy = PROXIES[0].name
    assert "val_loss" not in summarise(rows, nets)["proxies"][proxy]["scores"]  # older rows: no such figure
    for i, net in enumerate(nets):
        rows[f"{net['label']}|{proxy}|0"]["val_loss"] = float(2.0 - reference[i])  # lower loss where the reference is higher
    rows[f"{nets[0]['label']}|{proxy}|0"] = {"failure": "nan_loss"}
    figures = summarise(rows, nets)["proxies"][proxy]["scores"]["val_loss"]
    expected = -np.array([np.inf if i == 0 else 2.0 - reference[i] for i in range(10)])
    assert figures["spearman"] == pytest.approx(spearmanr(expected, reference).statistic, abs=1e-4)
    assert figures["spearman"] < 1.0  # the failed net ranks last whatever its reference accuracy


def test_the_searchs_default_score_is_judged_as_the_search_computes_it():
    from search.run.config import RunConfig

    rng = np.random.default_rng(6)
    reference = rng.uniform(0.5, 1.0, 10)
    accuracy, loss = np.minimum(reference + rng.normal(0, 0.1, 10), 1.0), rng.uniform(0.05, 2.0, 10)
    rows, nets = synthetic_log(reference, accuracy)
    proxy = PROXIES[0].name
    for i, net in enumerate(nets):
        rows[f"{net['label']}|{proxy}|0"]["val_loss"] = float(loss[i])
    name = RunConfig(name="x").objective_name  # the name the search gives its objective
    figures = summarise(rows, nets)["proxies"][proxy]["scores"][name]
    product = np.array([rows[f"{net['label']}|{proxy}|0"]["accuracy"] for net in nets]) * np.exp(-loss)
    assert figures["spearman"] == pytest.approx(spearmanr(product, reference).statistic, abs=1e-4)


def test_a_proxys_second_seed_gives_its_own_agreement_and_a_two_seed_figure_for_the_searchs_score_too():
    rng = np.random.default_rng(8)
    reference = rng.uniform(0.5, 1.0, 12)
    first, second = (np.minimum(reference + rng.normal(0, 0.1, 12), 1.0) for _ in range(2))
    loss = [rng.uniform(0.05, 2.0, 12) for _ in range(2)]
    rows, nets = synthetic_log(reference, first)
    proxy = PROXIES[0].name
    for i, net in enumerate(nets):
        rows[f"{net['label']}|{proxy}|0"]["val_loss"] = float(loss[0][i])
    assert "seed_to_seed" not in summarise(rows, nets)["proxies"][proxy]  # one seed: no agreement to report
    for i, net in enumerate(nets):
        rows[f"{net['label']}|{proxy}|1"] = {"accuracy": float(second[i]), "tse": float(-second[i]), "val_loss": float(loss[1][i]),
                                            "wall_seconds": 1.0}
    summary = summarise(rows, nets)["proxies"][proxy]
    scores = [accuracy * np.exp(-held_out) for accuracy, held_out in zip((first, second), loss)]  # as the search scores
    agreement = summary["seed_to_seed"][ACCURACY_X_LIKELIHOOD]["spearman"]
    assert agreement == pytest.approx(spearmanr(*scores).statistic, abs=1e-4)
    assert summary["seed_to_seed"]["accuracy"]["spearman"] == pytest.approx(spearmanr(first, second).statistic, abs=1e-4)
    averaged = summary["scores"][f"{ACCURACY_X_LIKELIHOOD}, mean of 2 seeds"]["spearman"]
    assert averaged == pytest.approx(spearmanr((scores[0] + scores[1]) / 2, reference).statistic, abs=1e-4)


def test_successive_halving_keeps_each_rungs_best_third_and_pays_only_for_the_survivors():
    from benchmarks.fidelity.halving import HalvingPlan, replay

    labels = [f"net-{i}" for i in range(9)]
    cheap = [0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6, 0.5]  # keeps nets 1, 3 and 5
    rows = {f"{label}|cheap|0": {"accuracy": cheap[i], "steps": 10} for i, label in enumerate(labels)}
    rows.update({f"net-{i}|long|0": {"accuracy": value, "steps": 100} for i, value in ((1, 0.5), (3, 0.95), (5, 0.7))})
    found = replay(rows, labels, HalvingPlan(("cheap", "long"), 3))
    assert found.nets_per_rung == [9, 3] and found.steps == 9 * 10 + 3 * 100
    # Every survivor ranks above every net left behind, and among them the longer rung's order counts.
    assert list(np.argsort(-found.score)[:3]) == [3, 5, 1]
    assert found.score[0] == pytest.approx(0.1) and found.score[3] == pytest.approx(1.95)
    del rows["net-3|long|0"]
    assert replay(rows, labels, HalvingPlan(("cheap", "long"), 3)) is None  # a survivor without its longer training
    del rows["net-0|cheap|0"]
    assert replay(rows, labels, HalvingPlan(("cheap",), 3)) is None


def test_a_halving_plan_against_the_4x_reference_reports_its_cost_and_whether_the_best_net_survives():
    from benchmarks.fidelity.analysis import REGRET_AGAINST_EACH_SEED
    from benchmarks.fidelity.picks import pick_regret_points
    from benchmarks.fidelity.halving import PLANS_BY_REFERENCE
    from benchmarks.fidelity.variants import REFERENCE_LONG_ADAMW, REFERENCE_LONG_ADAMW_2X, REFERENCE_LONG_ADAMW_4X

    rng = np.random.default_rng(4)
    truth = np.linspace(0.6, 0.99, 12)
    nets = [{"label": f"net-{i}", "known": False} for i in range(12)]
    lengths = {"e4_b32_noaug_adamw": (184, 0.3), REFERENCE_LONG_ADAMW.name: (1840, 0.05), REFERENCE_LONG_ADAMW_2X.name: (3680, 0.01)}
    rows = {}
    for i, net in enumerate(nets):
        for seed in (0, 1):
            rows[f"{net['label']}|{REFERENCE_LONG_ADAMW_4X.name}|{seed}"] = {"accuracy": truth[i] + 0.005 * seed * (i % 2), "steps": 7360}
        for name, (steps, noise) in lengths.items():
            rows[f"{net['label']}|{name}|0"] = {"accuracy": float(truth[i] + noise * rng.standard_normal()), "steps": steps,
                                                    "wall_seconds": 1.0}
    rows["net-11|e4_b32_noaug_adamw|0"]["accuracy"] = 0.0  # the best net looks worst at the cheapest rung
    summary = summarise(rows, nets, reference_variant=REFERENCE_LONG_ADAMW_4X)
    plans = summary["successive_halving"]
    assert list(plans) == [plan.name for plan in PLANS_BY_REFERENCE[REFERENCE_LONG_ADAMW_4X.name]]
    first, _, without_proxy = plans.values()
    assert first["nets_per_rung"] == [12, 4, 2]
    assert first["steps_per_net"] == pytest.approx((12 * 184 + 4 * 1840 + 2 * 3680) / 12, abs=0.1)
    assert first["share_of_reference_steps"] == pytest.approx(first["steps_per_net"] / 7360, abs=1e-3)
    assert not first["best_net_reaches_last_rung"] and first["pick"] != "net-11"
    assert without_proxy["best_net_reaches_last_rung"]
    reference = np.array([(rows[f"net-{i}|{REFERENCE_LONG_ADAMW_4X.name}|0"]["accuracy"]
                           + rows[f"net-{i}|{REFERENCE_LONG_ADAMW_4X.name}|1"]["accuracy"]) / 2 for i in range(12)])
    picked = int(first["pick"].split("-")[1])
    assert first["scores"]["rung reached, then accuracy"]["pick_regret_points"] == round(100 * (reference.max() - reference[picked]), 1) > 0
    assert pick_regret_points(np.array([0.2, 0.9, 0.9]), np.array([0.5, 0.7, 0.8])) == 10.0  # the first of tied picks
    # Against each seed alone: seed 1 puts every odd net half a point higher, so the pick's regret there differs.
    per_seed = [[rows[f"net-{picked}|{REFERENCE_LONG_ADAMW_4X.name}|{seed}"]["accuracy"] for seed in (0, 1)]]
    best = [max(rows[f"net-{i}|{REFERENCE_LONG_ADAMW_4X.name}|{seed}"]["accuracy"] for i in range(12)) for seed in (0, 1)]
    assert first["scores"]["rung reached, then accuracy"][REGRET_AGAINST_EACH_SEED] == [
        round(100 * (best[seed] - per_seed[0][seed]), 1) for seed in (0, 1)]
    assert summary["reference"]["random_pick_regret_points"] == round(100 * (reference.max() - reference.mean()), 1)


def test_a_variant_trained_on_some_nets_only_is_judged_on_those_and_says_how_many():
    rng = np.random.default_rng(6)
    reference, proxy = rng.uniform(0.5, 1.0, 12), rng.uniform(0.2, 0.6, 12)
    rows, nets = synthetic_log(reference, proxy)
    name, other = PROXIES[0].name, PROXIES[1].name
    for net in nets[8:]:  # nets that got a reference after this proxy ran
        del rows[f"{net['label']}|{name}|0"]
    for i, net in enumerate(nets[:3]):
        rows[f"{net['label']}|{other}|0"] = {"accuracy": float(proxy[i]), "tse": 0.0, "wall_seconds": 1.0}
    summary = summarise(rows, nets)
    assert summary["nets_with_reference"] == 12 and summary["proxies"][name]["nets"] == 8
    figures = summary["proxies"][name]["scores"]["accuracy"]
    assert figures["count"] == 8
    assert figures["spearman"] == pytest.approx(spearmanr(proxy[:8], reference[:8]).statistic, abs=1e-4)
    assert other not in summary["proxies"]  # three nets are too few to rank


def test_a_budgeted_pick_is_judged_within_each_nets_latency_as_a_latency_bound_search_picks():
    from benchmarks.fidelity.analysis import BUDGETED_REGRET_AGAINST_EACH_SEED
    from benchmarks.fidelity.picks import budgeted_floors, budgeted_pick_regret_points

    latency, reference = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, 0.6, 0.9, 0.7])
    # Budgets with three nets or more under them: 3 ms (best 0.9) and 4 ms (best 0.9).
    assert budgeted_pick_regret_points(np.array([0.9, 0.1, 0.2, 0.3]), reference, latency) == 40.0
    assert budgeted_pick_regret_points(latency, reference, latency) == 10.0  # "the slowest that fits": 0 at 3 ms, 20 at 4 ms
    assert budgeted_pick_regret_points(reference, reference, latency) == 0.0
    assert budgeted_pick_regret_points(reference, reference, np.array([1.0, np.nan, 3.0, 4.0])) is None
    floors = budgeted_floors(np.stack([reference, reference[::-1]], axis=1), latency)
    mean = (reference + reference[::-1]) / 2  # 0.6, 0.75, 0.75, 0.6
    assert floors["budgeted_random_pick_regret_points"] == pytest.approx(
        round(100 * ((0.75 - mean[:3].mean()) + (0.75 - mean.mean())) / 2, 2))
    # Seed 0 picks net 2 at both budgets, worth 0.6 and 0.6 on seed 1 (best 0.9, then 0.9): 30 points each.
    assert floors["budgeted_pick_regret_points_between_seeds"][0] == 30.0
    nets = [{"label": f"net-{i}", "known": False, "latency_ms": float(latency[i])} for i in range(4)]
    rows = {f"net-{i}|{REFERENCE.name}|{seed}": {"accuracy": float(value)}
            for i in range(4) for seed, value in enumerate((reference[i], reference[::-1][i]))}
    rows |= {f"net-{i}|{PROXIES[0].name}|0": {"accuracy": float(reference[i]), "tse": 0.0, "wall_seconds": 1.0} for i in range(4)}
    figures = summarise(rows, nets)["proxies"][PROXIES[0].name]["scores"]["accuracy"]
    assert figures["budgeted_pick_regret_points"] == budgeted_pick_regret_points(reference, mean, latency)
    assert figures[BUDGETED_REGRET_AGAINST_EACH_SEED] == [0.0, 30.0]  # it ranks as seed 0 does


def test_a_subset_variant_trains_on_the_first_images_of_each_class_and_keeps_the_whole_validation_split():
    import torch

    from benchmarks.fidelity.jobs import first_per_class
    from evaluators.data import load_dataset

    dataset = load_dataset("shapes", seed=0, size=60, val_size=20, difficulty=0.0)
    subset = first_per_class(dataset, 2)
    assert torch.bincount(subset.train_labels, minlength=10).tolist() == [2] * 10
    for label in range(10):
        first_two = torch.nonzero(dataset.train_labels == label).flatten()[:2]
        assert torch.equal(subset.train_images[subset.train_labels == label], dataset.train_images[first_two])
    assert torch.equal(subset.val_images, dataset.val_images) and torch.equal(subset.val_labels, dataset.val_labels)


def cpu_model_as_the_kernel_names_it() -> str:
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        return next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))


def test_a_jobs_row_names_the_hardware_it_ran_on():
    """The same seed on another CPU model lands elsewhere, so a row says which model trained it, as the kernel names
    it; here LeNet-5 under the default proxy on digits, and its training-free scores (always on the CPU)."""
    from benchmarks.fidelity.jobs import ZERO_COST, Job, run_job
    from searchspace import encode, zoo

    for variant in (DEFAULT_PROXY, ZERO_COST):
        row = run_job(Job("digits", (), 32, "lenet5", encode(zoo.get("lenet5")), variant, 0))
        assert row["hardware"] == f"cpu:{cpu_model_as_the_kernel_names_it()}" and row["key"] == f"lenet5|{variant}|0"
    assert row["synflow"] is not None
