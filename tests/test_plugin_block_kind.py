"""A block kind defined here, in the test module only, and registered: no file of the package is edited.

It becomes buildable and costed (the conformance checks every built-in kind
passes), searchable (a space file samples it), exportable (the standalone file
reloads with the same outputs) and predictable (its latency features, and a
fitted predictor's estimate).  docs/adding_a_block_kind.md walks through it.
The registration is undone after each test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from evaluators.cost import cost
from evaluators.latency.features import FEATURE_NAMES, layer_family, spec_features
from evaluators.latency.predictor import LatencyPredictor
from search.spaces import RandomSuggest, SpaceContext
from searchspace import NetSpec, Stage, build, decode, encode, kind_names, layer_records
from searchspace.blocks import ConvSpec
from searchspace.fields import FloatCodec, IntCodec, SpecBase, knob
from searchspace.layers import BuildContext, ConvNormAct
from searchspace.registry import BlockKind, registered
from searchspace.stage_knobs import KERNEL, SearchRecipe, StageKnob
from searchspace.tally import Tally
from tests.spaces_support import space_from_yaml
from tests.test_conformance import measured_cost
from tests.test_export_python import assert_same_net


# ---- the plug-in: a conv-norm-act followed by a learned per-channel scale ---------------


@dataclass(frozen=True, kw_only=True)
class ScaledConvSpec(SpecBase):
    kind = "scaledconv"

    out_channels: int = knob("c", IntCodec(1), doc="output channels", role="channels")
    kernel: int = knob("k", IntCodec(1), 3, doc="kernel of the conv")
    scale_init: float = knob("i", FloatCodec(0.0, 10.0, open_min=True), 1.0, doc="initial value of every channel's scale")


def scale_channels(x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * scale


class ScaledConv(nn.Module):
    def __init__(self, spec: ScaledConvSpec, in_channels: int, stride: int, ctx: BuildContext) -> None:
        super().__init__()
        self.conv = ConvNormAct(in_channels, spec.out_channels, spec.kernel, ctx, stride=stride, activation="relu")
        self.scale = nn.Parameter(torch.full((1, spec.out_channels, 1, 1), spec.scale_init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return scale_channels(self.conv(x), self.scale)


def build_scaled_conv(spec: ScaledConvSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    return ScaledConv(spec, in_channels, stride, ctx)


def cost_scaled_conv(spec: ScaledConvSpec, tally: Tally, stride: int) -> None:
    tally.conv(spec.out_channels, spec.kernel, stride)
    tally.layer("channel_scale", params=spec.out_channels)  # an element-wise product: no MACs


SCALE_INIT = StageKnob("scale_init", "real", "must be a number above 0 and at most 10", lambda v: 0 < v <= 10, default=1.0)


def search_scaled_conv(width: int, values: Mapping[str, Any]) -> ScaledConvSpec:
    return ScaledConvSpec(out_channels=width, kernel=values["kernel"], scale_init=values["scale_init"])


SCALED_CONV = BlockKind(
    ScaledConvSpec,
    build_scaled_conv,
    cost_scaled_conv,
    search=SearchRecipe((KERNEL, SCALE_INIT), search_scaled_conv),
    latency_ops={"channel_scale": "elementwise"},
)


@pytest.fixture(autouse=True)
def plugin():
    assert "scaledconv" not in kind_names()
    with registered(SCALED_CONV):
        yield
    assert "scaledconv" not in kind_names()


# ---- the checks ------------------------------------------------------------------------------


NETS = [
    "net_r32_n10 | conv_s2_c16 | scaledconv_c24 | head",
    "net_r33_n7 | conv_c8 | scaledconv_r3_s2_c16_k5_i0.5 scaledconv_s2_c8_k1 | head_c32",
    "net_r17_n3 | scaledconv_s2_c4_k7 | scaledconv_r2_c12 | head_c16_d0.2",
]

SPACE = """
    stem: {width: 16}
    all_stages: {block: [scaledconv, mbconv], kernel: [3, 5], scale_init: [0.5, 1.0, 2.0], expansion: [1, 4]}
    stages:
      - {stride: 2, depth: {low: 1, high: 2}, width: {low: 8, high: 32, step: 8}}
      - {stride: 1, depth: {low: 0, high: 2}, width: 32}
      - {stride: 2, depth: 2, width: {low: 32, high: 64, step: 16}, block: scaledconv}
    head: {width: [0, 64]}
"""


def test_a_plugin_adds_to_the_built_in_kinds_and_is_derived_everywhere() -> None:
    from search.spaces.plan import stage_order
    from search.spaces.schema import stage_keys
    from searchspace.registry import searchable_kinds
    from searchspace.stage_knobs import kinds_using

    assert kind_names()[-1] == "scaledconv" and {"conv", "mbconv", "uib", "shuffle"} <= set(kind_names())
    assert searchable_kinds()[-1] == "scaledconv" and stage_order()[-1] == "scale_init"
    assert "scaledconv" in stage_keys()["block"].names and "scale_init" in stage_keys()
    assert kinds_using("kernel")[-1] == "scaledconv" and kinds_using("scale_init") == ("scaledconv",)


@pytest.mark.parametrize("text", NETS)
def test_a_plugin_kind_is_buildable_and_costed_exactly(text: str) -> None:
    spec = decode(text)
    assert encode(spec) == text and NetSpec.from_json(spec.to_json()) == spec
    params, macs, activations, output_shape, stage_shapes = measured_cost(spec)
    analytic = cost(spec)
    assert (analytic.params, analytic.macs, analytic.activations) == (params, macs, activations)
    assert tuple(output_shape) == (1, *analytic.output_shape)
    assert stage_shapes == list(analytic.stage_shapes[len(spec.stem):])


def test_a_plugin_kind_is_searchable() -> None:
    space = space_from_yaml(SPACE)
    knobs = {k.name: k for k in space.knobs()}
    assert knobs["stage0.scale_init"].when == "stage0.block == scaledconv"
    assert knobs["stage0.expansion"].when == "stage0.block == mbconv"
    assert "stage2.expansion" not in knobs and knobs["stage2.scale_init"].when == ""
    kinds = set()
    for seed in range(12):
        spec = space.sample(RandomSuggest(seed=seed), SpaceContext(num_classes=10, resolution=32))
        kinds |= {stage.block.kind for stage in spec.stages}
        params, macs, *_ = measured_cost(spec)
        assert params == sum(p.numel() for p in build(spec).parameters())
    assert kinds == {"scaledconv", "mbconv"}


def test_a_plugin_kind_is_exportable(tmp_path: Path) -> None:
    spec = decode(NETS[1])
    assert_same_net(spec, tmp_path)
    # The exported block is its real source, with the helper its forward uses; no toolkit import.
    source = (tmp_path / "exported.py").read_text()
    assert "def scale_channels(" in source and "return scale_channels(self.conv(x), self.scale)" in source
    assert "searchspace" not in source and "ConvNormAct(" not in source


def test_a_plugin_kind_is_predictable() -> None:
    spec = decode(NETS[1])
    assert [layer_family(r) for r in layer_records(spec) if r.op == "channel_scale"] == ["elementwise"] * 4
    without_scales = spec_features(decode("net_r33_n7 | conv_c8 | conv_r3_s2_c16_k5 conv_s2_c8_k1 | head_c32"))
    difference = dict(zip(FEATURE_NAMES, spec_features(spec) - without_scales))
    assert difference["elementwise.count"] == 4 and difference["elementwise.traffic"] > 0
    rng = np.random.default_rng(0)
    nets = [
        NetSpec(stem=(Stage(block=ConvSpec(out_channels=8), stride=2),),
                stages=(Stage(block=ScaledConvSpec(out_channels=int(w), kernel=int(k)), repeats=int(r)),), resolution=32)
        for w, k, r in zip(rng.integers(4, 64, 30), rng.choice([1, 3, 5], 30), rng.integers(1, 4, 30))
    ]
    latencies = [1e-6 * spec_features(n)[FEATURE_NAMES.index("dense_conv.macs")] + 0.1 for n in nets]
    predictor = LatencyPredictor().fit(nets, latencies)
    assert predictor.predict_ms(nets[0]) == pytest.approx(latencies[0], rel=0.05)
