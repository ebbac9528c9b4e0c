"""Which zoo nets fit a latency budget on this machine, and which of those the default space holds (issue 20).

Every zoo net at the deployment resolution (224 px), batch 1, with the default
run's dataset's input channels and classes (``adapt_to_run``, as ``search run``
adapts its known nets), timed with the product's own measurement
(``evaluators.latency``: the protocol's warm-up, timed runs and contention
retries; its ``estimate_ms`` is the figure a run judges a net by).  Each net is
timed ``--repeats`` times, interleaved (one pass over all nets per repeat), so a
burst of load from other processes spreads over many nets rather than landing
on one; the cache is bypassed so every repeat is a fresh timing.

Timings take the device lock as a run's do (evaluators/devicelock.py), so they
wait for trainings that hold the CPU.  Where other people's long trainings hold
it, ``CONVSPACE_CACHE=/tmp/somewhere`` gives the script a lock of its own: the
timings then run beside those trainings, and the protocol's calibration says
how much they were slowed (``contended``: timings still slowed after the
retries, judged by their fastest run; ``max_slowdown``).

Wall-clock on a shared machine is noisy: a net is ``fits`` when its slowest
repeat is within the budget, ``over`` when its fastest is over, and
``borderline`` when the repeats straddle the budget.  A borderline net may fit
on a quieter day, so the default space must hold it as much as a fitting one.

    python -m benchmarks.zoo_fit [--budget-ms 50] [--repeats 3] [--mac-cut-g 12]
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import replace
from typing import Any

from benchmarks._common import add_output_arguments, write_result

NAME = "zoo_fit"
RESOLUTION = 224  # the default run's deployment resolution (RunConfig.resolution)
# Nets above this many MACs are not timed: on the 2-core test machine the highest MAC throughput of
# any known net was about 100 MMAC/ms (ResNet-50, 4.0 GMACs in 41 ms, results/examples/digits-50ms),
# so 12 GMACs would need 2.4 times that to fit 50 ms.  Dense plain convs (VGG) run faster per MAC than
# residual nets, which is why the margin is that wide; this cut leaves VGG-11 and -13 to be timed.
MAC_CUT_G = 12.0


def deployment_nets(resolution: int) -> dict[str, Any]:
    """Every zoo net as the default run would time it: its resolution, the default dataset's channels and classes."""
    from evaluators.data import load_dataset
    from search.run.config import RunConfig
    from search.run.evaluate import adapt_to_run
    from searchspace import SpecError, zoo

    dataset = load_dataset(RunConfig(name="zoo_fit").dataset)
    nets = {}
    for name in zoo.names():
        try:
            nets[name] = adapt_to_run(zoo.get(name, resolution=resolution), dataset)
        except SpecError as error:  # as search run does: a net that cannot take the resolution is no baseline
            print(f"{name}: not at {resolution} px: {error}")
    return nets


def timed_rounds(nets: dict[str, Any], repeats: int, threads: int | None) -> dict[str, list[Any]]:
    """``repeats`` interleaved timings (LatencyResult) of each net: a pass over all nets per repeat.

    Each timing is ``measure`` as a run calls it, cache bypassed; a net is built
    anew for each (holding a hundred built nets at once took 10 GB).
    """
    from evaluators.latency import measure

    timings: dict[str, list[Any]] = {name: [] for name in nets}
    for repeat in range(repeats):
        for name, spec in nets.items():
            result = measure(spec, "cpu", threads=threads, cache=False)
            timings[name].append(result)
            print(f"  {name}: {result.estimate_ms:.2f} ms" + (f" (slowed {result.slowdown:.2f}x)" if result.contended else ""),
                  flush=True)
        print(f"repeat {repeat + 1}/{repeats} done", flush=True)
    return timings


def verdict(times_ms: list[float], budget_ms: float) -> str:
    if max(times_ms) <= budget_ms:
        return "fits"
    return "over" if min(times_ms) > budget_ms else "borderline"


def rows(nets: dict[str, Any], timings: dict[str, list[Any]], budget_ms: float, space) -> list[dict[str, Any]]:
    from evaluators.cost import cost

    table = []
    for name, spec in nets.items():
        results = timings.get(name)
        row = {"name": name, "gmacs": round(cost(spec).macs / 1e9, 3), "in_default_space": name in space.baselines}
        if results:
            times = [result.estimate_ms for result in results]
            row.update(median_ms=round(statistics.median(times), 2), min_ms=round(min(times), 2),
                       max_ms=round(max(times), 2), verdict=verdict(times, budget_ms),
                       contended=sum(result.contended for result in results),
                       max_slowdown=round(max(result.slowdown or 1.0 for result in results), 2))
        else:
            row.update(verdict="over (MACs)")
        table.append(row)
    return sorted(table, key=lambda row: (row.get("median_ms", float("inf")), row["gmacs"]))


def print_table(table: list[dict[str, Any]], budget_ms: float) -> None:
    print(f"{'net':34s} {'GMACs':>7s} {'median':>8s} {'min':>8s} {'max':>8s}  {'verdict':12s} in default space")
    for row in table:
        times = "".join(f" {row[key]:8.2f}" if key in row else f" {'-':>8s}" for key in ("median_ms", "min_ms", "max_ms"))
        print(f"{row['name']:34s} {row['gmacs']:7.3f}{times}  {row['verdict']:12s} {'yes' if row['in_default_space'] else 'NO'}")
    must = [row for row in table if row["verdict"] in ("fits", "borderline")]
    missing = [row["name"] for row in must if not row["in_default_space"]]
    print(f"{len(must)} nets fit or are borderline at {budget_ms:g} ms; not in the default space: {', '.join(missing) or 'none'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-ms", type=float, default=50.0)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved timings per net")
    parser.add_argument("--mac-cut-g", type=float, default=MAC_CUT_G, help="GMACs above which a net is not timed")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's, as search run)")
    parser.add_argument("--only", nargs="*", default=None, help="time only these zoo nets")
    add_output_arguments(parser, NAME)
    args = parser.parse_args(argv)

    from evaluators.cost import cost
    from search.spaces import load_space
    from search.spaces.default import DEFAULT_SPACE

    nets = deployment_nets(RESOLUTION)
    if args.only:
        nets = {name: nets[name] for name in args.only}
    timed = {name: spec for name, spec in nets.items() if cost(spec).macs <= args.mac_cut_g * 1e9}
    timings = timed_rounds(timed, args.repeats, args.threads)
    table = rows(nets, timings, args.budget_ms, load_space(DEFAULT_SPACE))
    print_table(table, args.budget_ms)
    path = write_result(NAME, {"budget_ms": args.budget_ms, "resolution": RESOLUTION, "batch": 1, "device": "cpu",
                               "repeats": args.repeats, "mac_cut_g": args.mac_cut_g, "default_space": DEFAULT_SPACE,
                               "note": "wall-clock on a shared machine: see each net's min and max over the repeats",
                               "nets": table}, output=args.output, overwrite=args.overwrite)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
