"""The harder tabular space of the search-efficiency benchmark: 8,192 nets of ``unified`` scored by a surrogate.

Every net of ``benchmarks/spaces/tabular_unified.yaml`` (a corner of the
default space at search run's default 224 px, digits' 10 classes) is scored in
about a second, deterministically, so the table is regenerated on the fly and
never stored:

- latency: the committed latency predictor
  (``results/benchmarks/latency_predictor_devvm_cpu_time_model.json``), an
  additive model of per-layer costs fitted to this machine's measurements;
- accuracy: an analytic surrogate, because no measured one can be had.  A
  model fitted to the committed proxy-fidelity results would be noise: on
  digits, log MACs and log params explain 3% of the variance of the 51 nets'
  reference accuracy (R^2 0.03).  So the surrogate follows the shape of
  ImageNet's mobile nets instead: the error falls as a power of the MACs and
  the parameters (exponent 0.2 for MACs, as MobileNetV3-Small to -Large,
  0.1 for params), and on top of that
  * each knob value has an effect of its own (a log-error shift drawn once,
    seeded), which a searcher can learn from the trials: a kernel or an
    expansion that helps in one net helps in all;
  * each net has a residual of its own (seeded by its digest), which no
    searcher can learn, as a real proxy's seed-to-seed noise.
  Both have a standard deviation of 0.05 in log error (about 5% of the error).
  The constants are round figures, not tuned to any result.

``small=True`` gives a 512-net space (four knobs of stages 1 and 3 fixed) for tests.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import RESULTS_DIR

SPACE_FILE = Path(__file__).resolve().parent / "spaces" / "tabular_unified.yaml"
PREDICTOR_FILE = RESULTS_DIR / "latency_predictor_devvm_cpu_time_model.json"
REFERENCE_MACS, REFERENCE_PARAMS, REFERENCE_ERROR = 3e8, 3.5e6, 0.28  # MobileNetV2 on ImageNet
MACS_EXPONENT, PARAMS_EXPONENT = 0.2, 0.1
KNOB_EFFECT_STD, NET_RESIDUAL_STD = 0.05, 0.05
SEED = 0
SMALL_FIXED = {"stage1.block": "mbconv", "stage1.width": 24, "stage3.depth": 2, "stage3.width": 64}  # knob -> value
CONTEXT = {"in_channels": 3, "num_classes": 10, "resolution": 224}


def surrogate_error(macs: int, params: int) -> float:
    """The size law: log error of a net of these MACs and params, before knob effects and residual."""
    return (math.log(REFERENCE_ERROR) - MACS_EXPONENT * math.log(macs / REFERENCE_MACS)
            - PARAMS_EXPONENT * math.log(params / REFERENCE_PARAMS))


def knob_effects(knobs: list[Any]) -> dict[tuple[str, Any], float]:
    """(knob, value) -> log-error shift, drawn once from a fixed seed, in the space's knob order."""
    rng = np.random.default_rng(SEED)
    spread = KNOB_EFFECT_STD / math.sqrt(len(knobs))  # the sum over knobs has KNOB_EFFECT_STD
    return {(knob.name, value): float(rng.normal(0.0, spread)) for knob in knobs for value in knob.values}


def net_residual(digest: str) -> float:
    seed = int.from_bytes(hashlib.sha256(digest.encode()).digest()[:8], "big")
    return float(np.random.default_rng(seed).normal(0.0, NET_RESIDUAL_STD))


def load_surrogate_space(*, small: bool = False):
    """The space file; ``small``: the same with the knobs of ``SMALL_FIXED`` fixed (512 nets)."""
    import yaml

    from search.spaces.files import space_from_data

    data = yaml.safe_load(SPACE_FILE.read_text())
    for name, value in SMALL_FIXED.items() if small else ():
        stage, setting = name.split(".")
        data["stages"][int(stage.removeprefix("stage"))][setting] = value
    return space_from_data(data, f"space file {SPACE_FILE.name}", SPACE_FILE.stem)


def surrogate_table(*, small: bool = False) -> dict[str, Any]:
    """The table in the form ``search_efficiency`` reads: space, context and digest -> spec, accuracy, latency."""
    from evaluators.latency.predictor import LatencyPredictor
    from search.spaces import FixedSuggest, SpaceContext
    from searchspace import encode
    from searchspace.analysis import analyze

    effects = knob_effects(load_surrogate_space().knobs())  # the full space's, so the small space's nets score alike
    space = load_surrogate_space(small=small)
    knobs = space.knobs()
    context = SpaceContext(**CONTEXT)
    fixed = SMALL_FIXED if small else {}
    points = [dict(zip((knob.name for knob in knobs), values)) for values in itertools.product(*(k.values for k in knobs))]
    specs = [space.sample(FixedSuggest(point), context) for point in points]
    latencies = LatencyPredictor.load(PREDICTOR_FILE).predict_many_ms(specs)
    nets = {}
    for point, spec, latency in zip(points, specs, latencies):
        cost = analyze(spec)
        log_error = (surrogate_error(cost.macs, cost.params) + sum(effects[(k, v)] for k, v in {**fixed, **point}.items())
                     + net_residual(spec.digest()))
        nets[spec.digest()] = {"spec": encode(spec), "accuracy": 1.0 - math.exp(log_error), "latency_ms": float(latency)}
    return {"path": f"{SPACE_FILE.name} scored by benchmarks/tabular_surrogate.py", "space": space, "context": context,
            "settings": {"surrogate": "tabular_surrogate", "seed": SEED, "small": small, **CONTEXT}, "nets": nets,
            "points": points, "known": known_family(points, knobs),
            "known_rule": "mbconv with 3x3 kernels; every stage narrow or every stage wide, all shallow or all deep, "
                          "expansion 3 or 6 in all; with or without the 1280 head"}


def known_family(points: list[dict[str, Any]], knobs: list[Any]) -> list[dict[str, Any]]:
    """The warm start: MobileNetV2's block (mbconv, 3x3 kernels) under uniform multipliers, chosen without any score.

    Every stage takes its narrow or its wide width alike, its shallow or its
    deep depth alike, and expansion 3 or 6 alike, with or without the 1280
    head: a family of 16 nets, as a designer scales one net up and down.
    """
    index = {knob.name: list(knob.values) for knob in knobs}

    def uniform(point: dict[str, Any], setting: str) -> bool:
        return len({index[n].index(v) for n, v in point.items() if n.startswith("stage") and n.endswith(setting)}) <= 1

    return [p for p in points
            if p.get("stage1.block", "mbconv") == "mbconv" and all(v == 3 for k, v in p.items() if k.endswith(".kernel"))
            and all(uniform(p, setting) for setting in (".width", ".depth", ".expansion"))]
