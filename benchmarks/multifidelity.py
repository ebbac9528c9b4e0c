"""Multi-fidelity search: does ``--pruner`` find a better front than full trainings in the same wall time?

For each seed, ``search run`` (the optuna backend, in this process) runs once
per pruner of ``--pruners`` with the same ``--time-limit``, on digits with the
tabular space (``benchmarks/spaces/tabular.yaml``: small mbconv/fused nets),
no known nets and no final protocol, so the whole limit goes to the search and
the front's re-measurement.  Reported per pruner, as mean, standard deviation
and per seed:

* the hypervolume of the run's front (proxy accuracy up, search-time latency
  down), against one reference point for every run: accuracy 0 and 1.1 x the
  slowest feasible net any run found;
* trials finished (complete, pruned, infeasible, failed) and trials pruned.

Runs of one seed differ only by the pruner, so the paired difference of
hypervolumes (pruner minus none) is reported too.  Wall-time limits make the
figures depend on the machine's load: read them with their spread.

Run from the repository root::

    python -m benchmarks.multifidelity [--seeds 3] [--time-limit 90s] [--epochs 4] [--pruners none asha]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import add_output_arguments, write_result

SPACE_FILE = Path(__file__).resolve().parent / "spaces" / "tabular.yaml"


def one_run(out: str, pruner: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """One wall-time-limited search; its feasible front points and trial counts."""
    import search

    result = search.run(space=str(SPACE_FILE), dataset="digits", resolution=args.resolution,
                        proxy_resolution=args.proxy_resolution, proxy_epochs=args.epochs, proxy_batch_size=args.batch_size,
                        trials=10_000, time_limit=args.time_limit, known_nets_time="0", baselines=False, final_seeds=0,
                        threads=1, seed=seed, pruner=pruner, out=out, name=f"{pruner}_{seed}", quiet=True)
    trials = result.trials[result.trials["duplicate_of"].isna()]
    feasible = trials[(trials["state"] == "complete") & trials["accuracy"].notna() & trials["latency_ms"].notna()]
    return {"pruner": pruner, "seed": seed, "points": list(zip(feasible["accuracy"], feasible["latency_ms"])),
            "finished": int(trials["state"].isin(["complete", "pruned", "infeasible", "failed"]).sum()),
            "pruned": int((trials["state"] == "pruned").sum())}


def summarise(runs: list[dict[str, Any]], pruners: list[str]) -> dict[str, Any]:
    """Hypervolume (one reference for all runs), trials finished and pruned, per pruner; paired differences."""
    from search.run.pareto import hypervolume

    slowest = max((latency for run in runs for _, latency in run["points"]), default=1.0)
    reference = (0.0, 1.1 * slowest)
    for run in runs:
        run["hypervolume"] = hypervolume(run["points"], reference)

    def spread(values: list[float]) -> dict[str, Any]:
        return {"mean": statistics.mean(values), "stdev": statistics.stdev(values) if len(values) > 1 else None,
                "per_seed": values}

    summary: dict[str, Any] = {"reference_point": list(reference), "pruners": {}}
    by_pruner = {p: sorted((r for r in runs if r["pruner"] == p), key=lambda r: r["seed"]) for p in pruners}
    for pruner, chosen in by_pruner.items():
        summary["pruners"][pruner] = {key: spread([float(r[key]) for r in chosen]) for key in ("hypervolume", "finished", "pruned")}
        if pruner != "none" and "none" in by_pruner:
            summary["pruners"][pruner]["hypervolume_minus_none"] = spread(
                [r["hypervolume"] - base["hypervolume"] for r, base in zip(chosen, by_pruner["none"])])
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--time-limit", default="90s", help="each run's --time-limit (equal wall time per pruner)")
    parser.add_argument("--epochs", type=int, default=4, help="proxy epochs of a full training")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--resolution", type=int, default=32, help="deployment resolution latency is timed at")
    parser.add_argument("--proxy-resolution", type=int, default=16)
    parser.add_argument("--pruners", nargs="+", default=["none", "asha"], choices=["none", "asha", "hyperband"])
    add_output_arguments(parser, "multifidelity_digits")
    args = parser.parse_args()

    runs, started = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        for seed in range(args.seeds):
            for pruner in args.pruners:  # interleaved: a change in the machine's load hits every pruner alike
                runs.append(one_run(out, pruner, seed, args))
                print(f"seed {seed} {pruner}: {runs[-1]['finished']} trials, {runs[-1]['pruned']} pruned "
                      f"({time.perf_counter() - started:.0f}s)", flush=True)
    summary = summarise(runs, args.pruners)
    for pruner, figures in summary["pruners"].items():
        hv, finished = figures["hypervolume"], figures["finished"]
        paired = figures.get("hypervolume_minus_none")
        print(f"{pruner:10s} hypervolume {hv['mean']:.3f} (sd {hv['stdev'] or 0:.3f})  trials {finished['mean']:.1f}  "
              f"pruned {figures['pruned']['mean']:.1f}"
              + (f"  minus none {paired['mean']:+.3f} (sd {paired['stdev'] or 0:.3f})" if paired else ""))
    path = write_result("multifidelity_digits", {
        "command": f"python -m benchmarks.multifidelity --seeds {args.seeds} --time-limit {args.time_limit} "
                   f"--epochs {args.epochs} --pruners {' '.join(args.pruners)}",
        "settings": {k: v for k, v in vars(args).items() if k not in ("output", "overwrite")},
        **summary, "runs": runs,
    }, output=args.output, overwrite=args.overwrite)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
