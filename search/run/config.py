"""A search run's full configuration: validated once, stored in ``run.json``, restored on resume."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from evaluators.optimizer_names import AUTO, DEFAULT_OPTIMIZER, OPTIMIZER_CHOICES
from evaluators.runtime_names import EAGER, RUNTIMES
from search import options
from search.errors import UserError, shown
from search.options import check_fields, setting
from search.quantities import format_duration
from search.run.scores import ACCURACY, DEFAULT_PROXY_SCORE, PROXY_SCORE_HELP, PROXY_SCORES
from search.spaces.default import DEFAULT_SPACE

SEARCHERS = ("tpe", "tpe-short", "gp", "nsga2", "random", "evolution")  # search.run.searchers describes each
BACKENDS = ("optuna", "ray")
SCHEDULERS = ("fifo", "asha")
PRUNERS = ("none", "asha", "hyperband")  # the optuna backend's multi-fidelity pruners (search.run.pruning)
TRAINING_PROXY = "training"
MIN_FINAL_SEEDS = 3  # fewer make a t-interval too wide to support any claim

# Every run's study had this name before --study-name (see RunConfig.from_dict).
# Off by default: in a proxy of a few epochs the random translation does not guard against overfitting
# (there is no time to overfit) but slows learning.  On digits (8x8 images upsampled to 32 px, where a
# 4-px shift moves whole strokes out of frame) it kept ShuffleNetV2, RegNetX and SE-ResNet-50 under 0.90;
# without it every known net that fits 50 ms learns (benchmarks/known_nets_learn.py, docs/proxy.md).
PROXY_AUGMENT_HELP = ("Random translation (and flips where they keep the class) in proxy training; off by default: "
                      "a few epochs leave no time to overfit, and it slows learning.")
LEGACY_STUDY_NAME = "search"
PROXY_OPTIMIZER_HELP = ("Optimizer of proxy training: adamw for every net, narrow convolutions at up to 3 times its rate; "
                        "sgd; auto, SGD for nets with batch norm and AdamW for nets without (the rule before 2026-12-05).")

# Options a resumed run may change: how much more to do and where to do it.
RESUMABLE_OVERRIDES = ("trials", "time_limit_s", "known_nets_time_s", "workers", "ray_address", "final_seeds")


def option_name(field_name: str) -> str:
    return options.option_name(RunConfig, field_name)


_RAY = "(--backend ray)"


@dataclass(frozen=True)
class RunConfig:
    # Each field is one setting: its option, help text and checks are declared with it (search.options).
    name: str = setting(help="Run name (the folder under --out).", shown_default="a timestamp")
    out: str = setting("results", help="Where run folders go.", folder=True)
    space: str = setting(DEFAULT_SPACE, help="Built-in space name or a YAML/JSON space file (see `search spaces`).")
    # The default is the searcher benchmarks/search_efficiency.py finds best over 20 seeds (README, Performance).
    searcher: str = setting(
        "tpe-short", choices=SEARCHERS,
        help="How trials are proposed. tpe-short (TPE after 10 random trials) needs the fewest trials to a good front "
             "in the search-efficiency benchmark; gp is slow per trial and models only knobs every net has.",
    )
    trials: int = setting(30, help="Search trials to run in total (baselines not counted).", minimum=1)
    # The whole run, final protocol included; split between phases by search.run.phases.
    time_limit_s: float | None = setting(
        600.0, flag="--time-limit", text=True, shown_default=format_duration,
        help="The whole run, final protocol included: 10m, 90s, 1h (plus --known-nets-time, if given, spent only once per machine).",
    )
    # A known net's results are cached across runs, so evaluating it is a once-per-machine cost that may
    # be given an allowance of its own, beyond --time-limit (search.run.phases).  None by default: the
    # default job must end within its 10 minutes on a first run too (issue 13), so a first run checks
    # the known nets its quarter of the limit allows, cheapest of each family first, and every later
    # run adds the next ones from the cache.
    known_nets_time_s: float = setting(
        0.0, flag="--known-nets-time", text=True, minimum=0, shown_default=format_duration,
        help="Extra time, beyond --time-limit, for known nets not yet in the cache (a first run): 5m checks more of "
             "them on a first run; 0 (the default) keeps a first run within --time-limit.",
    )
    seed: int = setting(0, help="Seeds the searcher and the proxies.")
    budget_ms: float | None = setting(
        None, flag="--budget", text=True, positive=True, shown_default="no limit",
        help="Latency limit at batch 1 on --device: 50ms, 0.05s, or 50 (milliseconds).",
    )
    max_params: int | None = setting(None, text=True, positive=True, shown_default="no limit", help="Parameter limit: 5M, 250k, ...")
    max_macs: int | None = setting(None, text=True, positive=True, shown_default="no limit", help="MAC limit: 300M, 1.2G, ...")
    device: str = setting("cpu", help="Where latency is measured: cpu, cuda, cuda:N.")  # the deployment device
    train_device: str | None = setting(None, help="Where proxies train.", shown_default="cuda if available, else cpu")
    threads: int | None = setting(None, minimum=1, help="CPU threads for latency.", shown_default="torch's default")
    # What --budget means: the net is timed (searched, re-measured, exported) in the runtime it will ship in.
    runtime: str = setting(
        EAGER, choices=RUNTIMES,
        help="What runs the net when latency is timed: PyTorch eager, onnxruntime, TorchScript or torch.compile.",
    )
    resolution: int = setting(224, minimum=8, help="Deployment resolution used for latency.")  # a space may scale it
    dataset: str = setting(
        "digits", help="digits, shapes, cifar10, cifar100, mnist, fashionmnist, fake, imagefolder:PATH."
    )
    data_root: str | None = setting(None, folder=True, help="Folder with dataset files.")
    dataset_options: dict[str, str] = setting(
        factory=dict, flag="--dataset-option", repeatable=True, metavar="KEY=VALUE",
        help="Dataset option, repeatable: limit=5000 (CIFAR, MNIST, imagefolder), size=2000 (shapes), ...",
    )  # passed to load_dataset
    download: bool = setting(False, help="Allow downloading the dataset if it is missing.")
    proxy: str = setting(
        TRAINING_PROXY, help="training, or a training-free score: synflow, naswot, grad_norm, snip, params, macs."
    )
    proxy_epochs: int = setting(4, minimum=1, help="Epochs of proxy training.")
    proxy_resolution: int | None = setting(
        None, minimum=8, help="Resolution the proxy trains at.", shown_default="the dataset's; 32 for digits"
    )
    # 32, not 128: the same images in four times the steps.  On digits (benchmarks/known_nets_learn.py) it
    # lifts the known nets under 0.90 from 20 of 46 to 5 (ResNet-50-class nets from 0.50-0.72 to 0.86-0.98)
    # and ranks within noise of 128 (docs/proxy.md); it costs about 1.45x the time per net.
    proxy_batch_size: int = setting(32, minimum=2, help="Batch size of proxy training.")
    proxy_augment: bool = setting(False, help=PROXY_AUGMENT_HELP)
    proxy_optimizer: str = setting(DEFAULT_OPTIMIZER, choices=OPTIMIZER_CHOICES, help=PROXY_OPTIMIZER_HELP)
    proxy_score: str = setting(DEFAULT_PROXY_SCORE, choices=PROXY_SCORES, help=PROXY_SCORE_HELP)
    # Seeds of the final protocol (search.run.final_protocol); 0 turns it off.
    final_seeds: int = setting(3, help=f"Seeds of the final protocol (>= {MIN_FINAL_SEEDS}); 0 turns it off.")
    baselines: bool = setting(True, flag="--no-baselines", turns_off=True, help="Do not evaluate the known nets.")
    warm_start: bool = setting(
        True, flag="--no-warm-start", turns_off=True,
        help="Do not start the search from the known nets that fit (their knob values as the first trials).",
    )
    baseline_names: tuple[str, ...] = setting(
        (), flag="--baseline", repeatable=True,
        help="Compare against only this zoo net (repeatable); +NAME adds one to the default set.",
        shown_default="every zoo net of the space's families that fits the budget",
    )
    storage: str | None = setting(
        None, help="Optuna storage URL (e.g. postgresql://...).",
        shown_default="SQLite in the run folder",
    )
    # Several runs may share one --storage: each needs a study of its own (and optuna-dashboard lists them by name).
    study_name: str | None = setting(None, help="Name of the run's optuna study in --storage.", shown_default="the run's --name")
    backend: str = setting("optuna", choices=BACKENDS, help="Where trials run: in this process, or on Ray Tune.")
    workers: int = setting(1, minimum=1, help=f"Parallel trials {_RAY}.")
    ray_address: str | None = setting(None, help=f"Ray cluster: auto or HOST:PORT {_RAY}.", shown_default="a local Ray")
    cpus_per_trial: float = setting(1.0, help=_RAY)
    gpus_per_trial: float = setting(0.0, help=f"Fractions share a GPU {_RAY}.")
    scheduler: str = setting("fifo", choices=SCHEDULERS, help=f"asha: stop poor trainings early {_RAY}.")
    # Ray's --scheduler asha does the same on Ray; the default is chosen by benchmarks/multifidelity.py.
    pruner: str = setting(
        "none", choices=PRUNERS,
        help="Stop poor proxy trainings early, by their validation accuracy after each epoch: asha (successive "
             "halving) or hyperband; none trains every net for --proxy-epochs.",
    )
    extra: dict[str, Any] = field(default_factory=dict)  # forward-compatible settings

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Reject contradictory or out-of-range settings with one clear line."""
        if not self.name or len(self.name.encode()) > 200 or self.name in (".", "..") or "/" in self.name or "\0" in self.name:
            raise UserError(f"--name {shown(self.name)} is not allowed: use a plain folder name of at most 200 bytes")
        check_fields(self)
        if self.study_name is not None and (not self.study_name.strip() or len(self.study_name) > 200):
            raise UserError(f"--study-name {shown(self.study_name)} is not allowed: give 1 to 200 characters")
        if self.final_seeds < 0 or 0 < self.final_seeds < MIN_FINAL_SEEDS:
            raise UserError(f"--final-seeds {self.final_seeds} is not allowed: 0 (off) or at least {MIN_FINAL_SEEDS}")
        if self.scheduler == "asha" and self.backend != "ray":
            raise UserError("--scheduler asha needs --backend ray")
        if self.scheduler == "asha" and self.proxy != TRAINING_PROXY:
            raise UserError("--scheduler asha stops trainings early; it needs --proxy training")
        if self.pruner != "none" and self.backend != "optuna":
            raise UserError(f"--pruner {self.pruner} is the optuna backend's; with --backend ray use --scheduler asha")
        if self.pruner != "none" and self.proxy != TRAINING_PROXY:
            raise UserError(f"--pruner {self.pruner} stops trainings early; it needs --proxy training")
        if self.backend == "optuna" and (self.workers != 1 or self.ray_address or self.gpus_per_trial):
            raise UserError("--workers, --ray-address and --gpus-per-trial need --backend ray")
        if self.baseline_names and not self.baselines:
            raise UserError("--baseline and --no-baselines contradict each other")
        if self.cpus_per_trial <= 0 or self.gpus_per_trial < 0:
            raise UserError("--cpus-per-trial must be positive and --gpus-per-trial non-negative")

    @property
    def optuna_study(self) -> str:
        """The run's optuna study (its known nets and final figures are in ``<this>.final``)."""
        return self.study_name or self.name

    @property
    def objective_name(self) -> str:
        return self.proxy_score if self.proxy == TRAINING_PROXY else self.proxy

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """The configuration stored in a run.json; a field of the wrong type is a user error, not a crash."""
        hints = typing.get_type_hints(cls)
        values = {k: v for k, v in data.items() if k in hints}
        values.setdefault("study_name", LEGACY_STUDY_NAME)  # a run.json from before --study-name
        values.setdefault("proxy_augment", True)  # a run.json from before --proxy-augment: its proxy augmented
        values.setdefault("proxy_optimizer", AUTO)  # one from before --proxy-optimizer: its proxy chose per net
        values.setdefault("proxy_score", ACCURACY)  # one from before --proxy-score maximised accuracy
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
