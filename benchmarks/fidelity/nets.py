"""The nets the fidelity benchmark ranks: random draws of the default space within the default
latency budget, plus every known net that fits that budget on this machine.

A ranking is only useful among the nets a search would actually train.  The
default job's budget is 50 ms of wall-clock latency at 224 px, batch 1, on
this 2-core CPU, and these known nets were measured within it on a quiet
machine (issue 13's list).  Wall-clock latency on this shared machine swings
by 2x to 30x while other jobs run, so the filter here uses what contention
barely moves: the CPU time of a single-threaded forward pass
(:func:`benchmarks.latency_predictor.cpu_time_ms`).  A random net is "within
the budget" when its CPU time is at most that of the slowest known net that
fits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The zoo nets that fit 50 ms at 224 px on the 2-core development CPU.
KNOWN_WITHIN_50MS = (
    "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "mnasnet1_0", "shufflenet_v2_x1_0",
    "regnet_x_400mf", "regnet_y_400mf", "efficientnet_b0", "resnet18", "mobilenetv1_100", "mobilenetv4_conv_small",
)


@dataclass(frozen=True)
class RankedNet:
    label: str  # a zoo name, or "random-<index>"
    spec_string: str
    digest: str
    macs: int
    params: int
    latency_ms: float
    known: bool


def _latency_ms(spec) -> float:
    from benchmarks.latency_predictor import cpu_time_ms
    from evaluators.latency.protocol import TimingProtocol

    return cpu_time_ms(spec, TimingProtocol(warmup_runs=2, min_runs=5, min_time_s=0.3, max_runs=50))


def _ranked(label: str, spec, latency: float, known: bool) -> RankedNet:
    from evaluators import cost
    from searchspace import encode

    tally = cost(spec)
    return RankedNet(label, encode(spec), spec.digest(), tally.macs, tally.params, round(latency, 3), known)


def known_nets(log=print) -> list[RankedNet]:
    from searchspace import zoo

    chosen = []
    for name in KNOWN_WITHIN_50MS:
        spec = zoo.get(name)
        chosen.append(_ranked(name, spec, _latency_ms(spec), True))
        log(f"  known {name}: {chosen[-1].latency_ms:.1f} ms of single-thread CPU time")
    return chosen


def random_nets(count: int, limit_ms: float, seed: int, log=print) -> list[RankedNet]:
    """``count`` distinct uniform draws of ``unified`` whose single-thread CPU time is at most ``limit_ms``."""
    from search.spaces import RandomSuggest, SpaceContext, load_space

    space = load_space("unified")
    context = SpaceContext(num_classes=10, resolution=224)
    chosen, seen, draw = [], set(), 0
    while len(chosen) < count:
        spec = space.sample(RandomSuggest(np.random.default_rng([seed, draw])), context)
        draw += 1
        if spec.digest() in seen:
            continue
        seen.add(spec.digest())
        latency = _latency_ms(spec)
        if latency <= limit_ms:
            chosen.append(_ranked(f"random-{draw - 1}", spec, latency, False))
            log(f"  random draw {draw - 1}: {latency:.1f} ms, kept ({len(chosen)}/{count})")
    return chosen
