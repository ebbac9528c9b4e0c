"""A run's inputs, checked and loaded before its folder is created or changed.

Bad devices, spaces, datasets, baselines and storage are user errors here, so a
mistake never damages an earlier run's results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from search.errors import UserError
from search.run.config import RunConfig
from search.run.preflight import check_batch_size, check_latency_cache, check_storage
from search.run.resources import checked_training_device, load_search_dataset, prescan_search_dataset
from search.run.space_check import space_record
from search.spaces.documents import check_space_file
from searchspace.zoo_names import check_zoo_name


@dataclass(frozen=True)
class Prepared:
    """Everything a run needs that can fail on bad input, resolved before any folder is touched."""

    space: Any
    dataset: Any
    train_device: str
    space_record: dict[str, Any] = field(default_factory=dict)  # stored in run.json: a resume must find the same space


def check_runtime_available(config: RunConfig) -> None:
    """``--runtime`` can run on ``--device`` here: a missing package is one line now, not a failed trial per net."""
    from evaluators.devices import resolve_device
    from evaluators.latency import RuntimeUnavailable, check_runtime

    try:
        check_runtime(config.runtime, resolve_device(config.device))
    except RuntimeUnavailable as error:
        raise UserError(f"--runtime {config.runtime} cannot run here: {error}") from None


def prepare(config: RunConfig) -> Prepared:
    # First, and torch-free: a hostile space file or image folder is refused in little memory.
    check_space_file(config.space)
    for name in config.baseline_names:
        check_zoo_name(name.removeprefix("+"))  # an unknown baseline is a user error, before any work
    train_images = prescan_search_dataset(config)
    if train_images is not None:
        check_batch_size(config, train_images, config.dataset)
    from search.spaces import load_space

    check_runtime_available(config)
    train_device = checked_training_device(config.train_device)
    space = load_space(config.space)
    dataset = load_search_dataset(config)
    check_batch_size(config, len(dataset), dataset.name)
    check_latency_cache()
    if config.storage:
        check_storage(config.storage)
    return Prepared(space, dataset, train_device, space_record(space, config.space))
