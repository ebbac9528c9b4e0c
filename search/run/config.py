"""A search run's full configuration: validated once, stored in ``run.json``, restored on resume."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from search.errors import UserError, shown

SEARCHERS = ("tpe", "nsga2", "random", "evolution")
BACKENDS = ("optuna", "ray")
SCHEDULERS = ("fifo", "asha")
TRAINING_PROXY = "training"
MIN_FINAL_SEEDS = 3  # fewer make a t-interval too wide to support any claim

# Options a resumed run may change: how much more to do and where to do it.
RESUMABLE_OVERRIDES = ("trials", "time_limit_s", "workers", "ray_address", "final_seeds")

# Configuration fields whose command-line option is not simply "--field-name".
_OPTION_NAMES = {"budget_ms": "--budget", "time_limit_s": "--time-limit"}


def option_name(field_name: str) -> str:
    return _OPTION_NAMES.get(field_name, "--" + field_name.replace("_", "-"))


@dataclass(frozen=True)
class RunConfig:
    name: str
    out: str = "results"
    space: str = "unified"
    searcher: str = "tpe"
    trials: int = 30
    # The whole run, final protocol included; split between phases by search.run.phases.
    time_limit_s: float | None = 720.0
    seed: int = 0
    budget_ms: float | None = None
    max_params: int | None = None
    max_macs: int | None = None
    device: str = "cpu"  # where latency is measured (the deployment device)
    train_device: str | None = None  # where proxies train; None: cuda if available, else cpu
    threads: int | None = None  # latency threads; None: torch's default at start
    resolution: int = 224  # deployment resolution (latency); a space may scale it
    dataset: str = "digits"
    data_root: str | None = None
    dataset_options: dict[str, str] = field(default_factory=dict)  # passed to load_dataset
    download: bool = False
    proxy: str = TRAINING_PROXY  # "training" or a training-free method
    proxy_epochs: int = 4
    proxy_resolution: int | None = None  # None: the dataset's default proxy resolution
    proxy_batch_size: int = 128
    final_seeds: int = 3  # seeds of the final protocol (search.run.final_protocol); 0 turns it off
    baselines: bool = True
    baseline_names: tuple[str, ...] = ()  # empty: the space's own baselines
    storage: str | None = None  # optuna storage URL; None: SQLite in the run folder
    backend: str = "optuna"
    workers: int = 1
    ray_address: str | None = None
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    scheduler: str = "fifo"
    extra: dict[str, Any] = field(default_factory=dict)  # forward-compatible settings

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Reject contradictory or out-of-range settings with one clear line."""
        if not self.name or len(self.name.encode()) > 200 or self.name in (".", "..") or "/" in self.name or "\0" in self.name:
            raise UserError(f"--name {shown(self.name)} is not allowed: use a plain folder name of at most 200 bytes")
        if self.searcher not in SEARCHERS:
            raise UserError(f"--searcher {self.searcher!r} is not known (allowed: {', '.join(SEARCHERS)})")
        if self.backend not in BACKENDS:
            raise UserError(f"--backend {self.backend!r} is not known (allowed: {', '.join(BACKENDS)})")
        if self.scheduler not in SCHEDULERS:
            raise UserError(f"--scheduler {self.scheduler!r} is not known (allowed: {', '.join(SCHEDULERS)})")
        for option, value, minimum in (
            ("--trials", self.trials, 1), ("--proxy-epochs", self.proxy_epochs, 1), ("--resolution", self.resolution, 8),
            ("--proxy-batch-size", self.proxy_batch_size, 2), ("--workers", self.workers, 1),
        ):
            if value < minimum:
                raise UserError(f"{option} {value} is not allowed: must be at least {minimum}")
        if self.final_seeds < 0 or 0 < self.final_seeds < MIN_FINAL_SEEDS:
            raise UserError(f"--final-seeds {self.final_seeds} is not allowed: 0 (off) or at least {MIN_FINAL_SEEDS}")
        if self.proxy_resolution is not None and self.proxy_resolution < 8:
            raise UserError(f"--proxy-resolution {self.proxy_resolution} is not allowed: must be at least 8")
        if self.threads is not None and self.threads < 1:
            raise UserError(f"--threads {self.threads} is not allowed: must be at least 1")
        if self.scheduler == "asha" and self.backend != "ray":
            raise UserError("--scheduler asha needs --backend ray")
        if self.scheduler == "asha" and self.proxy != TRAINING_PROXY:
            raise UserError("--scheduler asha stops trainings early; it needs --proxy training")
        if self.backend == "optuna" and (self.workers != 1 or self.ray_address or self.gpus_per_trial):
            raise UserError("--workers, --ray-address and --gpus-per-trial need --backend ray")
        if self.baseline_names and not self.baselines:
            raise UserError("--baseline and --no-baselines contradict each other")
        if self.cpus_per_trial <= 0 or self.gpus_per_trial < 0:
            raise UserError("--cpus-per-trial must be positive and --gpus-per-trial non-negative")
        for option, limit in (("--max-params", self.max_params), ("--max-macs", self.max_macs), ("--budget", self.budget_ms)):
            if limit is not None and not limit > 0:  # constraints are relative to the limit: 0 would divide by zero
                raise UserError(f"{option} {limit!r} is not allowed: must be positive")

    @property
    def objective_name(self) -> str:
        return "accuracy" if self.proxy == TRAINING_PROXY else self.proxy

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """The configuration stored in a run.json; a field of the wrong type is a user error, not a crash."""
        hints = typing.get_type_hints(cls)
        values = {k: v for k, v in data.items() if k in hints}
        if isinstance(values.get("baseline_names"), list):  # JSON has lists, the configuration tuples
            values["baseline_names"] = tuple(values["baseline_names"])
        for key, value in values.items():
            if not value_matches(value, hints[key]):
                expected = getattr(hints[key], "__name__", str(hints[key]))
                raise UserError(f"stored setting {key} = {shown(value)} is not of type {expected}")
        return cls(**values)

    def resumed_with(self, given: dict[str, Any]) -> RunConfig:
        """This stored configuration, with what the user may change on resume.

        Any other option given on the command line must agree with the stored
        run: silently changing the budget or the dataset halfway through would
        make the trials incomparable.
        """
        changes = {}
        for key, value in given.items():
            if key in RESUMABLE_OVERRIDES:
                changes[key] = value
            elif getattr(self, key) != value:
                raise UserError(
                    f"{option_name(key)} {value!r} differs from the run being resumed ({getattr(self, key)!r}); "
                    "a resumed run keeps its configuration (start a new --name instead)"
                )
        return dataclasses.replace(self, **changes)


def value_matches(value: Any, hint: Any) -> bool:
    """Whether a value read from JSON fits a configuration field's type hint (unions, None, tuples, dicts)."""
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(value_matches(value, option) for option in arguments)
    if hint is type(None):
        return value is None
    if origin is tuple:
        return isinstance(value, tuple) and all(value_matches(item, arguments[0]) for item in value)
    if origin is dict:
        return isinstance(value, dict) and all(isinstance(k, str) for k in value)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def dump(config: RunConfig) -> str:
    return json.dumps(config.to_dict(), indent=2, sort_keys=True)
