"""Where proxies train and on what data: the one set-up shared by run, explore, export and Ray workers.

``RunConfig`` and ``ExploreConfig`` both carry the dataset fields (``dataset``,
``proxy_resolution``, ``data_root``, ``download``, ``seed``,
``dataset_options``) and ``train_device``; everything that loads the data or
picks the training device comes here, so a run, its exploration, its export
and its Ray workers always train on the same thing.
"""

from __future__ import annotations

from typing import Any


def default_proxy_resolution(dataset: str) -> int | None:
    """The built-in digit sets (8x8 and 28x28) are trained upsampled to 32: ImageNet-style nets downsample 32x."""
    return 32 if dataset in ("digits", "mnist5k") else None


def load_search_dataset(config: Any):
    """The dataset a run or exploration trains its proxies on (bad names and options are user errors)."""
    from evaluators.data import load_dataset

    return load_dataset(config.dataset, **_dataset_arguments(config))


def prescan_search_dataset(config: Any) -> int | None:
    """Torch-free: refuse what :func:`load_search_dataset` would from the name, options and files (an image
    folder's listing and headers); the number of training images where that tells it, else None."""
    from evaluators.data import prescan_dataset

    return prescan_dataset(config.dataset, **_dataset_arguments(config))


def _dataset_arguments(config: Any) -> dict[str, Any]:
    return dict(resolution=config.proxy_resolution or default_proxy_resolution(config.dataset), data_root=config.data_root,
                download=config.download, seed=config.seed, **config.dataset_options)


def training_device(requested: str | None, *, gpus: bool | None = None) -> str:
    """The device proxies train on: the one asked for, else ``cuda`` when there is a GPU, else ``cpu``.

    ``gpus`` says whether this process was given GPUs; ``None`` asks torch.  A Ray
    worker passes what it asked Ray for: Ray hides the GPUs from a trial that asked
    for none, whatever the driver's machine has.
    """
    if requested:
        return requested
    if gpus is None:
        import torch

        gpus = torch.cuda.is_available()
    return "cuda" if gpus else "cpu"


def checked_training_device(requested: str | None) -> str:
    """:func:`training_device`, validated here (a device that does not exist is a user error before any work)."""
    from evaluators.devices import resolve_device

    device = training_device(requested)
    resolve_device(device)
    return device


def proxy_resolution(dataset_resolution: int, spec_resolution: int, deployment_resolution: int) -> int:
    """The dataset's resolution, scaled as a space's resolution multiplier scaled the net's deployment resolution."""
    return max(8, round(dataset_resolution * spec_resolution / deployment_resolution))
