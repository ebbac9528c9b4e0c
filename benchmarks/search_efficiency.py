"""Search efficiency on a tabular benchmark: how fast does each searcher find a good front?

Two phases (issue 9, item 4):

1. Table.  Every one of the 512 nets of ``benchmarks/spaces/tabular.yaml`` is
   trained once with the search's proxy (``evaluators.proxy.train``, digits
   upsampled to 32 px by default) and timed once at batch 1 on the CPU at
   224 px with one thread.  The table is written to
   ``results/benchmarks/tabular_<dataset>.json`` as it grows; a rerun reuses
   every stored net, so building it can be interrupted.
2. Searches.  Each searcher of ``search run`` (the same samplers, built by
   ``search.run.searchers.make_sampler``, with the same constraint mechanism)
   runs ``--seeds`` times for ``--trials`` trials against the table: a trial
   samples the space through optuna exactly as ``search run`` does and reads
   its accuracy and latency from the table instead of training.  The latency
   budget is the table's median latency (half the nets are infeasible).
   Reported: the hypervolume of the feasible front (accuracy up, latency
   down, reference point (0, budget)) after 25, 50 and 100 trials, as a share
   of the whole table's hypervolume, and how many trials each searcher needs
   to reach random search's mean 100-trial hypervolume.
3. Warm start (issue 20).  Each searcher runs again from the same seeds with
   the space's known nets that fit the budget queued as its first trials
   (``study.enqueue_trial``, as ``search run`` does).  The tabular space holds
   no zoo net, so its known nets are the family a designer would write without
   searching, chosen by a rule that never reads the table's accuracies:
   MobileNetV2's choice of inverted residuals with 3x3 kernels in every stage,
   at each of its 8 widths (a width-multiplier family).  Here the known nets
   count as trials (``search run`` does not count them, since the baseline
   phase evaluates them anyway): the comparison is conservative.

Target: the default searcher (tpe) needs at most a third of random's 100 trials.

Run from the repository root::

    python -m benchmarks.search_efficiency [--dataset digits] [--epochs 4] [--seeds 10] [--trials 100]
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks._common import RESULTS_DIR, add_output_arguments, environment, write_result

SPACE_FILE = Path(__file__).resolve().parent / "spaces" / "tabular.yaml"
SEARCHERS = ("tpe", "nsga2", "evolution", "random")
CHECKPOINTS = (25, 50, 100)
TARGET_SHARE_OF_RANDOM_TRIALS = 1 / 3


def enumerate_space() -> tuple[Any, list[dict[str, Any]]]:
    """The space and every combination of its (unconditional, categorical) knobs."""
    from search.spaces import load_space

    space = load_space(str(SPACE_FILE))
    knobs = space.knobs()
    if any(knob.kind != "categorical" or knob.when for knob in knobs):
        raise SystemExit("the tabular space must have only unconditional categorical knobs")
    names = [knob.name for knob in knobs]
    return space, [dict(zip(names, values)) for values in itertools.product(*(knob.values for knob in knobs))]


def table_path(settings: dict[str, Any], *, overwrite: bool) -> Path:
    """The table file: resumable, so named by its settings when the committed table was made with others."""
    path = RESULTS_DIR / f"tabular_{settings['dataset']}.json"
    if overwrite or not path.exists() or json.loads(path.read_text()).get("settings") == settings:
        return path
    return path.with_name(f"{path.stem}_e{settings['epochs']}_b{settings['batch_size']}_r{settings['proxy_resolution']}.json")


def build_table(args: argparse.Namespace) -> dict[str, Any]:
    from evaluators.data import load_dataset
    from evaluators.latency import TimingProtocol, measure
    from evaluators.proxy import ProxySettings, TrainingFailure, train
    from search.run.resources import default_proxy_resolution
    from search.spaces import FixedSuggest, SpaceContext
    from searchspace import encode

    resolution = args.proxy_resolution or default_proxy_resolution(args.dataset)
    settings = {"dataset": args.dataset, "epochs": args.epochs, "batch_size": args.batch_size, "proxy_resolution": resolution,
                "seed": 0, "latency_resolution": 224, "latency_threads": 1}
    path = table_path(settings, overwrite=args.overwrite)
    stored = json.loads(path.read_text()) if path.exists() else {}
    rows = stored.get("nets", {}) if stored.get("settings") == settings else {}
    dataset = load_dataset(args.dataset, seed=0)
    space, points = enumerate_space()
    context = SpaceContext(in_channels=dataset.in_channels, num_classes=dataset.num_classes, resolution=224)
    for index, point in enumerate(points):
        spec = space.sample(FixedSuggest(point), context)
        if spec.digest() in rows:
            continue
        started = time.perf_counter()
        settings = ProxySettings(epochs=args.epochs, batch_size=args.batch_size, resolution=resolution, seed=0)
        outcome = train(spec, dataset, settings)
        latency = measure(spec, "cpu", threads=1, cache=False, protocol=TimingProtocol(min_time_s=0.15, warmup_time_s=0.05))
        rows[spec.digest()] = {
            "spec": encode(spec),
            "accuracy": None if isinstance(outcome, TrainingFailure) else outcome.accuracy,
            "latency_ms": latency.median_ms,
        }
        print(f"[{index + 1}/{len(points)}] {rows[spec.digest()]['accuracy']} {latency.median_ms:.2f} ms "
              f"({time.perf_counter() - started:.1f}s)", flush=True)
        if len(rows) % 8 == 0 or len(rows) == len(points):
            path.write_text(json.dumps({"benchmark": "tabular_table", "environment": environment(),
                                        "settings": settings, "nets": rows}, indent=1) + "\n")
    return {"path": str(path), "settings": settings, "nets": rows, "space": space, "context": context}


def known_points(table: dict[str, Any], budget: float) -> list[dict[str, Any]]:
    """The warm start: the uniform-design family (mbconv, 3x3 in every stage) at each width, where it fits the budget."""
    from search.spaces import FixedSuggest

    _, points = enumerate_space()
    family = [p for p in points if all(v == "mbconv" for k, v in p.items() if k.endswith(".block"))
              and all(v == 3 for k, v in p.items() if k.endswith(".kernel"))]
    fitting = []
    for point in family:
        row = table["nets"][table["space"].sample(FixedSuggest(point), table["context"]).digest()]
        if row["latency_ms"] <= budget:
            fitting.append(point)
    return fitting


def run_search(
    table: dict[str, Any], searcher: str, seed: int, trials: int, budget: float, warm: list[dict[str, Any]] = (),
) -> list[tuple[float, float] | None]:
    """One search against the table: the feasible (accuracy, latency) of each trial, or None; ``warm`` first."""
    import optuna

    from search.run.searchers import make_sampler
    from search.spaces import OptunaSuggest

    study = optuna.create_study(directions=["maximize", "minimize"], sampler=make_sampler(searcher, seed, trials))
    for point in warm:
        study.enqueue_trial(point)
    points: list[tuple[float, float] | None] = []
    for _ in range(trials):
        trial = study.ask()
        spec = table["space"].sample(OptunaSuggest(trial), table["context"])
        row = table["nets"][spec.digest()]
        violation = row["latency_ms"] / budget - 1.0
        trial.set_constraint("latency", violation)
        study.tell(trial, [row["accuracy"] or 0.0, row["latency_ms"]])
        points.append((row["accuracy"], row["latency_ms"]) if violation <= 0 and row["accuracy"] is not None else None)
    return points


def trials_to_reach(history: list[float], target: float) -> int | None:
    return next((k + 1 for k, value in enumerate(history) if value >= target), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--epochs", type=int, default=4, help="proxy epochs of the table (search run's default: 4)")
    parser.add_argument("--batch-size", type=int, default=128, help="proxy batch size of the table (search run's default: 128)")
    parser.add_argument("--proxy-resolution", type=int, default=None, help="default: the dataset's, as in search run")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    add_output_arguments(parser, "search_efficiency_<dataset>")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.getLogger("optuna").setLevel(logging.WARNING)

    from search.run.pareto import hypervolume, hypervolume_history

    table = build_table(args)
    feasible_rows = [r for r in table["nets"].values() if r["accuracy"] is not None]
    budget = statistics.median(r["latency_ms"] for r in feasible_rows)
    reference = (0.0, budget)
    best_possible = hypervolume([(r["accuracy"], r["latency_ms"]) for r in feasible_rows], reference)

    warm = known_points(table, budget)
    histories: dict[str, list[list[float]]] = {}
    started = time.perf_counter()
    for searcher, start in itertools.product(SEARCHERS, ((), warm)):
        label = f"{searcher}+warm" if start else searcher
        histories[label] = [
            [value / best_possible
             for value in hypervolume_history(run_search(table, searcher, seed, args.trials, budget, start), reference)]
            for seed in range(args.seeds)
        ]
        print(f"{label}: done ({time.perf_counter() - started:.0f}s)", flush=True)

    random_target = statistics.mean(history[-1] for history in histories["random"])
    summary = {}
    for searcher, runs in histories.items():
        reach = [trials_to_reach(history, random_target) for history in runs]
        reached = [k for k in reach if k is not None]
        summary[searcher] = {
            "hypervolume_share": {
                str(k): {"mean": statistics.mean(h[k - 1] for h in runs), "stdev": statistics.stdev(h[k - 1] for h in runs)}
                for k in CHECKPOINTS if k <= args.trials
            },
            "trials_to_reach_random_final": {"per_seed": reach, "median": statistics.median(reached) if reached else None,
                                             "reached": f"{len(reached)}/{len(reach)}"},
        }
    print(f"\nTable: {len(table['nets'])} nets ({table['path']}); budget {budget:.2f} ms (median); "
          f"hypervolume as a share of the whole table's front; {args.seeds} seeds; "
          f"+warm: {len(warm)} known nets queued first (counted as trials)")
    print(f"{'searcher':10s}" + "".join(f"  HV@{k:<10d}" for k in CHECKPOINTS if k <= args.trials)
          + f"  trials to reach random's HV@{args.trials} ({random_target:.3f})")
    for searcher, figures in summary.items():
        cells = "".join(f"  {figures['hypervolume_share'][str(k)]['mean']:.3f}±{figures['hypervolume_share'][str(k)]['stdev']:.3f}"
                        for k in CHECKPOINTS if k <= args.trials)
        reach = figures["trials_to_reach_random_final"]
        print(f"{searcher:10s}{cells}  median {reach['median']} (reached in {reach['reached']} seeds)")
    tpe_median = summary["tpe"]["trials_to_reach_random_final"]["median"]
    path = write_result(f"search_efficiency_{args.dataset}", {
        "command": f"python -m benchmarks.search_efficiency --dataset {args.dataset} --epochs {args.epochs} "
                   f"--batch-size {args.batch_size} --proxy-resolution {table['settings']['proxy_resolution']} "
                   f"--seeds {args.seeds} --trials {args.trials}",
        "table": {"path": table["path"], "nets": len(table["nets"]), "settings": table["settings"]},
        "budget_ms": budget,
        "reference_point": list(reference),
        "table_hypervolume": best_possible,
        "random_final_share": random_target,
        "warm_start": {"known_nets": warm, "counted_as_trials": True,
                       "rule": "mbconv with 3x3 kernels in every stage, each width, within the budget"},
        "searchers": summary,
        "target": f"tpe reaches random's {args.trials}-trial hypervolume within {args.trials * TARGET_SHARE_OF_RANDOM_TRIALS:.0f} trials",
        "meets_target": tpe_median is not None and tpe_median <= args.trials * TARGET_SHARE_OF_RANDOM_TRIALS,
        "histories": histories,
    }, output=args.output, overwrite=args.overwrite)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
