"""Scaling rules as pure functions from spec to spec.

* :func:`scale_width` - MobileNet's width multiplier alpha: every channel count
  times alpha, rounded to a multiple of ``divisor`` without losing over 10%.
* :func:`scale_depth` - EfficientNet's depth multiplier: every body stage's
  repeat count times the multiplier, rounded up.
* :func:`scale_resolution` - MobileNet's resolution multiplier rho (beta).
* :func:`compound` - EfficientNet's compound scaling by phi.
* :func:`at_resolution` - another input size, every layer kept (the proxy's rule).

The result of each is an ordinary, concrete spec: building it never rescales.
Families differ in a few details of the width rule (whether the stem and head
follow the multiplier, whether expanded widths scale through the expansion
ratio or on their own); those are options here, and the zoo picks the ones the
reference implementation uses.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from searchspace.analysis import block_costs, stage_out_channels
from searchspace.fields import SpecBase, SpecError
from searchspace.registry import kind_of
from searchspace.spec import AuxHeadSpec, HeadSpec, NetSpec, Stage
from searchspace.widths import check_width_multiplier, make_divisible


def _scaled(value: Any, scale) -> Any:
    """Apply ``scale`` to every channel-role field of a spec, recursively."""
    if isinstance(value, SpecBase):
        changes = {}
        for name, knob, _ in value.knobs():
            current = getattr(value, name)
            if knob.role == "channels":
                if isinstance(current, tuple):
                    changes[name] = tuple(scale(c) for c in current)
                elif current:  # 0 means "absent" (e.g. no head conv)
                    changes[name] = scale(current)
            elif isinstance(current, (SpecBase, tuple)):
                scaled = _scaled(current, scale)
                if scaled is not current:
                    changes[name] = scaled
        return replace(value, **changes) if changes else value
    if isinstance(value, tuple) and value and all(isinstance(v, SpecBase) for v in value):
        scaled_items = tuple(_scaled(v, scale) for v in value)
        return scaled_items if any(a is not b for a, b in zip(scaled_items, value)) else value
    return value


def scale_width(
    spec: NetSpec,
    multiplier: float,
    *,
    divisor: int = 8,
    stem: bool = True,
    head_conv: str | float = "scale",
    hidden: bool = True,
    expanded: str = "ratio",
) -> NetSpec:
    """Multiply every width by ``multiplier``.

    Args:
        divisor: widths are rounded to multiples of this (``make_divisible``).
        stem: scale the stem too (MobileNets do).
        head_conv: the head's 1x1 conv width: ``"scale"`` it, ``"keep"`` it,
            ``"at_least"`` (scale, but never below the original: MobileNetV2),
            or a number k for "k times the last stage's scaled width"
            (EfficientNet 4, MobileNetV3 6).
        hidden: scale the head's hidden linear layers (MobileNetV3 does).
        expanded: ``"ratio"`` keeps expansion ratios, so expanded widths follow
            the scaled inputs (MobileNetV2, EfficientNet); ``"absolute"`` scales
            each block's expanded width as a width of its own (MobileNetV3's
            tables), adjusting the ratio to match.
    """
    check_width_multiplier(multiplier)
    if expanded not in ("ratio", "absolute"):
        raise SpecError(f"expanded = {expanded!r} is not allowed: allowed: ratio, absolute")

    def scale(channels: int) -> int:
        return make_divisible(channels * multiplier, divisor)

    new_stem = _scaled(spec.stem, scale) if stem else spec.stem
    new_stages = _scaled(spec.stages, scale)
    if expanded == "absolute":
        new_stages = _absolute_expansions(spec, new_stem, new_stages, scale)
    head = _scale_head(spec.head, scale, head_conv, hidden, _last_width(spec.in_channels, new_stem + new_stages))
    aux = tuple(
        AuxHeadSpec(after_stage=a.after_stage, stages=_scaled(a.stages, scale), head=_scale_head(a.head, scale, "scale", hidden, 0))
        for a in spec.aux_heads
    )
    return replace(spec, stem=new_stem, stages=new_stages, head=head, aux_heads=aux)


def _scale_head(head: HeadSpec, scale, head_conv: str | float, hidden: bool, last_width: int) -> HeadSpec:
    conv = head.conv_channels
    if conv:
        if head_conv == "scale":
            conv = scale(conv)
        elif head_conv == "at_least":
            conv = max(conv, scale(conv))
        elif isinstance(head_conv, (int, float)) and not isinstance(head_conv, bool):
            conv = int(head_conv * last_width)
        elif head_conv != "keep":
            raise SpecError(f"head_conv = {head_conv!r} is not allowed: allowed: scale, keep, at_least, or a multiple of the last width")
    widths = tuple(scale(w) for w in head.hidden) if hidden else head.hidden
    return replace(head, conv_channels=conv, hidden=widths)


def _last_width(in_channels: int, stages: tuple[Stage, ...]) -> int:
    channels = in_channels
    for stage in stages:
        channels = stage_out_channels(stage, channels)
    return channels


def _absolute_expansions(spec: NetSpec, new_stem: tuple[Stage, ...], new_stages: tuple[Stage, ...], scale) -> tuple[Stage, ...]:
    """Give each expanding block the ratio that makes its expanded width ``scale(old expanded width)``.

    The first block of a stage sees a different input width than the others,
    so its ratio may differ; the stage is then split in two.
    """
    old_blocks = iter(block_costs(spec)[sum(s.repeats for s in spec.stem):])
    channels = _last_width(spec.in_channels, new_stem)
    result: list[Stage] = []
    for old_stage, stage in zip(spec.stages, new_stages):
        old_inputs = [next(old_blocks).in_shape[0] for _ in range(old_stage.repeats)]
        block = stage.block
        expanded_width = kind_of(block).expanded_width
        if expanded_width is not None:
            new_inputs = [channels] + [block.out_channels] * (stage.repeats - 1)
            ratios = [
                scale(expanded_width(old_in, old_stage.block.expand_ratio)) / new_in
                for old_in, new_in in zip(old_inputs, new_inputs)
            ]
            result.append(replace(stage, block=replace(block, expand_ratio=ratios[0]), repeats=1 if len(set(ratios)) > 1 else stage.repeats))
            if len(set(ratios)) > 1:
                result.append(Stage(block=replace(block, expand_ratio=ratios[1]), repeats=stage.repeats - 1))
        else:
            result.append(stage)
        channels = stage_out_channels(stage, channels)
    return tuple(result)


def scale_depth(spec: NetSpec, multiplier: float) -> NetSpec:
    """Every body stage of blocks repeated ``ceil(repeats * multiplier)`` times (EfficientNet's rule).

    Pooling, norm and transition stages are left alone: repeating them would
    downsample again rather than deepen the net.
    """
    if not 0 < multiplier < math.inf:  # also refuses nan, which compares false with everything
        raise SpecError(f"depth multiplier = {multiplier!r} is not allowed: must be a finite number > 0")
    stages = tuple(
        replace(s, repeats=int(math.ceil(s.repeats * multiplier))) if kind_of(s.block).depth_scalable else s
        for s in spec.stages
    )
    return replace(spec, stages=stages)


def scale_resolution(spec: NetSpec, multiplier: float) -> NetSpec:
    """Input resolution times ``multiplier``, rounded to the nearest pixel."""
    if not 0 < multiplier < math.inf:  # also refuses nan, which compares false with everything
        raise SpecError(f"resolution multiplier = {multiplier!r} is not allowed: must be a finite number > 0")
    return replace(spec, resolution=max(1, round(spec.resolution * multiplier)))


def at_resolution(spec: NetSpec, resolution: int) -> NetSpec:
    """The net at another input ``resolution``, every layer as it is: the proxy's rule for every net.

    A token net keeps its patch, so its token grid shrinks with the image as a CNN's
    feature maps do: ViT-Ti/16's 14x14 tokens at 224 px are 2x2 at 32 px, where a
    ResNet's last 7x7 map is 1x1.  Scaling the patch down to keep the grid (the rule
    until 2026-12-03) trained DeiT-Ti at its full 224-px cost, 16x16 tokens: 1,512 s
    for one digits proxy, twenty times a CNN's, and it reached 0.39; with its own
    16-px patch it reaches 0.93 in 80 s (docs/proxy.md).
    """
    return replace(spec, resolution=resolution)


# How far a layout's resolution may be raised to build: DenseNet needs about 30 px, ConvNeXt 32, GoogLeNet 16,
# AlexNet and ZF-Net 63 (their unpadded 11x11 or 7x7 stems and three 3x3 pools).
RAISE_LIMIT = 64


def smallest_buildable(spec: NetSpec, resolution: int, limit: int = RAISE_LIMIT) -> int:
    """``resolution``, or the smallest side up to ``limit`` above it at which the net builds (by :func:`at_resolution`).

    A proxy trains at a fraction of the deployment resolution; a net whose unpadded layers pool
    that input away (AlexNet at 32 px) trains at the first size it can take instead of failing.
    Where no size in reach builds, ``resolution`` comes back and building reports the net's own error.
    """
    for side in range(resolution, resolution + limit + 1):
        try:
            at_resolution(spec, side)
        except SpecError:
            continue
        return side
    return resolution


def compound(spec: NetSpec, phi: float, alpha: float = 1.2, beta: float = 1.1, gamma: float = 1.15, **width_options: Any) -> NetSpec:
    """EfficientNet's compound scaling: depth alpha**phi, width beta**phi, resolution gamma**phi.

    The paper's constants satisfy alpha * beta**2 * gamma**2 ~= 2, so each step
    of phi roughly doubles the MACs.  ``width_options`` go to :func:`scale_width`.
    """
    scaled = scale_width(scale_depth(spec, alpha**phi), beta**phi, **width_options)
    return scale_resolution(scaled, gamma**phi)
