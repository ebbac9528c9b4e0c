"""An exploration's configuration: validated once, stored in ``run.json``, restored on resume."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from search.errors import UserError
from search.quantities import parse_count, parse_latency_ms
from search.run.config import TRAINING_PROXY

COMMAND = "explore"  # stored in run.json so that a `search run` folder is never resumed as an exploration
SAMPLING_MODES = ("uniform", "space")
# What a resumed exploration may change: only how many nets to draw per space.
RESUMABLE_OVERRIDES = ("samples",)


@dataclass(frozen=True)
class Range:
    """A closed interval ``low..high`` of a quantity; either end may be open (None)."""

    low: float | None
    high: float | None

    def holds(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def to_list(self) -> list[float | None]:
        return [self.low, self.high]


def parse_range(text: str, option: str, parse) -> Range:
    """``LO:HI`` with the quantity's units (``360M:400M``, ``10ms:50ms``); ``:HI`` or ``LO:`` leave an end open."""
    low_text, separator, high_text = str(text).partition(":")
    if not separator:
        raise UserError(f"{option} {text!r} is not understood (write LO:HI, e.g. 360M:400M, or :400M for no lower end)")
    low = parse(low_text, option) if low_text.strip() else None
    high = parse(high_text, option) if high_text.strip() else None
    if low is None and high is None:
        raise UserError(f"{option} {text!r} gives neither end (write LO:HI, e.g. 360M:400M)")
    if low is not None and high is not None and low > high:
        raise UserError(f"{option} {text!r}: the low end is above the high end (write LO:HI with LO <= HI)")
    return Range(low, high)


def count_range(text: str, option: str) -> Range:
    return parse_range(text, option, parse_count)


def latency_range(text: str, option: str) -> Range:
    return parse_range(text, option, parse_latency_ms)


@dataclass(frozen=True)
class ExploreConfig:
    name: str
    spaces: tuple[str, ...]
    samples: int = 20
    out: str = "results"
    macs: tuple[float | None, float | None] | None = None  # a Range as a pair, so that it stores as JSON
    params: tuple[float | None, float | None] | None = None
    latency_ms: tuple[float | None, float | None] | None = None
    device: str = "cpu"  # where --latency is measured
    threads: int | None = None
    train_device: str | None = None
    proxy: str = TRAINING_PROXY
    proxy_epochs: int = 1
    proxy_batch_size: int = 128
    proxy_resolution: int | None = None
    dataset: str = "digits"
    data_root: str | None = None
    dataset_options: dict[str, str] = field(default_factory=dict)
    download: bool = False
    resolution: int = 224  # deployment resolution: complexity and latency are taken at it
    seed: int = 0
    sampling: str = "uniform"
    max_draws: int = 200_000  # per space: the bound on rejection sampling
    command: str = COMMAND

    def __post_init__(self) -> None:
        if not self.spaces:
            raise UserError("give at least one --space to explore (two or more to compare them)")
        if len(set(self.spaces)) != len(self.spaces):
            raise UserError(f"--space {', '.join(self.spaces)}: a space is given twice")
        for option, value, minimum in (("--samples", self.samples, 2), ("--proxy-epochs", self.proxy_epochs, 1),
                                       ("--resolution", self.resolution, 8), ("--proxy-batch-size", self.proxy_batch_size, 2),
                                       ("--max-draws", self.max_draws, 1)):
            if value < minimum:
                raise UserError(f"{option} {value} is not allowed: must be at least {minimum}")
        if self.sampling not in SAMPLING_MODES:
            raise UserError(f"--sampling {self.sampling!r} is not known (allowed: {', '.join(SAMPLING_MODES)})")
        if self.macs is None and self.params is None:
            raise UserError("give a complexity filter: --macs LO:HI (e.g. 360M:400M) and/or --params LO:HI")

    def range(self, which: str) -> Range | None:
        pair = getattr(self, which)
        return None if pair is None else Range(*pair)

    @property
    def metric(self) -> str:
        """What the statistics compare (lower is better)."""
        return "top-1 error %" if self.proxy == TRAINING_PROXY else f"-{self.proxy} score"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> ExploreConfig:
        if data.get("command") != COMMAND:
            raise UserError(f"{where} is not an exploration (made by `search {data.get('command', 'run')}`)")
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("spaces", "macs", "params", "latency_ms"):  # JSON has lists, the configuration tuples
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return cls(**values)

    def resumed_with(self, given: dict[str, Any]) -> ExploreConfig:
        changes = {}
        for key, value in given.items():
            if key in RESUMABLE_OVERRIDES:
                changes[key] = value
            elif getattr(self, key) != value:
                raise UserError(f"--{key.replace('_', '-')} {value!r} differs from the exploration being resumed "
                                f"({getattr(self, key)!r}); a resumed exploration keeps its configuration")
        return dataclasses.replace(self, **changes)
