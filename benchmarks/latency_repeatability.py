"""How repeatable is measured latency?  The same net, timed in several fresh processes.

Within one process the protocol's median is stable; what a search cares about
is whether tomorrow's process gets the same number for the same net, since
cached measurements from many processes are compared with each other.  Each
repeat therefore runs in its own freshly spawned interpreter (new allocator,
new thread pool, new oneDNN/cuDNN state) and bypasses the cache.

Run from the repository root::

    python -m benchmarks.latency_repeatability [--device cpu] [--torchvision mobilenet_v2]
        [--resolution 224] [--batch-size 1] [--threads N] [--repeats 5] [--output PATH]

Prints each process's median and two measures of their agreement, and writes
everything to ``results/benchmarks/latency_repeatability.json``:

* range: (max - min) / median of the medians, in percent: the worst
  disagreement between any two processes;
* coefficient of variation: sample standard deviation / mean of the medians,
  in percent: the typical disagreement.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from evaluators.devices import DeviceError, device_name, resolve_device
from evaluators.latency import TimingProtocol

from benchmarks._common import add_output_arguments, output_path, write_json



@dataclass(frozen=True)
class Target:
    """A net named on the command line; picklable, so each child process loads its own copy.

    A net spec string will be one more ``source`` here: a branch in :meth:`load`
    and one more command-line option.
    """

    source: str  # "torchvision"
    name: str
    default_resolution: int | None  # None: the loaded spec carries its own

    def load(self) -> object:
        """The spec or module to hand to :func:`evaluators.latency.measure`."""
        if self.source == "torchvision":
            import torchvision

            # Untrained weights: latency does not depend on the weight values.
            return torchvision.models.get_model(self.name, weights=None)
        raise ValueError(f"unknown net source {self.source!r}")


@dataclass(frozen=True)
class Setting:
    device: str
    resolution: int | None
    batch_size: int
    threads: int | None


def measure_once(target: Target, setting: Setting) -> dict[str, Any]:
    """One child process's measurement, as a plain dict that pickles back to the parent."""
    from evaluators.latency import InputBatch, measure

    result = measure(
        target.load(),
        setting.device,
        resolution=setting.resolution,
        threads=setting.threads,
        batch=InputBatch(size=setting.batch_size),
        cache=False,  # a repeatability figure from cached numbers would be meaningless
    )
    return result.to_dict()


def measure_in_fresh_processes(target: Target, setting: Setting, repeats: int) -> list[dict[str, Any]]:
    spawn = multiprocessing.get_context("spawn")  # fork would inherit this process's warmed-up state
    results = []
    for repeat in range(repeats):
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            result = pool.submit(measure_once, target, setting).result()
        results.append(result)
        print(
            f"process {repeat + 1}/{repeats}: median {result['median_ms']:.3f} ms "
            f"(IQR {result['spread_ms']:.3f} ms over {result['runs']} runs, {result['threads']} threads)",
            flush=True,
        )
    return results


def agreement(medians_ms: list[float]) -> dict[str, float]:
    middle = statistics.median(medians_ms)
    mean = statistics.fmean(medians_ms)
    deviation = statistics.stdev(medians_ms) if len(medians_ms) > 1 else 0.0
    return {
        "median_of_medians_ms": middle,
        "mean_of_medians_ms": mean,
        "min_median_ms": min(medians_ms),
        "max_median_ms": max(medians_ms),
        "range_pct": (max(medians_ms) - min(medians_ms)) / middle * 100.0,
        "coefficient_of_variation_pct": deviation / mean * 100.0,
    }


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return value


def _at_least_two(text: str) -> int:
    value = int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be >= 2 to compare processes, got {value}")
    return value


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    parser.add_argument("--torchvision", default="mobilenet_v2", metavar="NAME", help="torchvision model name")
    parser.add_argument("--resolution", type=_positive_int, default=None, help="input size in px (default: 224)")
    parser.add_argument("--batch-size", type=_positive_int, default=1)
    parser.add_argument("--threads", type=_positive_int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--repeats", type=_at_least_two, default=5, help="number of fresh processes (default: 5)")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="accepted for clarity; the benchmark never reads or writes the latency cache",
    )
    add_output_arguments(parser, "latency_repeatability")
    arguments = parser.parse_args(argv)
    arguments.output = output_path("latency_repeatability", arguments.output, overwrite=arguments.overwrite)
    return arguments


def torchvision_target(name: str) -> Target:
    import torchvision

    if name not in torchvision.models.list_models():
        raise ValueError(f"--torchvision {name!r} is not a torchvision classification model name")
    return Target(source="torchvision", name=name, default_resolution=224)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        resolve_device(arguments.device)  # before spawning anything
        target = torchvision_target(arguments.torchvision)
    except (DeviceError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    setting = Setting(
        device=arguments.device,
        resolution=arguments.resolution if arguments.resolution is not None else target.default_resolution,
        batch_size=arguments.batch_size,
        threads=arguments.threads,
    )
    print(f"{target.source}:{target.name} on {device_name(arguments.device)}, {arguments.repeats} fresh processes")
    results = measure_in_fresh_processes(target, setting, arguments.repeats)
    summary = agreement([result["median_ms"] for result in results])
    print(
        f"median of medians {summary['median_of_medians_ms']:.3f} ms; "
        f"range {summary['range_pct']:.2f}% of it; "
        f"coefficient of variation {summary['coefficient_of_variation_pct']:.2f}%"
    )
    report = {
        "benchmark": "latency_repeatability",
        "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks.latency_repeatability", *(argv if argv is not None else sys.argv[1:])]),
        "target": asdict(target),
        "setting": asdict(setting),
        "device_name": device_name(arguments.device),
        "torch_version": torch.__version__,
        "protocol": TimingProtocol().to_dict(),
        "repeats": arguments.repeats,
        "summary": summary,
        "processes": results,
    }
    write_json(arguments.output, report)
    print(f"wrote {arguments.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
