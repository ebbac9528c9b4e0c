"""Helpers for the search-space tests: a recording suggest, exhaustive enumeration, example files, exact known points."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from search.spaces import FixedSuggest, RandomSuggest, Space, SpaceContext
from search.spaces.files import read_document, space_from_data

# Where a known net is checked when its zoo form cannot be built at the resolution asked for
# (AlexNet and ZF-Net pool a 32 px map away).
FALLBACK_RESOLUTION = 64


def space_from_yaml(text: str, name: str = "example") -> Space:
    source = f"space file {name}.yaml"
    return space_from_data(read_document(textwrap.dedent(text), False, source), source, name)


def exact_point_resolution(name: str, resolution: int) -> int:
    """``resolution``, or FALLBACK_RESOLUTION where the zoo net cannot be built at it."""
    from searchspace import SpecError, zoo

    try:
        zoo.get(name, resolution=resolution)
    except SpecError:
        return FALLBACK_RESOLUTION
    return resolution


def check_exact_point(space: Space, name: str, context: SpaceContext) -> None:
    """The known point of ``name``, replayed under ``context``, is the zoo net itself (same digest), every value used."""
    from searchspace import zoo

    replay = FixedSuggest(space.known_point(name))
    net = space.sample(replay, context)
    expected = zoo.get(name, resolution=context.resolution, num_classes=context.num_classes, in_channels=context.in_channels)
    assert net.digest() == expected.digest(), name
    assert replay.unused() == [], name


class RecordingSuggest:
    """Random values, remembering how each knob was asked: (method, name, domain arguments)."""

    def __init__(self, seed: int) -> None:
        self.inner = RandomSuggest(seed)
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def categorical(self, name: str, choices: Sequence[Any]) -> Any:
        self.calls.append(("categorical", name, {"values": tuple(choices)}))
        return self.inner.categorical(name, choices)

    def integer(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        self.calls.append(("integer", name, {"low": low, "high": high, "step": step, "log": log}))
        return self.inner.integer(name, low, high, step=step, log=log)

    def real(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        self.calls.append(("real", name, {"low": low, "high": high, "log": log}))
        return self.inner.real(name, low, high, log=log)


class _PathSuggest:
    """Takes the option at each position of ``path`` (0 past its end), noting how many options each decision had."""

    def __init__(self, path: list[int]) -> None:
        self.path, self.options = path, []

    def _pick(self, options: list[Any]) -> Any:
        position = len(self.options)
        self.options.append(len(options))
        return options[self.path[position] if position < len(self.path) else 0]

    def categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return self._pick(list(choices))

    def integer(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        return self._pick(list(range(low, high + 1, step)))

    def real(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        raise TypeError("exhaustive enumeration needs spaces without real-valued knobs")


def count_settings(space: Space, context: SpaceContext = SpaceContext(resolution=32)) -> int:
    """Every distinct way sampling can go, walked depth-first through the define-by-run decisions."""
    count, path = 0, []
    while True:
        suggest = _PathSuggest(path)
        space.sample(suggest, context)
        count += 1
        path = path + [0] * (len(suggest.options) - len(path))
        while path and path[-1] + 1 >= suggest.options[len(path) - 1]:
            path.pop()
        if not path:
            return count
        path[-1] += 1


ANYNETX_A = """
    name: anynetx_a
    stem: {width: 32}
    all_stages:
      stride: 2
      block: bottleneck
      depth: {low: 1, high: 16}
      width: {low: 8, high: 1024, step: 8}
      bottleneck_ratio: [1.0, 0.5, 0.25]
      group_width: [1, 2, 4, 8, 16, 32]
    stages: 4
"""
ANYNETX_B = ANYNETX_A + "    shared: [bottleneck_ratio]\n"
ANYNETX_C = ANYNETX_A + "    shared: [bottleneck_ratio, group_width]\n"
ANYNETX_D = ANYNETX_C + "    constraints: {non_decreasing: [width]}\n"
ANYNETX_E = ANYNETX_C + "    constraints: {non_decreasing: [width, depth]}\n"

REGNET_FILE = """
    name: regnet_file
    regnet:
      depth: {low: 12, high: 28}
      w0: {low: 8, high: 256, step: 8}
      wa: {low: 8.0, high: 256.0, log: true}
      wm: {low: 1.5, high: 3.0}
      group_width: [1, 2, 4, 8, 16, 24, 32]
      se: [false, true]
    multipliers:
      resolution: [0.5, 1.0]
"""

# A file space that exercises every stage key, the stem pool, shared keys, a constraint and a baseline.
MIXED = """
    name: mixed
    stem: {width: [16, 64], kernel: [3, 7], pool: [false, true], activation: [relu, silu]}
    all_stages:
      block: [conv, basic, bottleneck, mbconv, fused, uib]
      activation: [relu, hardswish]
      kernel: [3, 5]
      expansion: {low: 1.0, high: 6.0}
      se: [false, true]
      se_style: [input, expanded, output]
      se_ratio: [0.125, 0.25]
      bottleneck_ratio: [0.25, 0.5, 1.0]
      group_width: [4, 8, 16]
      uib_variant: [ib, convnext, extradw]
      start_kernel: [3, 5]
    stages:
      - {stride: 1, depth: {low: 0, high: 2}, width: {low: 9, high: 33, step: 3}, uib_variant: [ib, ffn]}
      - {stride: 2, depth: {low: 1, high: 2}, width: {low: 18, high: 66, step: 6}}
      - {stride: 2, depth: {low: 1, high: 3}, width: {low: 30, high: 126, step: 6}, block: [basic, bottleneck, shuffle]}
      - {stride: 1, depth: {low: 0, high: 2}, width: {low: 30, high: 198, step: 6}}
    head: {width: {low: 0, high: 512, step: 128}, activation: [relu, silu], dropout: {low: 0.0, high: 0.5}}
    net: {drop_path_rate: [0.0, 0.1]}
    multipliers: {width: [0.6, 1.0, 1.3], depth: [0.5, 1.0, 2.0], resolution: {low: 0.5, high: 1.0}}
    shared: [group_width, se_style]
    constraints: {non_decreasing: [width]}
"""
