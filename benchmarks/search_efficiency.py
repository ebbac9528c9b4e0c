"""Search efficiency on tabular benchmarks: how fast does each searcher find a good front?

Two tables, each a space whose every point has a stored or computed score, so a
search of 100 trials takes seconds and 20 seeds give confidence intervals:

- ``--table surrogate`` (the default, issue 21): the 8,192 nets of
  ``benchmarks/spaces/tabular_unified.yaml``, a corner of the default space
  ``unified`` at 224 px, scored by ``benchmarks/tabular_surrogate.py``
  (latency from the committed predictor, accuracy from an analytic surrogate;
  its docstring says why and how).  Random search's 100 trials reach 0.68 of
  the best hypervolume here, against 0.90 on the 512-net table: a space where
  searchers can differ.
- ``--table trained`` (issue 9): every one of the 512 nets of
  ``benchmarks/spaces/tabular.yaml`` trained once with the search's proxy and
  timed once at batch 1 on the CPU (224 px, one thread), stored in
  ``results/benchmarks/tabular_<dataset>.json`` as it grows (a rerun reuses
  every stored net; the committed table: ``--epochs 2 --batch-size 32
  --proxy-resolution 16``).

Each searcher set-up (``SETUPS``: the samplers of ``search run``, built by
``search.run.searchers.make_sampler``, with the same constraint mechanism) runs
``--seeds`` times for ``--trials`` trials: a trial samples the space through
optuna exactly as ``search run`` does and reads its accuracy and latency from
the table.  The latency budget is the table's median latency (half the nets
are infeasible).  Set-ups with workers ask that many trials before telling any,
as parallel Ray workers do, with and without TPE's constant liar.  "+warm"
set-ups queue the space's known family that fits the budget as the first trials
(``study.enqueue_trial``, issue 20); the family is chosen by a design rule that
never reads a score, and counts as trials here (``search run`` does not count
them): the comparison is conservative.

Reported (``benchmarks.search_stats``): the hypervolume of the feasible front
(accuracy up, latency down) after 25, 50 and 100
trials as a share of the whole table's, mean and bootstrap 95% CI over seeds;
the reference point is the table's nadir, (worst accuracy, budget): with
accuracy 0 as the reference, as before issue 21, the surrogate's accuracies
(0.61-0.80) sit on a large offset, so the one fastest net found is most of the
hypervolume and a warm start "reaches" random's figure with its first trial;
and the trials needed to reach random search's mean 100-trial share, median and
bootstrap 95% CI.  Target: the default searcher needs at most a third of
random's 100 trials.

Run from the repository root (OMP_NUM_THREADS=1)::

    python -m benchmarks.search_efficiency [--table surrogate|trained] [--seeds 20] [--trials 100]
"""


from __future__ import annotations

import argparse
import itertools
import json
import logging
import statistics
import time
from pathlib import Path
from typing import Any, NamedTuple

import torch

from benchmarks._common import RESULTS_DIR, add_output_arguments, environment, write_result
from benchmarks.search_stats import summarize
from search.run.config import RunConfig

SPACE_FILE = Path(__file__).resolve().parent / "spaces" / "tabular.yaml"


class Searcher(NamedTuple):
    label: str
    searcher: str  # a name of search run --searcher
    workers: int = 1
    constant_liar: bool = True
    warm: bool = False


SETUPS = (
    Searcher("random", "random"),
    Searcher("tpe", "tpe"),
    Searcher("tpe-short", "tpe-short"),
    Searcher("gp", "gp"),
    Searcher("nsga2", "nsga2"),
    Searcher("evolution", "evolution"),
    Searcher("tpe x4 workers", "tpe", workers=4),
    Searcher("tpe x4 workers, no liar", "tpe", workers=4, constant_liar=False),
    Searcher("tpe+warm", "tpe", warm=True),
    Searcher("tpe-short+warm", "tpe-short", warm=True),
    Searcher("nsga2+warm", "nsga2", warm=True),
    Searcher("evolution+warm", "evolution", warm=True),
)
DEFAULT_SEARCHER = RunConfig.__dataclass_fields__["searcher"].default
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


def mobilenet_family(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The 512-net space's warm start: mbconv with 3x3 kernels in every stage, at each of its 8 widths."""
    return [p for p in points if all(v == "mbconv" for k, v in p.items() if k.endswith(".block"))
            and all(v == 3 for k, v in p.items() if k.endswith(".kernel"))]


def fitting_known_points(table: dict[str, Any], budget: float) -> list[dict[str, Any]]:
    """The table's known family, less the nets over the budget (search run enqueues only nets that fit)."""
    from search.spaces import FixedSuggest

    return [point for point in table["known"]
            if table["nets"][table["space"].sample(FixedSuggest(point), table["context"]).digest()]["latency_ms"] <= budget]


def run_search(table: dict[str, Any], budget: float, setup: Searcher, seed: int, trials: int,
               warm: list[dict[str, Any]]) -> list[tuple[float, float] | None]:
    """One search against the table: the feasible (accuracy, latency) of each trial in the order asked, or None.

    ``setup.workers`` trials are asked before any is told, as parallel workers
    would: each asks while the others' trials still run.
    """
    import optuna

    from search.run.searchers import make_sampler
    from search.spaces import OptunaSuggest

    sampler = make_sampler(setup.searcher, seed, trials, constant_liar=setup.constant_liar)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    for point in warm if setup.warm else ():
        study.enqueue_trial(point)
    points: list[tuple[float, float] | None] = []
    running: list[tuple[Any, dict[str, Any]]] = []
    for number in range(trials):
        trial = study.ask()
        running.append((trial, table["nets"][table["space"].sample(OptunaSuggest(trial), table["context"]).digest()]))
        if len(running) < setup.workers and number + 1 < trials:
            continue
        for trial, row in running:
            violation = row["latency_ms"] / budget - 1.0
            trial.set_constraint("latency", violation)
            study.tell(trial, [row["accuracy"] or 0.0, row["latency_ms"]])
            points.append((row["accuracy"], row["latency_ms"]) if violation <= 0 and row["accuracy"] is not None else None)
        running = []
    return points


def load_table(args: argparse.Namespace) -> dict[str, Any]:
    if args.table == "trained":
        table = build_table(args)
        table["points"] = enumerate_space()[1]
        table["known"] = mobilenet_family(table["points"])
        table["known_rule"] = "mbconv with 3x3 kernels in every stage, each width"
        return table
    from benchmarks.tabular_surrogate import surrogate_table

    return surrogate_table(small=args.small)


def search_histories(table: dict[str, Any], args: argparse.Namespace, reference: tuple[float, float],
                     best: float) -> dict[str, list]:
    """Label -> one hypervolume-share history per seed, for every searcher set-up asked for."""
    from search.run.pareto import hypervolume_history

    budget = reference[1]
    warm = fitting_known_points(table, budget)
    histories, started = {}, time.perf_counter()
    for setup in SETUPS:
        if setup.label not in args.searchers:
            continue
        seeds = min(args.seeds, args.gp_seeds) if setup.searcher == "gp" else args.seeds
        histories[setup.label] = [
            [round(v / best, 6) for v in hypervolume_history(run_search(table, budget, setup, seed, args.trials, warm), reference)]
            for seed in range(seeds)
        ]
        print(f"{setup.label}: {seeds} seeds done ({time.perf_counter() - started:.0f}s)", flush=True)
    return histories


def report(summary: dict[str, Any], checkpoints: list[int], target: float, trials: int) -> None:
    print(f"{'searcher':26s}" + "".join(f"  HV@{k} [95% CI]".ljust(24) for k in checkpoints)
          + f"  trials to reach random's HV@{trials} ({target:.3f}): median [95% CI]")
    for label, figures in summary.items():
        cells = "".join(f"  {s['mean']:.3f} [{s['ci95'][0]:.3f}, {s['ci95'][1]:.3f}]".ljust(24)
                        for s in figures["hypervolume_share"].values())
        reach = figures["trials_to_reach"]
        print(f"{label:26s}{cells}  {reach['median']} [{reach['ci95'][0]}, {reach['ci95'][1]}] "
              f"(reached in {reach['reached']} seeds)")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", choices=("surrogate", "trained"), default="surrogate",
                        help="surrogate: the 8,192-net corner of unified (benchmarks/tabular_surrogate.py); "
                             "trained: the 512 trained and timed nets")
    parser.add_argument("--small", action="store_true", help="a 512-net surrogate space (tests)")
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--epochs", type=int, default=4, help="proxy epochs of the table (search run's default: 4)")
    parser.add_argument("--batch-size", type=int, default=128, help="proxy batch size of the table (search run's default: 128)")
    parser.add_argument("--proxy-resolution", type=int, default=None, help="default: the dataset's, as in search run")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--gp-seeds", type=int, default=20, help="seeds of the gp searcher (slow per trial)")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--searchers", nargs="+", default=[s.label for s in SETUPS], metavar="LABEL",
                        help=f"set-ups to run (random is always run: it sets the target): {', '.join(s.label for s in SETUPS)}")
    parser.add_argument("--threads", type=int, default=1)
    add_output_arguments(parser, "search_efficiency_<surrogate|dataset>")
    args = parser.parse_args()
    unknown = set(args.searchers) - {s.label for s in SETUPS}
    if unknown:
        parser.error(f"unknown searcher set-up(s): {', '.join(sorted(unknown))}")
    args.searchers = set(args.searchers) | {"random"}
    return args


def main() -> None:
    args = parse_arguments()
    torch.set_num_threads(args.threads)
    logging.getLogger("optuna").setLevel(logging.WARNING)
    from search.run.pareto import hypervolume

    table = load_table(args)
    feasible_rows = [r for r in table["nets"].values() if r["accuracy"] is not None]
    budget = statistics.median(r["latency_ms"] for r in feasible_rows)
    reference = (min(r["accuracy"] for r in feasible_rows), budget)  # the table's nadir: see the module's docstring
    best = hypervolume([(r["accuracy"], r["latency_ms"]) for r in feasible_rows], reference)
    histories = search_histories(table, args, reference, best)
    target = statistics.mean(history[-1] for history in histories["random"])
    checkpoints = [k for k in CHECKPOINTS if k <= args.trials]
    summary = {label: summarize(runs, target, checkpoints) for label, runs in histories.items()}
    print(f"\nTable: {len(table['nets'])} nets ({table['path']}); budget {budget:.2f} ms (median); hypervolume as a "
          f"share of the whole table's front; {args.seeds} seeds; +warm: known nets queued first (counted as trials)")
    report(summary, checkpoints, target, args.trials)
    name = "search_efficiency_" + ("surrogate" + ("_small" if args.small else "") if args.table == "surrogate" else args.dataset)
    default = summary.get(DEFAULT_SEARCHER, {}).get("trials_to_reach", {}).get("median")
    path = write_result(name, {
        "command": command_line(args, table),
        "table": {"path": table["path"], "nets": len(table["nets"]), "settings": table["settings"]},
        "budget_ms": budget, "reference_point": list(reference), "table_hypervolume": best,
        "random_final_share": target,
        "warm_start": {"known_nets": fitting_known_points(table, budget), "counted_as_trials": True, "rule": table["known_rule"]},
        "setups": {s.label: s._asdict() for s in SETUPS if s.label in histories},
        "searchers": summary,
        "default_searcher": DEFAULT_SEARCHER,
        "target": f"the default searcher reaches random's {args.trials}-trial hypervolume within "
                  f"{args.trials * TARGET_SHARE_OF_RANDOM_TRIALS:.0f} trials (median over seeds)",
        "meets_target": default is not None and default <= args.trials * TARGET_SHARE_OF_RANDOM_TRIALS,
        "histories": histories,
    }, output=args.output, overwrite=args.overwrite)
    print(f"written to {path}")


def command_line(args: argparse.Namespace, table: dict[str, Any]) -> str:
    data = (f" --dataset {args.dataset} --epochs {args.epochs} --batch-size {args.batch_size} "
            f"--proxy-resolution {table['settings']['proxy_resolution']}" if args.table == "trained" else "")
    chosen = [s.label for s in SETUPS if s.label in args.searchers and s.label != "random"]
    setups = "" if len(chosen) == len(SETUPS) - 1 else " --searchers " + " ".join(f"'{label}'" for label in chosen)
    return (f"OMP_NUM_THREADS=1 python -m benchmarks.search_efficiency --table {args.table}{' --small' if args.small else ''}"
            f"{data} --seeds {args.seeds} --gp-seeds {args.gp_seeds} --trials {args.trials}{setups}")


if __name__ == "__main__":
    main()
