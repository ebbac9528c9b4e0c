"""Drawing N nets per space, uniformly, under the complexity filter: rejection sampling, no training.

Every draw comes from one random stream per space, seeded by the exploration's
seed and the space's name, so the same configuration draws the same nets (a
resumed exploration skips those already scored) and adding a space does not
change the others' draws.

Uniform under constraints: a space's own sampler asks each ``non_decreasing``
key from the part of its range at or above the previous stage's value, which
leans later stages to larger values (docs/spaces.md).  ``uniform`` sampling,
as in the papers, draws from the same space *without* the constraints and keeps
the nets that satisfy them: the draw is replayed through the constrained space,
which refuses a value below the previous stage's.  ``space`` sampling uses the
space's own sampler (far cheaper for strongly constrained spaces, not uniform).
"""

from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evaluators.cost import cost
from search.errors import UserError
from search.explore.config import ExploreConfig, Range
from search.quantities import format_count
from search.spaces import (
    FixedSuggest,
    KnobValueError,
    RandomSuggest,
    Space,
    SpaceContext,
)
from search.spaces.template import TemplateSpace
from searchspace import NetSpec, encode

# Measuring latency costs seconds a net: give up once this many nets per wanted net were timed.
MEASUREMENTS_PER_NET = 10


@dataclass(frozen=True)
class Draw:
    """One accepted net: where it came from and what the filter saw."""

    space: str
    index: int
    knobs: dict[str, Any]
    spec: NetSpec
    params: int
    macs: int
    latency_ms: float | None = None

    def row(self) -> dict[str, Any]:
        return {"space": self.space, "index": self.index, "spec": encode(self.spec), "digest": self.spec.digest(),
                "params": self.params, "macs": self.macs, "latency_ms": self.latency_ms,
                **{f"knob_{name}": value for name, value in self.knobs.items()}}


@dataclass
class Tally:
    """How many draws a space took and where they were rejected (for summary.json and error messages)."""

    draws: int = 0
    accepted: int = 0
    measured: int = 0
    rejected: dict[str, int] = field(default_factory=lambda: {"constraints": 0, "complexity": 0, "latency": 0})

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.draws if self.draws else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"draws": self.draws, "accepted": self.accepted, "acceptance_rate": self.acceptance_rate, "measured": self.measured,
                "rejected": dict(self.rejected)}


def space_seed(seed: int, space_name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(space_name.encode())])


def unconstrained(space: Space) -> Space | None:
    """The same space without ``non_decreasing`` constraints, or None when it has none."""
    if not isinstance(space, TemplateSpace) or not space.definition.non_decreasing:
        return None
    return TemplateSpace(dataclasses.replace(space.definition, non_decreasing=()))


class Sampler:
    """Accepted draws of one space, in order; ``draw(n)`` gives the first n (the same ones every time)."""

    def __init__(self, space: Space, label: str, config: ExploreConfig, context: SpaceContext) -> None:
        self.space, self.label, self.config, self.context = space, label, config, context
        self.relaxed = unconstrained(space) if config.sampling == "uniform" else None
        self.macs, self.params, self.latency = config.range("macs"), config.range("params"), config.range("latency_ms")

    def draw(self, count: int) -> tuple[list[Draw], Tally]:
        rng = space_seed(self.config.seed, self.label)
        tally = Tally()
        accepted: list[Draw] = []
        while len(accepted) < count:
            if tally.draws >= self.config.max_draws or tally.measured >= MEASUREMENTS_PER_NET * max(count, 5):
                raise self._unreachable(tally, count)
            tally.draws += 1
            result = self._one(rng, tally)
            if result is not None:
                accepted.append(dataclasses.replace(result, index=len(accepted)))
                tally.accepted += 1
        return accepted, tally

    def _one(self, rng: np.random.Generator, tally: Tally) -> Draw | None:
        suggest = RandomSuggest(rng)
        spec = (self.relaxed or self.space).sample(suggest, self.context)
        knobs = suggest.params
        if self.relaxed is not None:
            try:  # the constrained space refuses a value below the previous stage's
                spec = self.space.sample(FixedSuggest(knobs), self.context)
            except KnobValueError:
                tally.rejected["constraints"] += 1
                return None
        analytic = cost(spec)
        if not _within(self.macs, analytic.macs) or not _within(self.params, analytic.params):
            tally.rejected["complexity"] += 1
            return None
        latency = None
        if self.latency is not None:
            from evaluators.latency import measure

            tally.measured += 1
            latency = measure(spec, self.config.device, threads=self.config.threads).estimate_ms
            if not self.latency.holds(latency):
                tally.rejected["latency"] += 1
                return None
        return Draw(self.label, -1, dict(knobs), spec, analytic.params, analytic.macs, latency)

    def _unreachable(self, tally: Tally, count: int) -> UserError:
        filters = ", ".join(text for text in (_describe("--macs", self.macs, format_count),
                                              _describe("--params", self.params, format_count),
                                              _describe("--latency", self.latency, lambda v: f"{v:g}ms")) if text)
        constrained = (f" ({tally.rejected['constraints']} broke the space's non_decreasing constraints; --sampling space "
                       "samples them directly)") if tally.rejected["constraints"] else ""
        measured = f" ({tally.measured} timed for --latency, the most allowed)" if tally.measured else ""
        return UserError(
            f"space {self.label!r}: only {tally.accepted} of {tally.draws} draws passed {filters}{constrained}, "
            f"{count} needed{measured}; widen the filter, lower --samples or raise --max-draws"
        )


def _within(limits: Range | None, value: float) -> bool:
    return limits is None or limits.holds(value)


def _describe(option: str, limits: Range | None, show) -> str:
    if limits is None:
        return ""
    return f"{option} {'' if limits.low is None else show(limits.low)}:{'' if limits.high is None else show(limits.high)}"
