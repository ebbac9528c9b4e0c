"""How much does the runtime change a net's latency?  The same nets timed in every ``--runtime``.

A budget means something only in the runtime a net ships in (issue 16 saw
5.6 ms eager against 2.3 ms in onnxruntime for one net).  This script times a
few zoo nets, at 224 px and at a small run's resolution, in each runtime of
:mod:`evaluators.latency.runtimes`, through the code a search uses
(:func:`evaluators.latency.ready_net`: one conversion, then timings).

The runtimes are timed **interleaved**: round after round, each runtime gets
one short timing, in an order rotated every round, so a slow spell of a shared
machine hits every runtime alike instead of one entirely.  A runtime's figure
is the median of its round medians, with the half range of those medians as
its spread.  The machine's load average before and after is recorded: on a
shared machine the figures are under that load.

Run from any folder::

    python -m benchmarks.runtime_latency [--nets mobilenet_v2 resnet18] [--resolutions 224 32]
        [--runtimes eager onnxruntime torchscript compile] [--rounds 5] [--threads 1] [--output PATH]

Writes ``results/benchmarks/runtime_latency.json`` (a dated file beside it if
that exists; ``--overwrite`` replaces it).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from typing import Any

import torch

from benchmarks._common import add_output_arguments, write_result
from evaluators.latency import RUNTIMES, ConversionFailed, TimingProtocol, ready_net
from searchspace import build, zoo

# One round's share of a runtime: a few passes, so that rounds are many and close together in time.
ROUND_PROTOCOL = TimingProtocol(warmup_runs=2, warmup_time_s=0.0, min_runs=5, min_time_s=0.2, max_runs=200, calibrated=False)


def time_runtimes(name: str, resolution: int, runtimes: list[str], rounds: int, threads: int) -> dict[str, Any]:
    """One net at one resolution in every runtime: conversion time, then interleaved round medians."""
    spec = dataclasses.replace(zoo.get(name), resolution=resolution)
    shape = (1, spec.in_channels, resolution, resolution)
    ready, failures, conversion_s = {}, {}, {}
    for runtime in runtimes:
        started = time.perf_counter()
        try:
            ready[runtime] = ready_net(build(spec), shape, "cpu", threads, runtime=runtime)
        except ConversionFailed as error:
            failures[runtime] = str(error)
        conversion_s[runtime] = round(time.perf_counter() - started, 2)
    medians: dict[str, list[float]] = {runtime: [] for runtime in ready}
    order = list(ready)
    for number in range(rounds):
        shift = number % len(order)
        for runtime in order[shift:] + order[:shift]:
            medians[runtime].append(ready[runtime].time(ROUND_PROTOCOL).median_ms)
    figures = {runtime: _summary(values, conversion_s[runtime]) for runtime, values in medians.items()}
    return {"net": name, "resolution": resolution, "runtimes": figures, "failed": failures}


def _summary(round_medians: list[float], conversion_s: float) -> dict[str, Any]:
    return {
        "median_ms": statistics.median(round_medians),
        "spread_ms": (max(round_medians) - min(round_medians)) / 2,
        "round_medians_ms": round_medians,
        "conversion_s": conversion_s,
    }


def _load() -> dict[str, float]:
    one, five, fifteen = os.getloadavg()
    return {"1min": one, "5min": five, "15min": fifteen}


def _print_case(case: dict[str, Any]) -> None:
    eager = case["runtimes"].get("eager", {}).get("median_ms")
    print(f"{case['net']} at {case['resolution']} px")
    for runtime, figures in case["runtimes"].items():
        ratio = f"  {figures['median_ms'] / eager:5.2f}x eager" if eager else ""
        print(f"  {runtime:<12} {figures['median_ms']:9.2f} ms  ± {figures['spread_ms']:6.2f}  "
              f"(converted in {figures['conversion_s']:.1f} s){ratio}")
    for runtime, reason in case["failed"].items():
        print(f"  {runtime:<12} failed: {reason}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nets", nargs="+", default=["mobilenet_v2", "resnet18"], help="zoo net names")
    parser.add_argument("--resolutions", nargs="+", type=int, default=[224, 32],
                        help="input resolutions: 224, and a small run's (default: 224 32)")
    parser.add_argument("--runtimes", nargs="+", choices=RUNTIMES, default=list(RUNTIMES))
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per net and resolution")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads, as --threads of search run")
    add_output_arguments(parser, "runtime_latency")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    load_before, cases = _load(), []
    for name in args.nets:
        for resolution in args.resolutions:
            cases.append(time_runtimes(name, resolution, args.runtimes, args.rounds, args.threads))
            _print_case(cases[-1])
    load_after = _load()
    print(f"load average before {load_before['1min']:.2f}, after {load_after['1min']:.2f} "
          f"on {os.cpu_count()} CPUs: figures are under that load")
    path = write_result("runtime_latency", {
        "protocol": {"rounds": args.rounds, "per_round": ROUND_PROTOCOL.to_dict(), "threads": args.threads,
                     "interleaved": True},
        "load_average": {"before": load_before, "after": load_after, "cpu_count": os.cpu_count()},
        "cases": cases,
    }, output=args.output, overwrite=args.overwrite)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
