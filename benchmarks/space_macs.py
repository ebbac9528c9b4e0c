"""How large a space's uniform samples are: quartiles of their MACs at 224 px (the figures docs/spaces.md quotes).

A searcher starts from uniform draws, so a space whose median sample is far
over a budget spends most of its first trials on nets that cannot fit.  The
MACs are the analytic count (``evaluators.cost``), so no net is built.

    python -m benchmarks.space_macs unified mobile union
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks._common import add_output_arguments, write_result

NAME = "space_macs"


def sample_macs(space_name: str, samples: int, resolution: int) -> list[int]:
    from evaluators.cost import cost
    from search.spaces import RandomSuggest, SpaceContext, load_space

    space = load_space(space_name)
    return [cost(space.sample(RandomSuggest(seed), SpaceContext(resolution=resolution))).macs for seed in range(samples)]


def summary(macs: list[int]) -> dict[str, float]:
    q25, median, q75 = (float(value) / 1e9 for value in np.quantile(macs, [0.25, 0.5, 0.75]))
    return {"q25_gmacs": round(q25, 3), "median_gmacs": round(median, 3), "q75_gmacs": round(q75, 3)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spaces", nargs="+", help="built-in space names or space files")
    parser.add_argument("--samples", type=int, default=300, help="uniform samples per space (seeds 0 ... N-1)")
    parser.add_argument("--resolution", type=int, default=224)
    add_output_arguments(parser, NAME)
    args = parser.parse_args(argv)
    spaces = {}
    for name in args.spaces:
        spaces[name] = summary(sample_macs(name, args.samples, args.resolution))
        figures = spaces[name]
        print(f"{name:14s} GMACs at {args.resolution} px: median {figures['median_gmacs']}, "
              f"quartiles {figures['q25_gmacs']} - {figures['q75_gmacs']} ({args.samples} uniform samples)")
    path = write_result(NAME, {"samples": args.samples, "resolution": args.resolution, "spaces": spaces},
                        output=args.output, overwrite=args.overwrite)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
