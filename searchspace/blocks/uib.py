"""MobileNetV4's universal inverted bottleneck (UIB).

Optional depthwise conv at the start, 1x1 expansion, optional depthwise conv
in the middle, 1x1 projection, optional depthwise conv at the end.  A kernel of
0 means the conv is absent, so one kind covers:

=================  =====  ===  ===
variant            start  mid  end
=================  =====  ===  ===
inverted residual    0     k    0
ConvNeXt-like        k     0    0
ExtraDW              k     k    0
FFN                  0     0    0
=================  =====  ===  ===

The stride goes on the middle conv if present, else the start conv, else the
end conv (timm's placement); an FFN cannot downsample.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from searchspace.activations import ACTIVATION
from searchspace.blocks.inverted import (
    EXPANSION_DIVISOR,
    check_odd_kernel,
    uses_skip,
    wrap_residual,
)
from searchspace.blocks.attention import AttentionSpec, attention_knob
from searchspace.fields import (
    BoolCodec,
    FloatCodec,
    IntCodec,
    SpecBase,
    SpecError,
    knob,
)
from searchspace.layer_scale import LAYER_SCALE_OP, LayerScale, cost_layer_scale, layer_scale_knob
from searchspace.layers import BuildContext, ConvNormAct
from searchspace.registry import BlockKind
from searchspace.stage_knobs import (
    ATTENTION_KNOBS,
    EXPANSION,
    KERNEL,
    START_KERNEL,
    UIB_VARIANT,
    KnobUse,
    Requires,
    SearchRecipe,
    StageFacts,
    expansion_of,
    se_from_knobs,
)
from searchspace.tally import Tally
from searchspace.widths import make_divisible


@dataclass(frozen=True, kw_only=True)
class UIBSpec(SpecBase):
    kind = "uib"

    out_channels: int = knob("c", IntCodec(1), doc="output channels", role="channels")
    expand_ratio: float = knob("e", FloatCodec(0.0, 64.0, open_min=True), 4.0, doc="expanded width / input width")
    start_kernel: int = knob("a", IntCodec(0), 0, doc="depthwise kernel before the expansion (0: absent)")
    mid_kernel: int = knob("k", IntCodec(0), 3, doc="depthwise kernel after the expansion (0: absent)")
    end_kernel: int = knob("z", IntCodec(0), 0, doc="depthwise kernel after the projection (0: absent)")
    activation: str = knob("", ACTIVATION, "relu", doc="activation after the expansion and the middle conv")
    se: AttentionSpec | None = attention_knob("before the projection")
    skip: bool = knob("", BoolCodec("skip", "noskip"), True, doc="residual connection when the shape is kept")
    layer_scale_init: float | None = layer_scale_knob()

    def check(self) -> None:
        for name in ("start_kernel", "mid_kernel", "end_kernel"):
            check_odd_kernel(self, name, getattr(self, name), allow_zero=True)

    def strides(self, stride: int) -> tuple[int, int, int]:
        """Strides of the (start, mid, end) depthwise convs."""
        if stride == 1:
            return (1, 1, 1)
        if self.mid_kernel:
            return (1, stride, 1)
        if self.start_kernel:
            return (stride, 1, 1)
        if self.end_kernel:
            return (1, 1, stride)
        raise SpecError(f"uib with no depthwise conv (start, mid and end kernels all 0) cannot have stride {stride}")


def uib_expanded_width(in_channels: int, expand_ratio: float) -> int:
    """A UIB always has its expansion conv, so even a ratio of 1 is rounded to the divisor."""
    return make_divisible(in_channels * expand_ratio, EXPANSION_DIVISOR)


def _build_uib(spec: UIBSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    out = spec.out_channels
    mid = uib_expanded_width(in_channels, spec.expand_ratio)
    start_stride, mid_stride, end_stride = spec.strides(stride)
    body = nn.Sequential()
    if spec.start_kernel:
        body.start = ConvNormAct(in_channels, in_channels, spec.start_kernel, ctx, stride=start_stride, groups=in_channels)
    body.expand = ConvNormAct(in_channels, mid, 1, ctx, activation=spec.activation)
    if spec.mid_kernel:
        body.middle = ConvNormAct(mid, mid, spec.mid_kernel, ctx, stride=mid_stride, groups=mid, activation=spec.activation)
    if spec.se is not None:
        body.se = spec.se.module(mid, in_channels, mid, out)
    body.project = ConvNormAct(mid, out, 1, ctx)
    if spec.end_kernel:
        body.end = ConvNormAct(out, out, spec.end_kernel, ctx, stride=end_stride, groups=out)
    if spec.layer_scale_init is not None:
        body.layer_scale = LayerScale(out, spec.layer_scale_init)
    return wrap_residual(body, uses_skip(spec.skip, in_channels, out, stride), ctx)


def _cost_uib(spec: UIBSpec, tally: Tally, stride: int) -> None:
    in_channels, out = tally.channels, spec.out_channels
    mid = uib_expanded_width(in_channels, spec.expand_ratio)
    start_stride, mid_stride, end_stride = spec.strides(stride)
    if spec.start_kernel:
        tally.conv(in_channels, spec.start_kernel, start_stride, groups=in_channels)
    tally.conv(mid, 1)
    if spec.mid_kernel:
        tally.conv(mid, spec.mid_kernel, mid_stride, groups=mid)
    if spec.se is not None:
        spec.se.cost(tally, in_channels, mid, out)
    tally.conv(out, 1)
    if spec.end_kernel:
        tally.conv(out, spec.end_kernel, end_stride, groups=out)
    if spec.layer_scale_init is not None:
        cost_layer_scale(tally)
    if uses_skip(spec.skip, in_channels, out, stride):
        tally.add_identity()


# (start kernel, middle kernel) of each variant in a search space: "k" is the stage's kernel, "s" its start_kernel.
_VARIANT_KERNELS = {"ib": ("", "k"), "convnext": ("k", ""), "extradw": ("s", "k"), "ffn": ("", "")}


def _search_uib(width: int, values: Mapping[str, Any]) -> UIBSpec:
    chosen = {"k": values["kernel"], "s": values["start_kernel"], "": 0}
    start, middle = (chosen[k] for k in _VARIANT_KERNELS[values["uib_variant"]])
    return UIBSpec(out_channels=width, start_kernel=start, mid_kernel=middle, activation=values["activation"], se=se_from_knobs(values), **expansion_of(values))


def _check_uib_stage(stage: StageFacts) -> tuple[str, str] | None:
    if stage.stride == 2 and "ffn" in stage.values.get("uib_variant", ()):
        return "uib_variant", "'ffn' is not allowed in a stride-2 stage: a UIB without depthwise convolutions cannot downsample"
    return None


_SEARCH = SearchRecipe(
    # An FFN has no depthwise conv, so no kernel to ask for.
    (UIB_VARIANT, KnobUse(KERNEL, Requires("uib_variant", "ffn", equal=False)), START_KERNEL, EXPANSION, *ATTENTION_KNOBS),
    _search_uib,
    check_stage=_check_uib_stage,
)
UIB = BlockKind(
    UIBSpec, _build_uib, _cost_uib, residual=True, expanded_width=uib_expanded_width, search=_SEARCH,
    latency_ops={LAYER_SCALE_OP: "elementwise"},
)
