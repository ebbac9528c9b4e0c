"""Analytic-cost throughput: how many 20-stage specs per second ``evaluators.cost`` handles.

Target: at least 2,000 specs/s on a 2-core CPU (issue 2).  Two figures:

* ``cost``: the cost walk alone on already-built specs (what a searcher pays to
  reject a candidate over a MAC or parameter budget);
* ``construct+cost``: building the spec objects from scratch, validating them
  and costing them (what sampling a new candidate pays end to end).

Run: ``python benchmarks/cost_throughput.py [--specs 2000] [--stages 20]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from searchspace import (
    BasicSpec,
    BottleneckSpec,
    ConvSpec,
    FusedMBConvSpec,
    HeadSpec,
    MBConvSpec,
    NetSpec,
    SESpec,
    Stage,
    UIBSpec,
)
from benchmarks._common import add_output_arguments, write_result
from searchspace.analysis import analyze

TARGET_PER_SECOND = 2000


def random_stage(rng: random.Random, width: int, stride: int) -> Stage:
    """One stage of a random kind among the common searchable ones."""
    kind = rng.choice(["mbconv", "fused", "uib", "basic", "bottleneck", "conv"])
    se = rng.choice([None, SESpec(relative_to="mid", divisor=8)])
    block = {
        "mbconv": lambda: MBConvSpec(out_channels=width, expand_ratio=rng.choice([3.0, 4.0, 6.0]), kernel=rng.choice([3, 5]), se=se, activation="silu"),
        "fused": lambda: FusedMBConvSpec(out_channels=width, expand_ratio=rng.choice([1.0, 4.0])),
        "uib": lambda: UIBSpec(out_channels=width, start_kernel=rng.choice([0, 3]), mid_kernel=rng.choice([3, 5])),
        "basic": lambda: BasicSpec(out_channels=width, se=se),
        "bottleneck": lambda: BottleneckSpec(out_channels=width * 4, bottleneck_ratio=0.25, se=se),
        "conv": lambda: ConvSpec(out_channels=width),
    }[kind]()
    return Stage(block=block, repeats=rng.randint(1, 4), stride=stride)


def random_spec(rng: random.Random, stages: int) -> NetSpec:
    downsample_at = set(rng.sample(range(stages), 4))
    body, width = [], 16
    for i in range(stages):
        width = min(width + 8 * rng.randint(0, 2), 512)
        body.append(random_stage(rng, width, 2 if i in downsample_at else 1))
    return NetSpec(
        stem=(Stage(block=ConvSpec(out_channels=32, activation="silu"), stride=2),),
        stages=tuple(body),
        head=HeadSpec(conv_channels=1280, dropout=(0.2,)),
        resolution=224,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--specs", type=int, default=2000)
    parser.add_argument("--stages", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    add_output_arguments(parser, "cost_throughput")
    args = parser.parse_args()

    rng = random.Random(0)
    specs = [random_spec(rng, args.stages) for _ in range(args.specs)]
    blocks = statistics.mean(sum(s.repeats for s in spec.stages) for spec in specs)

    cost_rates, end_to_end_rates = [], []
    for round_index in range(args.rounds):
        start = time.perf_counter()
        for spec in specs:
            analyze(spec)
        cost_rates.append(len(specs) / (time.perf_counter() - start))

        rebuild_rng = random.Random(round_index + 1)
        start = time.perf_counter()
        for _ in range(len(specs) // 4):
            random_spec(rebuild_rng, args.stages)  # construction validates and costs the spec
        end_to_end_rates.append((len(specs) // 4) / (time.perf_counter() - start))

    cost_rate, end_to_end_rate = statistics.median(cost_rates), statistics.median(end_to_end_rates)
    print(f"{args.specs} random specs, {args.stages} stages, {blocks:.1f} blocks on average, 224 px")
    print(f"cost walk          : {cost_rate:10,.0f} specs/s   (target >= {TARGET_PER_SECOND:,})")
    print(f"construct + cost   : {end_to_end_rate:10,.0f} specs/s")
    path = write_result("cost_throughput", {
        "stages": args.stages, "specs": args.specs, "mean_blocks": blocks, "rounds": args.rounds,
        "cost_specs_per_second": cost_rate, "construct_and_cost_specs_per_second": end_to_end_rate,
        "target_specs_per_second": TARGET_PER_SECOND, "meets_target": cost_rate >= TARGET_PER_SECOND,
    }, output=args.output, overwrite=args.overwrite)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
