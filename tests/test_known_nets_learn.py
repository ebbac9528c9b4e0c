"""benchmarks/known_nets_learn.py's summary over proxy seeds: the bar judged on more than one training."""

import statistics

import pytest

from benchmarks.known_nets_learn import TARGET, Training, summarise

VARIANT = "e4_b32_noaug_adamw_conv"


def logged(net: str, seed: int, accuracy: float, threads: int = 1) -> tuple[str, dict]:
    job = Training(net, VARIANT, seed, threads)
    row = {"key": job.key, "net": net, "variant": VARIANT, "accuracy": accuracy, "seconds": 1.0}
    if seed or threads != 1:
        row.update(seed=seed, threads=threads)  # rows logged before either was varied carry neither
    return job.key, row


def test_seed_zero_on_one_thread_keeps_the_key_rows_were_logged_under_before_either_was_varied():
    assert Training("resnet18", VARIANT).key == f"resnet18|{VARIANT}"
    keys = {Training("resnet18", VARIANT, seed, threads).key for seed in (0, 2) for threads in (1, 2)}
    assert len(keys) == 4


def test_the_summary_gives_each_seeded_net_its_spread_and_names_nets_a_seed_leaves_under_the_bar():
    rows = dict([logged("steady", 0, 0.95), logged("steady", 1, 0.97), logged("marginal", 0, 0.92),
                 logged("marginal", 1, 0.88), logged("marginal", 2, 0.91), logged("once", 0, 0.93)])
    entry = summarise(rows, ["steady", "marginal", "once"], [VARIANT])[VARIANT]
    assert entry["below_target"] == []  # seed 0 alone passes every net
    seeded = entry["across_seeds"]
    assert set(seeded["nets"]) == {"steady", "marginal"}  # one seed has no spread
    marginal = seeded["nets"]["marginal"]
    assert marginal["seeds"] == [0, 1, 2] and marginal["accuracy"] == [0.92, 0.88, 0.91]
    assert marginal["mean"] == pytest.approx(statistics.mean([0.92, 0.88, 0.91]), abs=1e-4)
    assert marginal["sd"] == pytest.approx(statistics.stdev([0.92, 0.88, 0.91]), abs=1e-4)
    assert marginal["min"] == 0.88 < TARGET
    assert seeded["below_target_on_some_seed"] == ["marginal"]
    assert seeded["below_target_on_average"] == []


def test_trainings_on_another_thread_count_are_summarised_apart():
    """The default job trains on every core; the same seed on two threads follows another path."""
    rows = dict([logged("net", 0, 0.92), logged("net", 1, 0.93), logged("net", 0, 0.89, threads=2),
                 logged("net", 1, 0.91, threads=2)])
    entry = summarise(rows, ["net"], [VARIANT])[VARIANT]
    assert entry["accuracy"] == {"net": 0.92}
    assert entry["across_seeds"]["nets"]["net"]["accuracy"] == [0.92, 0.93]
    on_two = entry["across_seeds_on_2_threads"]
    assert on_two["nets"]["net"]["accuracy"] == [0.89, 0.91]
    assert on_two["below_target_on_some_seed"] == ["net"] and entry["across_seeds"]["below_target_on_some_seed"] == []
    # Seed 0 on two threads is a figure of record of its own: the one the default job on two cores reproduces.
    assert entry["on_2_threads"]["accuracy"] == {"net": 0.89} and entry["on_2_threads"]["below_target"] == ["net"]
    assert entry["below_target"] == [] and entry["on_2_threads"]["nets"] == 1 and entry["on_2_threads"]["min"] == 0.89


def test_seed_zero_on_two_threads_counts_the_nets_not_trained_there_yet():
    rows = dict([logged("a", 0, 0.95), logged("b", 0, 0.93), logged("a", 0, 0.96, threads=2)])
    entry = summarise(rows, ["a", "b"], [VARIANT])[VARIANT]
    assert entry["nets"] == 2 and entry["not_trained_yet"] == []
    assert entry["on_2_threads"]["nets"] == 1 and entry["on_2_threads"]["not_trained_yet"] == ["b"]


def test_a_training_row_names_the_cpu_model_it_ran_on():
    """Rows from two machines differ by more than their recipes, so each says which CPU trained it, as the kernel
    names it; LeNet-5 under the default recipe on one thread, as the benchmark trains it."""
    from benchmarks.fidelity.variants import DEFAULT_PROXY
    from benchmarks.known_nets_learn import train_one
    from tests.test_fidelity_benchmark import cpu_model_as_the_kernel_names_it

    row = train_one(Training("lenet5", DEFAULT_PROXY))
    assert row["hardware"] == f"cpu:{cpu_model_as_the_kernel_names_it()}"
    assert row["accuracy"] >= TARGET and row["optimizer"] == "adamw"
