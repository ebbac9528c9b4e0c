"""Scoring one accepted net with the proxy: its error (lower is better), or a failure with its reason.

``training``: short proxy training; the error is top-1 validation error in
percent, as the papers plot it.  A training-free method (synflow, naswot,
...): the error is the negated score, so that lower is better for every proxy
and the statistics need not know which one ran.  A net that cannot be scored
is data (state ``failed`` and the reason), kept out of the statistics.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from evaluators.data import ImageDataset
from search.explore.config import ExploreConfig
from search.explore.sampling import Draw
from search.run.config import TRAINING_PROXY


def proxy_resolution(spec_resolution: int, dataset: ImageDataset, config: ExploreConfig) -> int:
    """The dataset's resolution, scaled as a resolution multiplier scaled the net's deployment resolution."""
    return max(8, round(dataset.resolution * spec_resolution / config.resolution))


def score_draw(draw: Draw, dataset: ImageDataset, config: ExploreConfig, train_device: str) -> dict[str, Any]:
    """``state`` (complete or failed), ``error``, ``reason`` and ``seconds`` of one net."""
    started = time.perf_counter()
    spec = replace(draw.spec, in_channels=dataset.in_channels, num_classes=dataset.num_classes)
    resolution = proxy_resolution(spec.resolution, dataset, config)
    if config.proxy == TRAINING_PROXY:
        outcome = _train(spec, dataset, config, train_device, resolution)
    else:
        outcome = _score(spec, dataset, config, train_device, resolution)
    outcome["seconds"] = round(time.perf_counter() - started, 3)
    return outcome


def _train(spec, dataset, config: ExploreConfig, device: str, resolution: int) -> dict[str, Any]:
    from evaluators.proxy import ProxySettings, TrainingFailure, train

    settings = ProxySettings(epochs=config.proxy_epochs, batch_size=config.proxy_batch_size, resolution=resolution, seed=config.seed)
    result = train(spec, dataset, settings, device=device)
    if isinstance(result, TrainingFailure):
        return {"state": "failed", "error": None, "reason": f"{result.reason}: {result.message}"}
    return {"state": "complete", "error": round(100.0 * (1.0 - result.accuracy), 4), "reason": None}


def _score(spec, dataset, config: ExploreConfig, device: str, resolution: int) -> dict[str, Any]:
    from evaluators.zero_cost import score

    try:
        value = score(spec, config.proxy, dataset, seed=config.seed, device=device, resolution=resolution)
    except (RuntimeError, ValueError) as error:
        return {"state": "failed", "error": None, "reason": f"{config.proxy} failed: {type(error).__name__}: {error}"}
    if value != value or value in (float("inf"), float("-inf")):
        return {"state": "failed", "error": None, "reason": f"{config.proxy} gave a non-finite score ({value})"}
    return {"state": "complete", "error": -float(value), "reason": None}
