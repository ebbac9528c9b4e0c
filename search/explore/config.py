"""An exploration's configuration: validated once, stored in ``run.json``, restored on resume."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from evaluators.optimizer_names import AUTO, DEFAULT_OPTIMIZER, OPTIMIZER_CHOICES
from search.errors import UserError
from search.options import check_fields, option_name, setting
from search.quantities import parse_count, parse_latency_ms
from search.run.config import PROXY_AUGMENT_HELP, PROXY_OPTIMIZER_HELP, TRAINING_PROXY

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
    # Each field is one setting: its option, help text and checks are declared with it (search.options).
    name: str = setting(help="Exploration name (the folder under --out).", shown_default="a timestamp")
    spaces: tuple[str, ...] = setting(
        flag="--space", repeatable=True,
        help="A space to explore, repeatable: built-in name, anynetx_a..e, regnetx, or a space file.",
    )
    samples: int = setting(20, minimum=2, help="Nets scored per space.")
    out: str = setting("results", folder=True, help="Where run folders go.")
    # Ranges as (low, high) pairs, so that they store as JSON.
    macs: tuple[float | None, float | None] | None = setting(
        None, text=True, shown_default="no filter", help="Complexity filter LO:HI on MACs at --resolution: 360M:400M, :1G, 100M: ."
    )
    params: tuple[float | None, float | None] | None = setting(
        None, text=True, shown_default="no filter", help="Complexity filter LO:HI on parameters: 1M:5M."
    )
    latency_ms: tuple[float | None, float | None] | None = setting(
        None, flag="--latency", text=True, shown_default="no filter",
        help="Latency filter LO:HI at batch 1 on --device (measured, cached): 5ms:20ms, :20ms.",
    )
    device: str = setting("cpu", help="Where --latency is measured: cpu, cuda, cuda:N.")
    threads: int | None = setting(None, help="CPU threads for latency.", shown_default="torch's default")
    train_device: str | None = setting(None, help="Where proxies train.", shown_default="cuda if available, else cpu")
    proxy: str = setting(
        TRAINING_PROXY, help="training (top-1 error), or a training-free score: synflow, naswot, grad_norm, snip."
    )
    proxy_epochs: int = setting(1, minimum=1, help="Epochs of proxy training.")
    proxy_batch_size: int = setting(128, minimum=2, help="Batch size of proxy training.")
    proxy_augment: bool = setting(False, help=PROXY_AUGMENT_HELP)
    proxy_optimizer: str = setting(DEFAULT_OPTIMIZER, choices=OPTIMIZER_CHOICES, help=PROXY_OPTIMIZER_HELP)
    proxy_resolution: int | None = setting(
        None, help="Resolution the proxy trains at.", shown_default="the dataset's; 32 for digits"
    )
    dataset: str = setting("digits", help="digits, shapes, cifar10, ..., imagefolder:PATH.")
    data_root: str | None = setting(None, folder=True, help="Folder with dataset files.")
    dataset_options: dict[str, str] = setting(
        factory=dict, flag="--dataset-option", repeatable=True, metavar="KEY=VALUE", help="Dataset option, repeatable."
    )
    download: bool = setting(False, help="Allow downloading the dataset if it is missing.")
    resolution: int = setting(224, minimum=8, help="Deployment resolution: MACs and latency are taken at it.")
    seed: int = setting(0, help="Seeds the draws (one stream per space) and the proxies.")
    sampling: str = setting(
        "uniform", choices=SAMPLING_MODES,
        help="uniform: rejection on non_decreasing constraints, as the papers; space: the space's own sampler.",
    )
    max_draws: int = setting(200_000, minimum=1, help="Draws per space before giving up on the filter.")  # bounds rejection sampling
    command: str = COMMAND

    def __post_init__(self) -> None:
        if not self.spaces:
            raise UserError("give at least one --space to explore (two or more to compare them)")
        if len(set(self.spaces)) != len(self.spaces):
            raise UserError(f"--space {', '.join(self.spaces)}: a space is given twice")
        check_fields(self)
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
        values.setdefault("proxy_optimizer", AUTO)  # one from before --proxy-optimizer: its proxy chose per net
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
                raise UserError(f"{option_name(ExploreConfig, key)} {value!r} differs from the exploration being resumed "
                                f"({getattr(self, key)!r}); a resumed exploration keeps its configuration")
        return dataclasses.replace(self, **changes)
