"""Does measured latency hold on a busy machine?  One net timed quiet, then beside a competing CPU load.

Issue 21: a front member measured 49 ms during a search and 287 ms when timed
again under load.  This script times the same net three ways:

* **quiet**: the contention-aware protocol, nothing else started;
* **loaded, plain**: the protocol without calibration (the protocol before
  issue 21), while busy-loop processes this script starts compete for the CPU;
* **loaded, contention-aware**: the calibrated protocol under the same load:
  a timing taken while the calibration kernel ran slowed is taken again, and
  one still slowed after the retries carries its measured slowdown and a flag.

The loaded figures are honest only if they are within 10% of the quiet one or
flagged.  The load is a bounded busy loop per process (``--load-processes``,
default: one per CPU) that the script stops itself; the machine's own load
average is recorded too, since on a shared machine "quiet" is relative.

Run from any folder::

    python -m benchmarks.latency_contention [--net mobilenet_v2] [--resolution 224] [--threads 1]
        [--load-processes N] [--repeats 3] [--output PATH]

Writes ``results/benchmarks/latency_contention.json`` (a dated file beside it
if that exists; ``--overwrite`` replaces it).
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import time
from typing import Any

import torch

from benchmarks._common import add_output_arguments, write_result
from evaluators.latency import TimingProtocol, ready_net
from searchspace import build, zoo

LOAD_SECONDS_LIMIT = 600.0  # a busy loop ends by itself after this, even if the script is killed


def _busy_loop(stop: Any) -> None:
    deadline = time.monotonic() + LOAD_SECONDS_LIMIT
    while not stop.is_set() and time.monotonic() < deadline:
        sum(i * i for i in range(10_000))


def timed(net, protocol: TimingProtocol, repeats: int) -> list[dict[str, Any]]:
    results = []
    for _ in range(repeats):
        result = net.time(protocol)
        results.append({"median_ms": result.median_ms, "estimate_ms": result.estimate_ms, "slowdown": result.slowdown,
                        "contended": result.contended})
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--net", default="mobilenet_v2", help="zoo net name")
    parser.add_argument("--resolution", type=int, default=224)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--load-processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=3, help="timings per condition")
    add_output_arguments(parser, "latency_contention")
    args = parser.parse_args(argv)
    spec = dataclasses.replace(zoo.get(args.net), resolution=args.resolution)
    net = ready_net(build(spec), (1, spec.in_channels, args.resolution, args.resolution), "cpu", args.threads)
    aware, plain = TimingProtocol(), TimingProtocol(calibrated=False)
    load_before = os.getloadavg()[0]
    quiet = timed(net, aware, args.repeats)
    stop = multiprocessing.Event()
    workers = [multiprocessing.Process(target=_busy_loop, args=(stop,), daemon=True) for _ in range(args.load_processes)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(1.0)  # let the load reach the scheduler
        loaded_plain = timed(net, plain, args.repeats)
        loaded_aware = timed(net, aware, args.repeats)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=10)
    report(args, quiet, loaded_plain, loaded_aware, load_before)


def report(args, quiet, loaded_plain, loaded_aware, load_before: float) -> None:
    quiet_ms = min(entry["median_ms"] for entry in quiet)
    conditions = {"quiet": quiet, "loaded_plain": loaded_plain, "loaded_contention_aware": loaded_aware}
    print(f"{args.net} at {args.resolution} px, {args.threads} thread(s); load: {args.load_processes} busy processes; "
          f"machine load average {load_before:.2f} before, on {os.cpu_count()} CPUs")
    for name, entries in conditions.items():
        for entry in entries:
            off = 100 * (entry["median_ms"] / quiet_ms - 1)
            slowdown = "-" if entry["slowdown"] is None else f"{entry['slowdown']:.2f}x"
            # estimate: what the run judges the net by (the fastest run when flagged: LatencyResult.estimate_ms)
            print(f"  {name:<24} {entry['median_ms']:9.2f} ms  {off:+6.1f}% vs quiet  slowdown {slowdown:>6}"
                  f"  estimate {entry['estimate_ms']:8.2f} ms ({100 * (entry['estimate_ms'] / quiet_ms - 1):+6.1f}%)"
                  f"  {'FLAGGED' if entry['contended'] else ''}")
    honest = all(abs(e["median_ms"] / quiet_ms - 1) <= 0.10 or e["contended"] for e in loaded_aware)
    print(f"contention-aware loaded timings within 10% of quiet or flagged: {honest}")
    path = write_result("latency_contention", {
        "net": args.net, "resolution": args.resolution, "threads": args.threads,
        "load_processes": args.load_processes, "machine_load_average_before": load_before,
        "quiet_ms": quiet_ms, "conditions": conditions, "within_10_percent_or_flagged": honest,
    }, output=args.output, overwrite=args.overwrite)
    print(f"wrote {path}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
