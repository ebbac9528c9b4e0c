"""The Ray runtime a run uses: a local one it starts and stops, or a cluster it joins and leaves running."""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator

from search.errors import UserError
from search.run.config import RunConfig


def check_local_gpus(config: RunConfig) -> None:
    """Before anything starts: a local runtime has the GPUs torch sees here, no more."""
    import torch

    if config.ray_address is None and config.gpus_per_trial > 0 and not torch.cuda.is_available():
        raise UserError(f"--gpus-per-trial {config.gpus_per_trial:g} needs a GPU, and none is visible on this machine")


@contextlib.contextmanager
def ray_runtime(config: RunConfig) -> Iterator[dict[str, float]]:
    """Ray initialised for this process; yields the cluster's resources.

    Without ``--ray-address`` a private local runtime is started with just
    enough CPUs for ``--workers`` trials of ``--cpus-per-trial`` each, and is
    shut down at the end.  With an address, the process connects as a driver;
    ``ray.shutdown()`` then only disconnects it, the cluster keeps running.
    """
    import ray

    check_local_gpus(config)
    quiet = {"logging_level": logging.WARNING, "log_to_driver": False}
    try:
        if config.ray_address:
            ray.init(address=config.ray_address, **quiet)
        else:
            ray.init(num_cpus=math.ceil(config.workers * config.cpus_per_trial), include_dashboard=False, **quiet)
    except (ConnectionError, ValueError, RuntimeError) as error:
        raise UserError(f"--ray-address {config.ray_address or '(local)'}: cannot start or join Ray: {error}") from None
    try:
        resources = ray.cluster_resources()
        if config.gpus_per_trial > 0 and resources.get("GPU", 0) < config.gpus_per_trial:
            raise UserError(f"--gpus-per-trial {config.gpus_per_trial:g}: the Ray cluster has {resources.get('GPU', 0):g} GPUs")
        if resources.get("CPU", 0) < config.cpus_per_trial:
            raise UserError(f"--cpus-per-trial {config.cpus_per_trial:g}: the Ray cluster has {resources.get('CPU', 0):g} CPUs")
        yield resources
    finally:
        ray.shutdown()
