"""What the `mobile` space searches: its stage layout, the knobs of each block, of the stem, head and net.

The layout is the one every fast known net shares once its stride-1 stages
may be left out: a stride-2 stem, then an optional stride-1 stage, then four
stride-2 stages each followed by an optional stride-1 stage (total stride 32).
A stem that max-pools takes the stride of the first stride-2 stage, which then
runs at stride 1 and may be left out (ShuffleNetV2 has no stage there).

Each block of a stage chooses its own kind, activation, expansion, kernel and
squeeze-and-excitation (MnasNet's factorized hierarchical space, Once-for-All's
elastic blocks), or repeats the block before it.  A repeat continues the
previous block's run (one ``Stage`` of the spec, with a repeat count); a block
drawn on its own starts a new run even when it comes out identical, which is
how MobileNetV3's table rows stay separate stages.

The values are the union of what the known nets use, so each is an exact
point (``mobile_points``): MobileNetV3's expansions are its expanded widths
over its input widths (184 / 80, 88 / 24), MnasNet's batch-norm momentum is
TensorFlow's decay 0.9997 converted, EfficientNet-B2...B5's head widths and
dropouts are theirs, EfficientNetV2's first fused blocks do not expand, and
MobileNetV4-hybrid's blocks take GELU, a layer scale and Mobile MQA.  Widths are any integer in range
(ShuffleNetV2's are multiples of 4, not of 8; a shuffle unit rounds an odd one up).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields, replace
from typing import Any

from search.spaces.blocks import make_block, stage_width
from search.spaces.domains import Domain
from search.spaces.knob_groups import GroupKnob
from searchspace import ConvSpec, HeadSpec, PoolSpec, Stage
from searchspace.fields import SpecBase
from searchspace.registry import kind_by_name
from searchspace.zoo.mnasnet import BN_MOMENTUM as MNASNET_MOMENTUM
from searchspace.zoo.mobilenet_v4 import HYBRID_LAYER_SCALE

ACTIVATIONS = Domain.choices(("relu", "relu6", "hardswish", "silu", "gelu"))
FLAGS = Domain.choices((False, True))
KERNELS = Domain.choices((3, 5))

BASE_KINDS = ("conv", "mbconv", "fused", "uib", "basic", "bottleneck")
# A ShuffleNetV2 unit changes its width only when it downsamples: only stages that always do may hold one.
DOWNSAMPLING_KINDS = (*BASE_KINDS, "shuffle")
# Mobile MQA attends over every position of the map, a cost that grows with their square: like MobileNetV4-hybrid,
# only the stages at 1/16 and 1/32 of the input offer it, and never as a stage's downsampling block (it keeps the map).
ATTENTION_KIND = "mqa"

# Squeeze-and-excitation as the family that uses it in each kind writes it (stage_knobs.se_from_knobs);
# mbconv chooses: MobileNetV3's (expanded) or EfficientNet's (input).
SE_STYLE = {"mbconv": "expanded", "fused": "expanded", "uib": "expanded", "basic": "input", "bottleneck": "input"}
# mbconv forms: MobileNetV2's inverted residual; no skip (MnasNet's first block); MobileNetV1's separable conv.
MBCONV_FORMS = ("inverted", "noskip", "separable")

# Each kind's own knobs, named "<kind>.<stage key>" (the keys space files use, docs/spaces.md).
KIND_KNOBS: dict[str, tuple[tuple[str, Domain, tuple[str, tuple[Any, ...]] | None], ...]] = {
    # (key, values, (an earlier key of the kind, its values under which this one is asked); None: always)
    "conv": (("kernel", Domain.choices((1, 3)), None),),
    "mbconv": (
        ("expansion", Domain.choices((1.0, 184 / 80, 200 / 80, 3.0, 88 / 24, 4.0, 72 / 16, 6.0)), None),
        ("kernel", KERNELS, None),
        ("se", FLAGS, None),
        ("se_style", Domain.choices(("expanded", "input")), ("se", (True,))),
        ("form", Domain.choices(MBCONV_FORMS), None),
    ),
    "fused": (("expansion", Domain.choices((1.0, 2.0, 4.0)), None), ("se", FLAGS, None)),
    "uib": (
        ("uib_variant", Domain.choices(("ib", "convnext", "extradw", "ffn")), None),
        ("kernel", KERNELS, ("uib_variant", ("ib", "convnext", "extradw"))),
        ("start_kernel", KERNELS, ("uib_variant", ("extradw",))),
        ("expansion", Domain.choices((2.0, 3.0, 4.0, 6.0)), None),
        ("se", FLAGS, None),
        ("layer_scale", FLAGS, None),
    ),
    "basic": (("se", FLAGS, None),),
    "bottleneck": (
        ("bottleneck_ratio", Domain.choices((0.25, 1.0)), None),
        ("group_width", Domain.choices((8, 16, 32)), None),
        ("se", FLAGS, None),
    ),
    "shuffle": (),
    "mqa": (
        ("heads", Domain.choices((4, 8)), None),
        ("key_dim", Domain.choices((48, 64)), None),
        ("kv_stride", Domain.choices((1, 2)), None),
        ("layer_scale", FLAGS, None),
    ),
}
# A UIB without depthwise convs (ffn) cannot downsample: the first block of a stride-2 stage has no ffn.
DOWNSAMPLING_UIB_VARIANTS = Domain.choices(("ib", "convnext", "extradw"))


@dataclass(frozen=True)
class StageLayout:
    stride: int
    depth: Domain
    width: Domain
    pool_takes_stride: bool = False  # runs at stride 1 when the stem max-pools
    attention: bool = False  # offers Mobile MQA blocks

    @property
    def optional(self) -> bool:
        return self.depth.low == 0

    @property
    def kinds(self) -> tuple[str, ...]:
        kinds = DOWNSAMPLING_KINDS if self.stride == 2 and not self.pool_takes_stride else BASE_KINDS
        return (*kinds, ATTENTION_KIND) if self.attention else kinds


def _stage(stride: int, depth: tuple[int, int], width: tuple[int, int], *, deep: bool = False, pool_takes_stride: bool = False,
           attention: bool = False) -> StageLayout:
    return StageLayout(stride, Domain.integers(*depth, log=deep), Domain.integers(*width, log=True), pool_takes_stride, attention)


# Depths and widths reach the largest known net's in each stage (EfficientNet-B5's 3, 5, 5 and 7, EfficientNetV2-S's 9,
# MobileNetV4-hybrid-large's 15 and 18 blocks, MobileNetV1's 1024).
# Widths, and the depths of the deep stages, are log-uniform: uniform ones would centre samples on nets
# of several GMACs (median 2.6 GMACs at 224 px), far from the mobile nets the space is for.
LAYOUT = (
    _stage(1, (0, 3), (8, 64)),
    _stage(2, (1, 5), (16, 128), pool_takes_stride=True),
    _stage(1, (0, 2), (16, 128)),
    _stage(2, (1, 5), (24, 256)),
    _stage(1, (0, 2), (24, 256)),
    _stage(2, (1, 15), (40, 512), deep=True, attention=True),
    _stage(1, (0, 9), (40, 512), attention=True),
    _stage(2, (1, 18), (64, 1024), deep=True, attention=True),
    _stage(1, (0, 3), (96, 1024), attention=True),
)


def depth_domain(layout: StageLayout, pool: bool) -> Domain:
    """The stage whose stride a pooling stem takes may then be left out, like any stride-1 stage."""
    if layout.pool_takes_stride and pool:
        return Domain.integers(0, layout.depth.high)
    return layout.depth


def run_stride(layout: StageLayout, pool: bool) -> int:
    return 1 if layout.pool_takes_stride and pool else layout.stride


@functools.cache
def block_group(kinds: tuple[str, ...], first: bool, downsamples: bool) -> tuple[GroupKnob, ...]:
    """The knobs of one block: repeat the previous block (not for the first), else its kind and the kind's knobs."""
    if first and downsamples:  # a kind that keeps the map (Mobile MQA) cannot open a stride-2 stage; strides None: any
        kinds = tuple(kind for kind in kinds if 2 in (kind_by_name(kind).strides or (2,)))
    knobs = [] if first else [GroupKnob("repeat", FLAGS)]
    drawn = () if first else (("repeat",), (False,))
    knobs.append(GroupKnob("kind", Domain.choices(kinds), *drawn))
    knobs.append(GroupKnob("activation", ACTIVATIONS, ("kind",), tuple(kind for kind in kinds if _activated(kind))))
    for kind in kinds:
        for key, domain, under in KIND_KNOBS[kind]:
            if key == "uib_variant" and first and downsamples:
                domain = DOWNSAMPLING_UIB_VARIANTS
            needs, values = ((f"{kind}.{under[0]}",), under[1]) if under else (("kind",), (kind,))
            knobs.append(GroupKnob(f"{kind}.{key}", domain, needs, values))
    return tuple(knobs)


def _activated(kind: str) -> bool:
    return any(field.name == "activation" for field in fields(kind_by_name(kind).spec))


def block_spec(kind: str, width: int, values: dict[str, Any]) -> SpecBase:
    """The block a group's values describe, made by the kind's search recipe (searchspace/stage_knobs.py)."""
    own = {key.split(".", 1)[1]: value for key, value in values.items() if key.startswith(kind + ".")}
    form, layer_scale = own.pop("form", None), own.pop("layer_scale", False)
    if own.get("se"):
        own.setdefault("se_style", SE_STYLE[kind])
    if "activation" in values:
        own["activation"] = values["activation"]
    block = make_block(kind, stage_width(kind, width), own)
    if form is not None:
        block = replace(block, skip=form == "inverted", project_activation=form == "separable")
    # Outside the kinds' search recipes, like form: the template spaces offer neither.
    return replace(block, layer_scale_init=HYBRID_LAYER_SCALE) if layer_scale else block


STEM = (
    GroupKnob("width", Domain.integers(8, 64, step=4)),
    GroupKnob("kernel", Domain.choices((3, 7))),  # 7: ResNet's
    GroupKnob("activation", ACTIVATIONS),
    GroupKnob("pool", FLAGS),
)


def stem_stages(values: dict[str, Any]) -> tuple[Stage, ...]:
    conv = Stage(block=ConvSpec(out_channels=values["width"], kernel=values["kernel"], activation=values["activation"]), stride=2)
    return (conv, Stage(block=PoolSpec(kernel=3, padding=1), stride=2)) if values["pool"] else (conv,)


HEAD_CONV_WIDTHS = (576, 960, 1024, 1280, 1408, 1536, 1792, 2048)
HIDDEN_WIDTHS = (1024, 1280)
HEAD = (
    GroupKnob("width", Domain.choices((0, *HEAD_CONV_WIDTHS))),  # the 1x1 conv before pooling
    GroupKnob("hidden", Domain.choices((0, *HIDDEN_WIDTHS))),  # a hidden linear layer after pooling
    GroupKnob("activation", ACTIVATIONS, ("width", "hidden"), HEAD_CONV_WIDTHS),
    # MobileNetV4 (timm): batch norm after the hidden layer, no bias; MobileNetV3 (torchvision): bias, no norm.
    GroupKnob("hidden_norm", FLAGS, ("hidden",), HIDDEN_WIDTHS),
    GroupKnob("dropout", Domain.choices((0.0, 0.2, 0.3, 0.4))),  # before the classifier
)


def head_spec(values: dict[str, Any]) -> HeadSpec:
    hidden = (values["hidden"],) if values["hidden"] else ()
    norm = values.get("hidden_norm", False)
    return HeadSpec(
        conv_channels=values["width"], activation=values.get("activation", "relu"), hidden=hidden,
        hidden_norm=norm, hidden_bias=not norm,
        dropout=(*(0.0 for _ in hidden), values["dropout"]) if values["dropout"] else (),
    )


NET = (
    # PyTorch's defaults; TensorFlow's (MobileNetV3 in torchvision); MnasNet's decay 0.9997.
    GroupKnob("norm_eps", Domain.choices((1e-5, 1e-3))),
    GroupKnob("norm_momentum", Domain.choices((0.1, 0.01, MNASNET_MOMENTUM))),
    GroupKnob("drop_path_rate", Domain.choices((0.0, 0.2))),  # stochastic depth (EfficientNet's 0.2)
)
