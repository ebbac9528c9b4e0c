"""The `mobile` space: per-block choices in which every fast known net is an exact point.

The layout and each group's knobs are ``mobile_layout``; this module samples
them define-by-run, lists them and counts them.  Knob names:

* ``stem.width``, ``stem.kernel``, ``stem.activation``, ``stem.pool``;
* ``stage<i>.depth`` and ``stage<i>.width`` (the stage's output width);
* ``stage<i>.block<j>.repeat`` (blocks after the first: the previous block
  once more), ``.kind``, ``.activation`` and the kind's own,
  ``.<kind>.<key>`` (``stage5.block0.uib.start_kernel``): each kind's knobs
  have names of their own, since optuna needs one list of choices per name;
* ``head.width`` (1x1 conv), ``head.hidden`` (hidden linear layer),
  ``head.activation``, ``head.hidden_norm``, ``head.dropout``;
* ``net.norm_eps``, ``net.norm_momentum``, ``net.drop_path_rate``.

Known points are found from the zoo specs themselves (``mobile_points``), so
a net's values are written nowhere else.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from search.spaces.base import KnobInfo, Space, SpaceContext, not_a_baseline, registered
from search.spaces.blocks import stage_width
from search.spaces.domains import Domain
from search.spaces.knob_groups import draw_group, group_count, group_infos, group_settings
from search.spaces.mobile_layout import (
    HEAD,
    LAYOUT,
    NET,
    STEM,
    StageLayout,
    block_group,
    block_spec,
    depth_domain,
    head_spec,
    run_stride,
    stem_stages,
)
from search.spaces.suggest import Suggest
from searchspace import NetSpec, Stage

# The fast known nets, each an exact point (tests/test_spaces_mobile.py checks every one).
KNOWN_NETS = (
    "mobilenet_v3_small", "mobilenet_v3_large", "mobilenetv4_conv_small", "mobilenetv4_conv_medium",
    "mobilenetv4_conv_large", "mobilenetv4_hybrid_medium", "mobilenetv4_hybrid_large",
    "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3",
    "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0",
    "mobilenetv1_100", "mobilenet_v2", "regnet_x_400mf", "regnet_x_800mf", "regnet_y_400mf", "regnet_y_800mf",
    "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "efficientnet_b4", "efficientnet_b5",
    "efficientnet_v2_s", "resnet18", "resnet34",
)


def stage_blocks(index: int, layout: StageLayout, suggest: Suggest, pool: bool) -> list[Stage]:
    """One stage of the layout as spec stages: each run of repeated blocks is one spec stage."""
    depth = depth_domain(layout, pool).draw(suggest, f"stage{index}.depth")
    if depth == 0:
        return []
    width = layout.width.draw(suggest, f"stage{index}.width")
    if "shuffle" in layout.kinds:  # any block may be a shuffle unit, which needs an even width: repaired once, for all
        width = stage_width("shuffle", width)
    runs: list[list[Any]] = []  # [block, repeats]
    for position in range(depth):
        group = block_group(layout.kinds, position == 0, layout.stride == 2)
        values = draw_group(group, suggest, f"stage{index}.block{position}.")
        if values.get("repeat"):
            runs[-1][1] += 1
        else:
            runs.append([block_spec(values["kind"], width, values), 1])
    stride = run_stride(layout, pool)
    return [Stage(block=block, repeats=repeats, stride=stride if run == 0 else 1) for run, (block, repeats) in enumerate(runs)]


class MobileSpace(Space):
    name = "mobile"
    description = (
        "Per-block choices over a MobileNet-like layout: every block picks its kind (conv, mbconv, fused, uib, "
        "basic, bottleneck, shuffle; Mobile MQA at 1/16 and 1/32), activation, expansion, kernel, SE and layer scale; "
        "stage depth, width and stride-1 stages; stem kernel and pooling, head conv and hidden layer, batch-norm "
        "settings. Holds MobileNetV1/V2/V3, MobileNetV4 conv and hybrid, MnasNet, ShuffleNetV2, small RegNets, "
        "EfficientNet-B0...B5, EfficientNetV2-S and ResNet-18/34 exactly."
    )

    @property
    def baselines(self) -> tuple[str, ...]:
        return registered(KNOWN_NETS)

    def sample(self, suggest: Suggest, context: SpaceContext) -> NetSpec:
        stem = draw_group(STEM, suggest, "stem.")
        stages = []
        for index, layout in enumerate(LAYOUT):
            stages.extend(stage_blocks(index, layout, suggest, stem["pool"]))
        head = draw_group(HEAD, suggest, "head.")
        net = draw_group(NET, suggest, "net.")
        return NetSpec(
            stem=stem_stages(stem), stages=tuple(stages), head=head_spec(head),
            resolution=context.resolution, in_channels=context.in_channels, num_classes=context.num_classes,
            norm_eps=net["norm_eps"], norm_momentum=net["norm_momentum"], drop_path_rate=net["drop_path_rate"],
        )

    def knobs(self) -> list[KnobInfo]:
        knobs = group_infos(STEM, "stem.")
        for index, layout in enumerate(LAYOUT):
            knobs.extend(_stage_infos(index, layout))
        return [*knobs, *group_infos(HEAD, "head."), *group_infos(NET, "net.")]

    def log10_size(self) -> float:
        rest = group_count(HEAD) * group_count(NET)
        total = 0
        for pool in (False, True):
            stems = sum(1 for values in group_settings(STEM) if values["pool"] == pool)
            total += stems * math.prod(_stage_count(layout, pool) for layout in LAYOUT) * rest
        return math.log10(total)

    def known_point(self, zoo_name: str) -> dict[str, Any]:
        if zoo_name not in self.baselines:
            raise not_a_baseline(self, zoo_name)
        return dict(_known_point(zoo_name))


@functools.cache
def _known_point(zoo_name: str) -> dict[str, Any]:
    """Found once per process: the search walks every setting of each part's knobs."""
    from search.spaces.mobile_points import point_of
    from searchspace import zoo

    return point_of(zoo.get(zoo_name))


def _stage_infos(index: int, layout: StageLayout) -> list[KnobInfo]:
    depth_name = f"stage{index}.depth"
    if layout.pool_takes_stride:
        depth = Domain.integers(0, layout.depth.high)
        infos = [KnobInfo.of(depth_name, depth, note=f"at least {layout.depth.low} unless the stem pools")]
    else:
        infos = [KnobInfo.of(depth_name, layout.depth)]
    may_be_empty = layout.optional or layout.pool_takes_stride
    infos.append(KnobInfo.of(f"stage{index}.width", layout.width, f"{depth_name} > 0" if may_be_empty else ""))
    for position in range(layout.depth.high):
        group = block_group(layout.kinds, position == 0, layout.stride == 2)
        present = f"{depth_name} > {position}" if position or may_be_empty else ""
        infos.extend(group_infos(group, f"stage{index}.block{position}.", present))
    return infos


def _stage_count(layout: StageLayout, pool: bool) -> int:
    """Settings of one stage: each depth's widths times its blocks' settings (a later block may repeat the one before)."""
    first = group_count(block_group(layout.kinds, True, layout.stride == 2))
    later = group_count(block_group(layout.kinds, False, layout.stride == 2))
    depths = depth_domain(layout, pool).integer_values()
    return sum(1 if depth == 0 else layout.width.count() * first * later ** (depth - 1) for depth in depths)
