"""Latency predictor accuracy on held-out random nets of a search space, against measured latency.

Protocol:

1. Sample ``--train + --test`` distinct random nets of ``--space`` (default
   ``unified``, the run's default space when the committed models were fitted) for 224 px inputs; the space's resolution
   multiplier makes some of them smaller.  Net ``i`` is drawn with
   ``RandomSuggest(numpy.random.default_rng([seed, i]))``, so a rerun with the
   same seed draws the same nets.
2. Measure each at batch size 1 with :func:`evaluators.latency.measure`, through
   the latency cache: a rerun reuses every measurement, and measurements of
   the same nets made by searches count too.  The timing protocol is shorter
   than the default one (see ``--min-time-s``) so that 300 nets take minutes;
   it is written to the JSON.
3. Hold out ``--test`` nets chosen at random (so that they were timed
   throughout the run, like the training nets); fit on the other ``--train``.
4. Noise floor: re-measure ``--repeat`` of the held-out nets in a freshly
   spawned process after all the others, bypassing the cache, and compare
   the two measurements exactly as predictions are compared with
   measurements.  No predictor can agree with a measurement better than a
   second measurement does.
5. Fit each model family on the training nets and report, on the held-out
   ones: share within +-10%, Spearman rank correlation, mean and largest
   absolute percentage error.  The chosen family is fitted through
   :class:`evaluators.latency.predictor.LatencyPredictor` and saved.
6. The search's skip rule at three budgets (the held-out nets' 25th, 50th
   and 75th latency percentiles): how many nets it would not measure, and how
   many of those were in fact within budget (wrongly skipped).

``--clock cpu`` (with ``--threads 1``) replaces step 2's wall-clock latency
with the CPU time the forward pass itself spent (``time.thread_time``),
measured here and not cached.  It is a diagnostic for shared machines, where
other processes make wall-clock latency swing by a factor of two within
minutes: CPU time is what a quiet machine's single-threaded latency
approaches, so the model families can still be compared on it.

Run from the repository root::

    python -m benchmarks.latency_predictor [--device cpu] [--train 200] [--test 100]
        [--threads N] [--seed 0] [--repeat 30] [--space unified] [--min-time-s 0.2] [--clock wall|cpu]
        [--transfer-space resnet --transfer-space mobile]

7. Transfer (``--transfer-space``): the predictor fitted on ``--space`` predicts
   ``--test`` random nets of each other space, timed the same way; and a
   learning curve: the held-out figures when only 20, 30, 50 ... of the
   training nets are used, i.e. how few measurements a new device needs.

Writes ``results/benchmarks/latency_predictor.json`` (or ``--output``) and the
fitted predictor next to it (``*_model.json``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from evaluators.cost import cost
from evaluators.devices import DeviceError, device_name, resolve_device
from evaluators.latency import TimingProtocol, measure
from evaluators.latency.accuracy import accuracy_metrics
from evaluators.latency.environment import torch_threads
from evaluators.latency.features import COMPUTE_FAMILIES, FEATURE_NAMES, feature_matrix
from evaluators.latency.predictor import LatencyPredictor
from evaluators.latency.regressors import (
    AdditiveRegression,
    BoostedTreesRegression,
    LogLinearRegression,
)
from searchspace import NetSpec, build

from benchmarks._common import add_output_arguments, output_path, write_json

CONTEXT_RESOLUTION = 224
# Shorter than the default protocol (0.5 s warm-up, 0.5 s and 10 runs timed) so that 300
# nets fit in about ten minutes on a loaded 2-core CPU, where the largest nets of the space
# (17 GMACs) take 3 s a pass: one warm-up pass pays oneDNN's one-time set-up, and the median
# of at least 3 runs (more for fast nets, 0.2 s of them) ignores one preempted run.  What
# limits the accuracy on a shared machine is the drift between minutes, not within a net.
WARMUP_RUNS, WARMUP_TIME_S, MIN_RUNS, MAX_RUNS = 1, 0.1, 3, 200
SKIP_RULE_PERCENTILES = (25, 50, 75)
LEARNING_CURVE_SIZES = (20, 30, 50, 100, 200, 400)  # 20: the predictor's own minimum (5 folds of 4)


@dataclass(frozen=True)
class Timing:
    """How every net of one benchmark run is timed; picklable, for the fresh process."""

    device: str
    threads: int
    protocol: TimingProtocol
    clock: str  # "wall": evaluators.latency.measure (cached); "cpu": the pass's own CPU time
    runtime: str = "eager"  # what runs the net (evaluators.latency.runtimes); wall clock only

    def time_ms(self, spec: NetSpec, *, use_cache: bool = True) -> tuple[float, bool]:
        """One net's latency in milliseconds, and whether it came from the cache."""
        if self.clock == "cpu":
            return cpu_time_ms(spec, self.protocol), False
        result = measure(spec, self.device, threads=self.threads, cache=use_cache, protocol=self.protocol,
                         runtime=self.runtime)
        return result.median_ms, result.cached


def cpu_time_ms(spec: NetSpec, protocol: TimingProtocol) -> float:
    """Median CPU time of one single-threaded forward pass, with the protocol's warm-up and stopping rule.

    ``time.thread_time`` counts only time this thread ran, so time lost to
    other processes is left out; with one intra-op thread that thread does
    all the work.
    """
    model = build(spec).eval()
    example = torch.randn(1, spec.in_channels, spec.resolution, spec.resolution, generator=torch.Generator().manual_seed(0))
    samples: list[float] = []
    with torch_threads(1), torch.inference_mode():
        for _ in range(protocol.warmup_runs):
            model(example)
        while len(samples) < protocol.max_runs and (len(samples) < protocol.min_runs or sum(samples) < protocol.min_time_s):
            start = time.thread_time()
            model(example)
            samples.append(time.thread_time() - start)
    return 1000.0 * statistics.median(samples)


def sample_specs(space_name: str, count: int, seed: int) -> list[NetSpec]:
    """``count`` distinct nets of the space, drawn reproducibly from ``seed``."""
    from search.spaces import RandomSuggest, SpaceContext, load_space

    space = load_space(space_name)
    context = SpaceContext(in_channels=3, num_classes=1000, resolution=CONTEXT_RESOLUTION)
    specs: dict[str, NetSpec] = {}
    index = 0
    while len(specs) < count:
        spec = space.sample(RandomSuggest(np.random.default_rng([seed, index])), context)
        specs.setdefault(spec.digest(), spec)
        index += 1
        if index > 20 * count:
            raise ValueError(f"--space {space_name!r} yielded only {len(specs)} distinct nets in {index} draws")
    return list(specs.values())


def split_train_test(count: int, test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the nets to fit on and of those held out, both spread over the whole run.

    Nets are timed one after another, and a shared machine's speed drifts over
    minutes; holding out the last nets timed would mix that drift into the
    predictor's error.  A random subset shares the training nets' conditions,
    and the drift is reported on its own, as the noise floor.
    """
    order = np.random.default_rng([seed, count]).permutation(count)
    return np.sort(order[test:]), np.sort(order[:test])


def time_all(specs: Sequence[NetSpec], timing: Timing) -> tuple[list[float], int]:
    """Latency of every spec (from the cache where possible) and how many came from the cache."""
    latencies, cached = [], 0
    started = time.perf_counter()
    for index, spec in enumerate(specs):
        latency, from_cache = timing.time_ms(spec)
        latencies.append(latency)
        cached += from_cache
        elapsed = time.perf_counter() - started
        if (index + 1) % 10 == 0 or index + 1 == len(specs):
            remaining = elapsed / (index + 1) * (len(specs) - index - 1)
            print(f"  timed {index + 1}/{len(specs)} ({cached} from the cache), {elapsed:.0f} s, about {remaining:.0f} s to go", flush=True)
    return latencies, cached


def _time_uncached(spec_jsons: list[str], timing: Timing) -> list[float]:
    """Body of the fresh process: time each net again, never touching the cache."""
    return [timing.time_ms(NetSpec.from_json(text), use_cache=False)[0] for text in spec_jsons]


def time_again_in_fresh_process(specs: Sequence[NetSpec], timing: Timing) -> list[float]:
    spawn = multiprocessing.get_context("spawn")  # fork would inherit this process's warmed-up state
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(_time_uncached, [spec.to_json(indent=None) for spec in specs], timing).result()


# ---- model families ------------------------------------------------------------------------

def _total_macs(features: np.ndarray) -> np.ndarray:
    columns = [FEATURE_NAMES.index(f"{family}.macs") for family in COMPUTE_FAMILIES]
    return features[:, columns].sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Family:
    name: str
    description: str
    columns: Callable[[np.ndarray], np.ndarray]  # feature matrix -> the columns this family sees
    regression: Callable[[], Any]


FAMILIES = (
    Family("macs_only", "overhead + cost * total MACs, non-negative, relative Huber", _total_macs, AdditiveRegression),
    Family("additive", "non-negative per-op-family MACs, traffic and layer counts, relative Huber (chosen)", lambda x: x, AdditiveRegression),
    Family("log_linear", "ridge regression of log latency on log(1 + feature / median)", lambda x: x, LogLinearRegression),
    Family("boosted_trees", "gradient-boosted trees (300 x depth 3, Huber) on log features -> log latency", lambda x: x, BoostedTreesRegression),
)


def compare_families(train: np.ndarray, train_ms: np.ndarray, test: np.ndarray, test_ms: np.ndarray) -> dict[str, Any]:
    comparison = {}
    for family in FAMILIES:
        model = family.regression().fit(family.columns(train), train_ms)
        predicted = model.predict(family.columns(test))
        comparison[family.name] = {"description": family.description, **accuracy_metrics(predicted, test_ms)}
    return comparison


def skip_rule(predictor: LatencyPredictor, predicted_ms: np.ndarray, measured_ms: np.ndarray) -> list[dict[str, Any]]:
    """What ``predicted > budget * (1 + 2 * relative_error)`` would skip at a few budgets."""
    rows = []
    for percentile in SKIP_RULE_PERCENTILES:
        budget = float(np.percentile(measured_ms, percentile))
        skipped = predicted_ms > budget * (1.0 + 2.0 * predictor.relative_error)
        rows.append({
            "budget_ms": budget,
            "budget_percentile": percentile,
            "over_budget": int(np.sum(measured_ms > budget)),
            "skipped": int(np.sum(skipped)),
            "wrongly_skipped": int(np.sum(skipped & (measured_ms <= budget))),
        })
    return rows


def learning_curve(train_specs: Sequence[NetSpec], train_ms: np.ndarray, test_specs: Sequence[NetSpec],
                   test_ms: np.ndarray, seed: int) -> list[dict[str, Any]]:
    """Held-out accuracy when the predictor is fitted on only the first n training nets (random order):
    how few measurements a new device, runtime or thread count needs before its predictor can be trusted."""
    order = np.random.default_rng([seed, 7]).permutation(len(train_specs))
    rows = []
    for size in (n for n in LEARNING_CURVE_SIZES if n <= len(train_specs)):
        chosen = order[:size]
        fitted = LatencyPredictor(device="curve", threads=1, torch_version=torch.__version__, batch_size=1, dtype="float32")
        fitted.fit([train_specs[i] for i in chosen], train_ms[chosen])
        rows.append({"train_nets": size, **accuracy_metrics(fitted.predict_many_ms(test_specs), test_ms)})
    return rows


def transfer(predictor: LatencyPredictor, spaces: Sequence[str], count: int, seed: int, timing: Timing) -> dict[str, Any]:
    """The predictor fitted on one space, judged on random nets of others it never saw."""
    results = {}
    for name in spaces:
        specs = sample_specs(name, count, seed + 1)
        print(f"transfer: timing {len(specs)} nets of space {name!r}", flush=True)
        measured, _ = time_all(specs, timing)
        results[name] = accuracy_metrics(predictor.predict_many_ms(specs), np.asarray(measured))
        print(f"  {name}: {results[name]['within_10pct']:.1%} within +-10%, Spearman {results[name]['spearman']:.3f}", flush=True)
    return results


# ---- the run -------------------------------------------------------------------------------

def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {value}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, got {text}")
    return value


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    parser.add_argument("--train", type=_positive_int, default=200, help="nets to fit on (default: 200)")
    parser.add_argument("--test", type=_positive_int, default=100, help="held-out nets to report on (default: 100)")
    parser.add_argument("--threads", type=_positive_int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--seed", type=_non_negative_int, default=0, help="which random nets (default: 0)")
    parser.add_argument("--repeat", type=_non_negative_int, default=30, help="held-out nets re-measured for the noise floor (default: 30)")
    parser.add_argument("--space", default="unified", help="search space name or file (default: unified)")
    parser.add_argument("--runtime", default="eager", help="eager, onnxruntime, torchscript or compile (default: eager)")
    parser.add_argument("--transfer-space", action="append", default=[], metavar="NAME",
                        help="also judge the predictor on --test random nets of this space, never fitted on (repeatable)")
    parser.add_argument("--min-time-s", type=_seconds, default=0.2, help="timed seconds per net, at least 3 runs (default: 0.2)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: measured latency (default); cpu: the pass's own CPU time, a diagnostic for loaded machines (needs --threads 1)")
    add_output_arguments(parser, "latency_predictor", "; *_cpu_time.json with --clock cpu")
    arguments = parser.parse_args(argv)
    default_name = "latency_predictor" if arguments.clock == "wall" else "latency_predictor_cpu_time"
    arguments.output = output_path(default_name, arguments.output, overwrite=arguments.overwrite)
    if arguments.clock == "cpu" and arguments.threads != 1:
        parser.error("--clock cpu times one thread: give --threads 1")
    if arguments.clock == "cpu" and arguments.device != "cpu":
        parser.error("--clock cpu applies to --device cpu only")
    return arguments


def _print_table(comparison: dict[str, Any], noise: dict[str, Any] | None) -> None:
    print(f"{'family':15s} {'within 10%':>10s} {'Spearman':>9s} {'MAPE %':>7s} {'max %':>7s}")
    rows = dict(comparison)
    if noise is not None:
        rows["(re-measured)"] = noise
    for name, row in rows.items():
        print(f"{name:15s} {row['within_10pct']:10.1%} {row['spearman']:9.3f} {row['mape_pct']:7.1f} {row['max_ape_pct']:7.1f}")


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        resolve_device(arguments.device)
        threads = arguments.threads if arguments.threads is not None else torch.get_num_threads()
        timing = Timing(
            arguments.device, threads,
            TimingProtocol(warmup_runs=WARMUP_RUNS, warmup_time_s=WARMUP_TIME_S, min_runs=MIN_RUNS,
                           min_time_s=arguments.min_time_s, max_runs=MAX_RUNS),
            arguments.clock,
            arguments.runtime,
        )
        started = time.perf_counter()
        specs = sample_specs(arguments.space, arguments.train + arguments.test, arguments.seed)
    except (DeviceError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    hardware = device_name(arguments.device)
    print(f"{len(specs)} nets of space {arguments.space!r} on {hardware}, {threads} thread(s), {arguments.clock} clock", flush=True)

    measured, from_cache = time_all(specs, timing)
    measuring_s = time.perf_counter() - started
    train_index, test_index = split_train_test(len(specs), arguments.test, arguments.seed)
    train_specs, test_specs = [specs[i] for i in train_index], [specs[i] for i in test_index]
    train_ms, test_ms = np.asarray(measured)[train_index], np.asarray(measured)[test_index]

    noise = None
    repeat_specs = test_specs[: arguments.repeat]
    if repeat_specs:
        print(f"timing {len(repeat_specs)} held-out nets again in a fresh process", flush=True)
        again = time_again_in_fresh_process(repeat_specs, timing)
        noise = accuracy_metrics(again, test_ms[: len(repeat_specs)])

    fitting_started = time.perf_counter()
    train_features, test_features = feature_matrix(train_specs), feature_matrix(test_specs)
    comparison = compare_families(train_features, train_ms, test_features, test_ms)
    predictor = LatencyPredictor(
        device=hardware if arguments.clock == "wall" else f"{hardware} (CPU time)",
        threads=threads, torch_version=torch.__version__, batch_size=1, dtype="float32", runtime=arguments.runtime,
    ).fit(train_specs, train_ms)
    predicted = predictor.predict_many_ms(test_specs)
    held_out = accuracy_metrics(predicted, test_ms)
    curve = learning_curve(train_specs, train_ms, test_specs, test_ms, arguments.seed)
    fitting_s = time.perf_counter() - fitting_started
    transferred = transfer(predictor, arguments.transfer_space, arguments.test, arguments.seed, timing)

    print()
    _print_table(comparison, noise)
    print(
        f"\nchosen (additive) on {len(test_specs)} held-out nets: {held_out['within_10pct']:.1%} within +-10%, "
        f"Spearman {held_out['spearman']:.3f}, MAPE {held_out['mape_pct']:.1f}%; "
        f"cross-validated relative error {predictor.relative_error:.1%}"
    )
    model_path = predictor.save(arguments.output.with_name(arguments.output.stem + "_model.json"))
    report = {
        "benchmark": "latency_predictor",
        "command": " ".join(["python -m benchmarks.latency_predictor", *(argv if argv is not None else sys.argv[1:])]),
        "device_name": hardware,
        "torch_version": torch.__version__,
        "threads": threads,
        "clock": arguments.clock,
        "runtime": arguments.runtime,
        "space": arguments.space,
        "seed": arguments.seed,
        "protocol": {
            **timing.protocol.to_dict(),
            "batch_size": 1,
            "statistic": "median of the timed runs",
            "clock": "wall: evaluators.latency.measure" if arguments.clock == "wall" else "cpu: time.thread_time of a 1-thread pass",
            "cache": "reused: nets measured before (by this benchmark or a search) are not timed again"
            if arguments.clock == "wall" else "not used",
            "split": "held-out nets drawn at random from all those timed (not the last ones timed)",
            "noise_floor": "held-out nets timed again in one freshly spawned process after all others, bypassing the cache",
        },
        "nets": {
            "train": len(train_specs),
            "test": len(test_specs),
            "from_cache": from_cache,
            "resolutions": dict(sorted(Counter(spec.resolution for spec in specs).items())),
            "gmacs_percentiles_10_50_90": [float(v) for v in np.percentile([cost(s).macs / 1e9 for s in specs], [10, 50, 90])],
            "measured_ms_percentiles_10_50_90": [float(v) for v in np.percentile(measured, [10, 50, 90])],
        },
        "held_out": held_out,
        "learning_curve": curve,
        "transfer": transferred,
        "cross_validated_on_train": predictor.metadata["held_out"],
        "relative_error": predictor.relative_error,
        "noise_floor": noise,
        "families": comparison,
        "skip_rule": skip_rule(predictor, predicted, test_ms),
        "coefficients": predictor.coefficients,
        "model_file": str(model_path),
        "seconds": {"sampling_and_measuring": measuring_s, "fitting_and_evaluating": fitting_s,
                    "total": time.perf_counter() - started},
        "marks_to_beat": {"nn_meter_within_10pct": 0.99, "additive_layerwise_desktop_cpu_spearman": 0.87},
    }
    write_json(arguments.output, _finite(report))
    print(f"wrote {arguments.output} and {model_path}")
    return 0


def _finite(value: Any) -> Any:
    """The report with NaN (an undefined rank correlation) as null, so the file is strict JSON."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


if __name__ == "__main__":
    sys.exit(main())
