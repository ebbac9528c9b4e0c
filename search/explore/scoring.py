"""Scoring one accepted net with the proxy: its error (lower is better), or a failure with its reason.

``training``: short proxy training; the error is top-1 validation error in
percent, as the papers plot it.  A training-free method (synflow, naswot,
...): the error is the negated score, so that lower is better for every proxy
and the statistics need not know which one ran.  A net that cannot be scored
is data (state ``failed`` and the reason), kept out of the statistics.  The
scoring itself is `search run`'s (:mod:`search.run.proxy_score`).
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

from evaluators.data import ImageDataset
from search.explore.config import ExploreConfig
from search.explore.sampling import Draw
from search.run.config import TRAINING_PROXY
from search.run.proxy_score import ProxyJob, ProxyScore, ProxyScorer
from search.run.resources import proxy_resolution


def score_draw(draw: Draw, dataset: ImageDataset, config: ExploreConfig, train_device: str) -> dict[str, Any]:
    """``state`` (complete or failed), ``error``, ``reason`` and ``seconds`` of one net."""
    started = time.perf_counter()
    spec = replace(draw.spec, in_channels=dataset.in_channels, num_classes=dataset.num_classes)
    resolution = proxy_resolution(dataset.resolution, spec.resolution, config.resolution)
    outcome = explored_error(ProxyScorer(ProxyJob.of(config, train_device), dataset).score(spec, resolution), config)
    outcome["seconds"] = round(time.perf_counter() - started, 3)
    return outcome


def explored_error(scored: ProxyScore, config: ExploreConfig) -> dict[str, Any]:
    """The proxy's result as an exploration row: an error where lower is better, or the reason there is none."""
    if scored.state == "failed":
        return {"state": "failed", "error": None, "reason": scored.error}
    if config.proxy == TRAINING_PROXY:
        return {"state": "complete", "error": round(100.0 * (1.0 - scored.accuracy), 4), "reason": None}
    if not math.isfinite(scored.score):
        return {"state": "failed", "error": None, "reason": f"{config.proxy} gave a non-finite score ({scored.score})"}
    return {"state": "complete", "error": -float(scored.score), "reason": None}
