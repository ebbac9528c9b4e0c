"""Search overhead: the share of a trial's wall time spent outside training and latency measurement.

Runs ``search run`` with the default settings (space, proxy, protocol) but no
baselines, then takes each trial's full cycle from the run's log: the time
between one trial's "complete" line and the next, which covers asking the
sampler, sampling and costing the net, the predictor's check, timing,
training, telling optuna, rewriting the trial tables and refitting the
latency predictor.  Training (``proxy_seconds``: set-up, epochs and
validation) and latency measurement (``latency_seconds``: probe, warm-up and
timed runs) come from the trial table; the rest is overhead.

Target: under 5% of a trial's wall time.

Run from the repository root::

    python -m benchmarks.trial_overhead [--trials 20] [--dataset digits] [--budget 50ms]
    python -m benchmarks.trial_overhead --run results/examples/digits-50ms   # a finished run
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
from datetime import datetime
from pathlib import Path

import pandas as pd

from benchmarks._common import add_output_arguments, write_result

TARGET_SHARE = 0.05
_COMPLETE = re.compile(r"^(\S+ \S+) INFO trial (\d+) (?:complete|infeasible|failed|pruned)")


def trial_cycles(log: Path) -> dict[int, float]:
    """Seconds from the previous trial's end to this trial's end, for every trial but the first."""
    ends = []
    for line in log.read_text().splitlines():
        match = _COMPLETE.match(line)
        if match:
            ends.append((int(match.group(2)), datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")))
    return {number: (end - ends[i - 1][1]).total_seconds() for i, (number, end) in enumerate(ends) if i > 0}


def run_search(args: argparse.Namespace, out: Path) -> None:
    from search.cli import main as search_main

    code = search_main(["run", "--budget", args.budget, "--device", "cpu", "--dataset", args.dataset,
                        "--trials", str(args.trials), "--time-limit", "60m", "--no-baselines", "--quiet",
                        "--out", str(out), "--name", "overhead"])
    if code != 0:
        raise SystemExit(f"search run failed with exit code {code}")


def read_run(run: Path) -> tuple[dict[int, float], pd.DataFrame]:
    trials = pd.read_csv(run / "trials.csv")
    trials = trials[trials["baseline"].isna()]
    if "warm_start" in trials:  # a warm-start trial copies its known net's record: it trained and timed nothing itself
        trials = trials[trials["warm_start"].isna()]
    trials = trials.astype({"number": int}).set_index("number")
    return trial_cycles(run / "search.log"), trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--budget", default="50ms")
    parser.add_argument("--run", type=Path, default=None,
                        help="analyse this finished run folder instead of running a new search")
    add_output_arguments(parser, "trial_overhead")
    args = parser.parse_args()

    if args.run is not None:
        cycles, trials = read_run(args.run)
        command = f"python -m benchmarks.trial_overhead --run {args.run}"
    else:
        with tempfile.TemporaryDirectory() as out:
            run_search(args, Path(out))
            cycles, trials = read_run(Path(out) / "overhead")
        command = f"python -m benchmarks.trial_overhead --trials {args.trials} --dataset {args.dataset} --budget {args.budget}"

    rows = []
    for number, cycle in cycles.items():
        if number not in trials.index:  # a warm-start copy (see read_run)
            continue
        measured = trials.loc[number, ["proxy_seconds", "latency_seconds"]].fillna(0.0).sum()
        rows.append({"trial": number, "state": trials.loc[number, "state"], "cycle_seconds": cycle,
                     "work_seconds": float(measured), "overhead_seconds": cycle - float(measured)})
    total_cycle = sum(r["cycle_seconds"] for r in rows)
    total_overhead = sum(r["overhead_seconds"] for r in rows)
    share = total_overhead / total_cycle
    median_overhead = statistics.median(r["overhead_seconds"] for r in rows)
    print(f"{len(rows)} trials, {total_cycle:.1f} s in all: training + latency {total_cycle - total_overhead:.1f} s, "
          f"overhead {total_overhead:.1f} s = {100 * share:.1f}% (target < {100 * TARGET_SHARE:.0f}%); "
          f"median overhead per trial {median_overhead:.2f} s")
    path = write_result("trial_overhead", {
        "command": command,
        "trials": len(rows),
        "total_seconds": total_cycle,
        "overhead_seconds": total_overhead,
        "overhead_share": share,
        "median_overhead_per_trial_seconds": median_overhead,
        "target_share": TARGET_SHARE,
        "meets_target": share < TARGET_SHARE,
        "per_trial": rows,
    }, output=args.output, overwrite=args.overwrite)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
