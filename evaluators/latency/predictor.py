"""A latency predictor fitted from measurements on this machine: spec in, milliseconds out.

A search measures every candidate it may keep, and a measurement costs a
build, a warm-up and a second or more of timed runs.  Most candidates far
over a latency budget need not be measured at all: :class:`LatencyPredictor`
predicts their latency from the spec alone, and the search skips those
predicted over ``budget * (1 + 2 * relative_error)``, where
``relative_error`` is the predictor's own cross-validated error.

Model
-----
Features (:mod:`evaluators.latency.features`): per operator family (dense,
pointwise, depthwise and grouped convs, linear layers, pooling,
squeeze-and-excite, element-wise sums and concatenations) the MACs, the
memory traffic and the number of layers, summed over the layers of the net.

Regression (:class:`~evaluators.latency.regressors.AdditiveRegression`):
``latency = overhead + sum_j cost_j * feature_j`` with non-negative costs, fitted
on relative residuals with Huber weights.  It is a layer-wise additive model
like nn-Meter's and the desktop-CPU predictors of the hardware-aware NAS
literature, but its per-operator costs are fitted to whole-net measurements,
so it needs no table of individually timed blocks.

Why this model (figures from ``benchmarks/latency_predictor.py``: 300 random
nets of the default ``unified`` space for 224 px inputs, 112 to 224 px after
its resolution multiplier, 0.12 / 0.40 / 1.76 GMACs at the 10th / 50th / 90th
percentile; fitted on 200, reported on the 100 held out; 1 thread on the
shared 2-core development VM, ``--clock cpu``, results in
``results/benchmarks/latency_predictor_devvm_cpu_time.json``):

=========================  ==========  ========  ======  =====
family                     within 10%  Spearman  MAPE %  max %
=========================  ==========  ========  ======  =====
MACs only (additive)          42%       0.970     14.6    64
additive per-op (chosen)      81%       0.992      6.1    32
log-linear per-op             48%       0.976     13.2    77
boosted trees per-op          62%       0.978     10.1    44
the same nets timed again     73%       0.992      7.1    20
=========================  ==========  ========  ======  =====

The last row is the noise floor: 30 of the held-out nets timed again in a
fresh process agree with their first timing no better than the chosen model
does, so on that machine the model is as good as the labels allow.  The
figures are CPU time of a single-threaded pass, not wall-clock latency,
because on that VM other jobs made wall-clock latency of the same net swing
by 2x to 5x within minutes (a second wall-clock timing agreed within 10%
for none of 30 nets: ``latency_predictor_devvm_t1.json``); there every family
reached a Spearman of only about 0.81, set by the measurements.  The
cross-validated ``relative_error`` tracks this: 6.8% on CPU time, 52% on
that wall-clock data, so the search's skip rule stays safe on a noisy machine
(no held-out net within budget would have been skipped in either run) at
the price of skipping fewer nets.

The additive model also has properties the alternatives lack: it
extrapolates sensibly to nets larger than any it was fitted on (a sum of
non-negative per-layer costs grows with every layer), its coefficients read
as milliseconds per MAC, per element moved and per layer, and it saves as
plain numbers.  Boosted trees cannot extrapolate: a net beyond the training
range gets the latency of the largest nets seen.

Files are JSON (no pickle): the coefficients by feature name, the
cross-validated error and what the measurements were taken on.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evaluators import validate
from evaluators.latency.accuracy import accuracy_metrics
from evaluators.latency.cache import LatencyCache
from evaluators.latency.features import FEATURE_NAMES, feature_matrix, spec_features
from evaluators.latency.regressors import AdditiveRegression
from evaluators.latency.runtimes import EAGER
from evaluators.latency.training_data import (
    Setting,
    TrainingSet,
    cached_training_set,
    stored_device_name,
)
from searchspace import NetSpec

FILE_FORMAT = "convspace-latency-predictor"
FILE_VERSION = 1
MODEL_NAME = AdditiveRegression.name

# Cross-validation folds for the held-out error, and the fewest nets per fold
# that give a usable error: five folds of four nets each.
CROSS_VALIDATION_FOLDS = 5
MIN_PER_FOLD = 4
MIN_MEASUREMENTS = CROSS_VALIDATION_FOLDS * MIN_PER_FOLD
# Fixed so that fitting the same measurements twice gives the same predictor and error.
_FOLD_SEED = 0


class LatencyPredictor:
    """Predicts the batch-1 inference latency of a net spec on one device and setting.

    ``device``, ``threads``, ``torch_version``, ``batch_size``, ``dtype`` and
    ``runtime`` describe the measurements it is fitted on; they are recorded in the
    metadata and the saved file (a predictor is only valid for them) but do
    not change how it predicts.
    """

    def __init__(
        self,
        *,
        device: str = "unknown",
        threads: int | None = None,
        torch_version: str | None = None,
        batch_size: int = 1,
        dtype: str = "float32",
        runtime: str = EAGER,
    ) -> None:
        self._setting: dict[str, Any] = {
            "device": device,
            "threads": threads,
            "torch_version": torch_version,
            "batch_size": batch_size,
            "dtype": dtype,
            "runtime": runtime,
        }
        self._regression: AdditiveRegression | None = None
        self._held_out: dict[str, float] | None = None
        self._training_measurements = 0
        self._fitted_at: str | None = None

    # ---- fitting ----------------------------------------------------------------------

    def fit(self, specs: Sequence[NetSpec], latencies_ms: Sequence[float]) -> LatencyPredictor:
        """Fit on measured nets, and estimate the error on nets left out of the fit.

        The error comes from 5-fold cross-validation: each fold is predicted by
        a model fitted on the other four, so every net is predicted without
        having been seen.  The final model is then fitted on all of them.
        """
        features, latencies = _training_arrays(specs, latencies_ms)
        predicted = np.empty_like(latencies)
        for held_out in _folds(len(latencies)):
            kept = np.setdiff1d(np.arange(len(latencies)), held_out)
            fold_model = AdditiveRegression().fit(features[kept], latencies[kept])
            predicted[held_out] = fold_model.predict(features[held_out])
        self._held_out = accuracy_metrics(predicted, latencies)
        self._regression = AdditiveRegression().fit(features, latencies)
        self._training_measurements = len(latencies)
        self._fitted_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        return self

    # ---- predicting -------------------------------------------------------------------

    def predict_ms(self, spec: NetSpec) -> float:
        """Predicted latency of ``spec`` at its own resolution, in milliseconds."""
        regression = self._fitted()
        return float(regression.predict(spec_features(spec)[None, :])[0])

    def predict_many_ms(self, specs: Sequence[NetSpec]) -> np.ndarray:
        return self._fitted().predict(feature_matrix(specs))

    @property
    def relative_error(self) -> float:
        """Cross-validated error as a fraction: 68% of held-out nets were predicted within it."""
        self._fitted()
        return self._held_out["relative_error"]  # type: ignore[index]

    @property
    def metadata(self) -> dict[str, Any]:
        """What the predictor was fitted on and how well it predicted held-out nets."""
        self._fitted()
        return {
            **self._setting,
            "model": MODEL_NAME,
            "training_measurements": self._training_measurements,
            # NaN (a rank correlation of constant values) becomes null: strict JSON has no NaN.
            "held_out": {key: None if value != value else value for key, value in self._held_out.items()},  # type: ignore[union-attr]
            "fitted_at": self._fitted_at,
        }

    @property
    def coefficients(self) -> dict[str, float]:
        """Milliseconds per unit of each feature, plus ``overhead`` (milliseconds per net)."""
        regression = self._fitted()
        return {"overhead": regression.overhead_ms, **dict(zip(FEATURE_NAMES, map(float, regression.costs_ms)))}

    # ---- files ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        regression = self._fitted()
        return {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "model": MODEL_NAME,
            "features": list(FEATURE_NAMES),
            "overhead_ms": regression.overhead_ms,
            "costs_ms": [float(cost) for cost in regression.costs_ms],
            "metadata": self.metadata,
        }

    def save(self, path: str | Path) -> Path:
        """Write the predictor as JSON; returns the path written."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: str | Path) -> LatencyPredictor:
        source = Path(path)
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"latency predictor file {str(source)!r} does not exist") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"latency predictor file {str(source)!r} is not valid JSON: {error}") from None
        return cls.from_dict(data, where=str(source))

    @classmethod
    def from_dict(cls, data: Any, where: str = "latency predictor") -> LatencyPredictor:
        _check_file(data, where)
        metadata = data["metadata"]
        # A file written before runtimes existed describes eager measurements.
        predictor = cls(**{key: metadata.get(key) for key in ("device", "threads", "torch_version", "batch_size", "dtype")},
                        runtime=metadata.get("runtime", EAGER))
        regression = AdditiveRegression()
        regression.overhead_ms = float(data["overhead_ms"])
        regression.costs_ms = np.asarray(data["costs_ms"], dtype=np.float64)
        predictor._regression = regression
        predictor._held_out = {key: math.nan if value is None else float(value) for key, value in metadata["held_out"].items()}
        predictor._training_measurements = int(metadata["training_measurements"])
        predictor._fitted_at = metadata.get("fitted_at")
        return predictor

    def _fitted(self) -> AdditiveRegression:
        if self._regression is None:
            raise RuntimeError("this LatencyPredictor is not fitted: call fit(...), fit_from_cache(...) or load(...) first")
        return self._regression


def fit_from_cache(
    device: str = "cpu",
    threads: int | None = None,
    *,
    cache: LatencyCache | None = None,
    batch_size: int = 1,
    dtype: str = "float32",
    torch_version: str | None = None,
    runtime: str = EAGER,
) -> LatencyPredictor:
    """A predictor fitted on every cached measurement of one device, runtime and setting.

    ``device`` is a device as typed (``cpu``, ``cuda:0``), meaning this
    machine's hardware, or a stored hardware name such as ``"cpu:AMD EPYC"``.
    ``threads`` defaults to ``torch.get_num_threads()``, as in
    :func:`evaluators.latency.measure`; ``torch_version`` to the running one.
    Raises ``ValueError`` saying what the cache holds when fewer than
    :data:`MIN_MEASUREMENTS` usable measurements match.
    """
    import torch

    if threads is None:
        threads = torch.get_num_threads()
    validate.integer("threads", threads, 1, fail=validate.must_be)
    setting = Setting(
        device=stored_device_name(device),
        threads=threads,
        batch_size=batch_size,
        dtype=dtype,
        torch_version=torch_version if torch_version is not None else torch.__version__,
        runtime=runtime,
    )
    cache = cache if cache is not None else LatencyCache()
    data = cached_training_set(cache, setting)
    if len(data.specs) < MIN_MEASUREMENTS:
        raise ValueError(_too_few_cached(data, cache))
    predictor = LatencyPredictor(
        device=setting.device, threads=setting.threads, torch_version=setting.torch_version,
        batch_size=setting.batch_size, dtype=setting.dtype, runtime=setting.runtime,
    )
    return predictor.fit(data.specs, data.latencies_ms)


def _too_few_cached(data: TrainingSet, cache: LatencyCache) -> str:
    setting = data.setting
    described = (
        f"device {setting.device!r}, threads={setting.threads}, batch size {setting.batch_size}, "
        f"{setting.dtype}, torch {setting.torch_version}, runtime {setting.runtime}"
    )
    message = (
        f"a latency predictor needs at least {MIN_MEASUREMENTS} measured nets with a stored spec; "
        f"the cache {str(cache.path)!r} has {len(data.specs)} for {described}"
    )
    if data.without_spec:
        message += f" ({data.without_spec} more measured without a stored spec)"
    if data.other_threads:
        counts = ", ".join(f"threads={threads}: {count}" for threads, count in data.other_threads.items())
        message += f"; measurements of this device at other thread counts: {counts}"
    return message + ". Measure more nets with evaluators.latency.measure(spec, ...) first."


def _training_arrays(specs: Sequence[NetSpec], latencies_ms: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    if len(specs) != len(latencies_ms):
        raise ValueError(f"specs and latencies_ms must pair up, got {len(specs)} specs and {len(latencies_ms)} latencies")
    if len(specs) < MIN_MEASUREMENTS:
        raise ValueError(
            f"a latency predictor needs at least {MIN_MEASUREMENTS} measured nets, got {len(specs)} "
            f"(its held-out error comes from {CROSS_VALIDATION_FOLDS} folds of at least {MIN_PER_FOLD} nets)"
        )
    for index, spec in enumerate(specs):
        if not isinstance(spec, NetSpec):
            raise TypeError(f"specs[{index}] must be a NetSpec, got {type(spec).__name__}")
    latencies = np.asarray(latencies_ms, dtype=np.float64)
    bad = [i for i, value in enumerate(latencies) if not (math.isfinite(value) and value > 0)]
    if bad:
        raise ValueError(f"latencies_ms[{bad[0]}] = {latencies_ms[bad[0]]!r} is not allowed: latencies must be finite and > 0 ms")
    return feature_matrix(specs), latencies


def _folds(count: int) -> list[np.ndarray]:
    order = np.random.default_rng(_FOLD_SEED).permutation(count)
    return np.array_split(order, CROSS_VALIDATION_FOLDS)


def _check_file(data: Any, where: str) -> None:
    if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
        raise ValueError(f"{where}: format = {data.get('format') if isinstance(data, dict) else data!r} is not allowed: expected {FILE_FORMAT!r}")
    if data.get("version") != FILE_VERSION:
        raise ValueError(f"{where}: version = {data.get('version')!r} is not allowed: this version reads {FILE_VERSION}")
    if data.get("model") != MODEL_NAME:
        raise ValueError(f"{where}: model = {data.get('model')!r} is not allowed: this version reads {MODEL_NAME!r}")
    if data.get("features") != list(FEATURE_NAMES):
        raise ValueError(
            f"{where}: features = {data.get('features')!r} is not allowed: this version computes "
            f"{list(FEATURE_NAMES)}; fit the predictor again"
        )
    costs = data.get("costs_ms")
    if not isinstance(costs, list) or len(costs) != len(FEATURE_NAMES) or not all(_non_negative_number(c) for c in costs):
        raise ValueError(f"{where}: costs_ms must be {len(FEATURE_NAMES)} finite numbers >= 0, got {costs!r}")
    if not _non_negative_number(data.get("overhead_ms")):
        raise ValueError(f"{where}: overhead_ms = {data.get('overhead_ms')!r} is not allowed: a finite number >= 0")
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        raise ValueError(f"{where}: metadata must be an object, got {metadata!r}")
    held_out = metadata.get("held_out")
    if not isinstance(held_out, dict) or not _non_negative_number(held_out.get("relative_error")):
        raise ValueError(f"{where}: metadata.held_out.relative_error must be a finite number >= 0, got {held_out!r}")
    count = metadata.get("training_measurements")
    if isinstance(count, bool) or not isinstance(count, int) or count < MIN_MEASUREMENTS:
        raise ValueError(f"{where}: metadata.training_measurements = {count!r} is not allowed: an integer >= {MIN_MEASUREMENTS}")


def _non_negative_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
