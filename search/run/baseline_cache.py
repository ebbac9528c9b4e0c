"""Known nets' results kept across runs, so a second run does not pay for them again.

A known net's proxy result (and its final-protocol result) depends on the net
(its digest at the run's input and classes), the data, the proxy's settings
and recipe version (``evaluators.proxy.settings.RECIPE_VERSION``), the devices
and the torch version, and on nothing a run searches for.  The
key holds exactly those; the budget is not part of it, so one entry serves
every budget (:func:`rebudgeted` re-judges feasibility for the run at hand).

One JSON file per entry under ``<cache>/baselines/`` (the per-user cache the
latency measurements use), written atomically, so concurrent runs never see
a half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import torch

from search.run.config import RunConfig
from search.run.records import TrialRecord
from search.run.resources import training_device

log = logging.getLogger("search")

FORMAT_VERSION = 1


def cache_key(digest: str, config: RunConfig, kind: str, **extra: Any) -> dict[str, Any]:
    """What a known net's result depends on; ``kind`` is "proxy" or "final" (with its own settings in ``extra``)."""
    from evaluators.devices import device_name
    from evaluators.proxy.settings import RECIPE_VERSION

    return {
        "version": FORMAT_VERSION, "kind": kind, "digest": digest,
        "dataset": config.dataset, "dataset_options": dict(sorted(config.dataset_options.items())),
        "proxy": {"method": config.proxy, "epochs": config.proxy_epochs, "batch_size": config.proxy_batch_size,
                  "resolution": config.proxy_resolution, "seed": config.seed, "augment": config.proxy_augment,
                  "optimizer": config.proxy_optimizer,
                  "recipe": RECIPE_VERSION},
        "latency_device": device_name(config.device), "threads": config.threads or torch.get_num_threads(),
        **_runtime_key(config),
        "train_device": device_name(training_device(config.train_device)),
        "torch": torch.__version__, **extra,
    }


def _runtime_key(config: RunConfig) -> dict[str, str]:
    """The latency runtime, for runtimes other than eager: an eager entry keeps the key it had before runtimes existed."""
    from evaluators.latency.runtimes import EAGER

    return {} if config.runtime == EAGER else {"latency_runtime": config.runtime}


class BaselineCache:
    def __init__(self, folder: Path | None = None) -> None:
        from evaluators.paths import cache_dir

        self.folder = folder or cache_dir() / "baselines"

    def _path(self, key: dict[str, Any]) -> Path:
        name = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
        return self.folder / f"{name}.json"

    def get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        path = self._path(key)
        try:
            entry = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError) as error:
            log.warning("baseline cache entry %s unreadable (%s); evaluating again", path, error)
            return None
        # A hash collision or a hand-edited file must not pass for this net's result.
        return entry["value"] if entry.get("key") == key else None

    def put(self, key: dict[str, Any], value: dict[str, Any]) -> None:
        from search.run.rundir import write_atomic

        write_atomic(self._path(key), json.dumps({"key": key, "value": value}, indent=1, default=str) + "\n")


def rebudgeted(record: TrialRecord, config: RunConfig) -> TrialRecord:
    """A cached record judged against this run's budget (the cache holds no budget)."""
    from search.run.evaluate import CONSTRAINT_NAMES, NOT_CONSTRAINED, constraint_values

    record = record.but()
    values = constraint_values(record, config)
    limited = [v for v in values if v != NOT_CONSTRAINED]
    record.violation = max(limited) if limited else None
    if record.state in ("complete", "infeasible"):
        over = [name for name, value in zip(CONSTRAINT_NAMES, values) if value > 0]
        trained = record.accuracy is not None or record.score is not None
        record.state = "complete" if trained and not over else "infeasible"
        record.error = f"over this run's {' and '.join(over)} limit" if over else (None if trained else "not trained")
    return record
