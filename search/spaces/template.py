"""Spaces written stage by stage in a file (AnyNet-style): the `unified` and `mobilenet` built-ins, user files.

A net is sampled section by section - stem, each stage, head, net settings,
multipliers - asking each key that applies (see plan.py) and then building:

* a stem conv (and, with ``pool``, a 3x3 stride-2 max-pool that takes the
  stride of the first stride-2 stage, so every net has the same total stride);
* one stage per body stage whose depth is not 0, its block made by blocks.py,
  and after it a BAM stage when the stage's ``bam`` is on;
* the head, the net settings;
* the global multipliers: widths times ``width_mult`` rounded as MobileNet
  rounds them (``make_divisible(w * m, 8)``, the rule of
  ``searchspace.scaling.scale_width``) *before* the block repairs, so grouped
  widths stay divisible; then ``scale_depth`` and ``scale_resolution``.

``non_decreasing`` keys: each stage's value is asked from the part of its
range at or above the previous present stage's value, so every value the
trial records is the one the net has.  This is not uniform over the
constrained nets (later stages lean to larger values); a design-space study
that needs uniform samples can sample the space without the constraint and
keep the nets that satisfy it, as pycls does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from search.errors import UserError
from search.spaces.base import KnobInfo, Space, SpaceContext, not_a_baseline, registered
from search.spaces.blocks import make_block, stage_width
from search.spaces.counting import count_template
from search.spaces.definition import TemplateDefinition
from search.spaces.domains import Fixed
from search.spaces.plan import Entry, StagePlan, TemplatePlan, plan_template
from search.spaces.suggest import FixedSuggest, Suggest
from searchspace import ConvSpec, HeadSpec, NetSpec, PoolSpec, SpecError, Stage
from searchspace.scaling import scale_depth, scale_resolution
from searchspace.stage_knobs import bam_from_knobs
from searchspace.widths import make_divisible

WIDTH_DIVISOR = 8  # multiplied widths are rounded to multiples of this, as MobileNets and EfficientNets do


@dataclass
class _Draw:
    """One net's sampling: shared values and the previous values of constrained keys."""

    suggest: Suggest
    shared: dict[str, Any] = field(default_factory=dict)
    previous: dict[str, int] = field(default_factory=dict)

    def section(self, entries: tuple[Entry, ...]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for entry in entries:
            if entry.applies(values):
                values[entry.key] = self.value(entry)
        return values

    def value(self, entry: Entry) -> Any:
        setting = entry.setting
        if isinstance(setting, Fixed):
            return setting.value
        if entry.shared:
            if entry.key not in self.shared:
                self.shared[entry.key] = setting.draw(self.suggest, entry.name)
            return self.shared[entry.key]
        if entry.ordered and entry.key in self.previous:
            return setting.at_least(self.previous[entry.key]).draw(self.suggest, entry.name)
        return setting.draw(self.suggest, entry.name)


class TemplateSpace(Space):
    def __init__(self, definition: TemplateDefinition) -> None:
        self.definition = definition
        self.name = definition.name
        self.description = definition.description
        self.plan: TemplatePlan = plan_template(definition)
        self._check_baselines()

    @property
    def baselines(self) -> tuple[str, ...]:
        return registered(list(self.definition.baselines))

    # ---- sampling -----------------------------------------------------------------

    def sample(self, suggest: Suggest, context: SpaceContext) -> NetSpec:
        draw = _Draw(suggest)
        stem = draw.section(self.plan.stem)
        stages = []
        for stage in self.plan.stages:
            values = draw.section(stage.entries)
            if values["depth"] == 0:
                continue  # a stride-1 stage left out
            for key in self.definition.non_decreasing:
                draw.previous[key] = values[key]
            stages.append((stage, values))
        head = draw.section(self.plan.head)
        net = draw.section(self.plan.net)
        multipliers = draw.section(self.plan.multipliers)
        return self._build(stem, stages, head, net, multipliers, context)

    def _build(
        self, stem: dict, stages: list[tuple[StagePlan, dict]], head: dict, net: dict, multipliers: dict, context: SpaceContext,
    ) -> NetSpec:
        width_mult = multipliers["width"]

        def scaled(width: int) -> int:
            return width if width_mult == 1.0 else make_divisible(width * width_mult, WIDTH_DIVISOR)

        stem_stages = [Stage(block=ConvSpec(out_channels=scaled(stem["width"]), kernel=stem["kernel"], activation=stem["activation"]), stride=stem["stride"])]
        if stem["pool"]:
            stem_stages.append(Stage(block=PoolSpec(kernel=3, padding=1), stride=2))
        body = self._body(stages, scaled, stem["pool"])
        head_width = scaled(head["width"]) if head["width"] else 0
        spec = NetSpec(
            stem=tuple(stem_stages),
            stages=tuple(body),
            head=HeadSpec(conv_channels=head_width, activation=head.get("activation", "relu"), dropout=(head["dropout"],) if head["dropout"] else ()),
            resolution=context.resolution,
            in_channels=context.in_channels,
            num_classes=context.num_classes,
            norm_eps=net["norm_eps"],
            norm_momentum=net["norm_momentum"],
            drop_path_rate=net["drop_path_rate"],
        )
        if multipliers["depth"] != 1.0:
            spec = scale_depth(spec, multipliers["depth"])
        if multipliers["resolution"] != 1.0:
            spec = scale_resolution(spec, multipliers["resolution"])
        return spec

    def _body(self, stages: list[tuple[StagePlan, dict]], scaled: Callable[[int], int], stem_pools: bool) -> list[Stage]:
        body = []
        previous_width = 0
        for plan, values in stages:
            kind = values["block"]
            width = stage_width(kind, scaled(values["width"]))
            if "width" in self.definition.non_decreasing:
                # Rounding (multiplier, even shuffle widths) can undo the order the knobs had.
                width = stage_width(kind, max(width, previous_width))
                previous_width = width
            stride = 1 if plan.pool_takes_stride and stem_pools else plan.stride
            body.append(Stage(block=make_block(kind, width, values), repeats=values["depth"], stride=stride))
            bam = bam_from_knobs(values)
            if bam is not None:  # a stage of its own after the stage's last block (searchspace/stage_knobs.py)
                body.append(Stage(block=bam))
        return body

    # ---- description --------------------------------------------------------------

    def knobs(self) -> list[KnobInfo]:
        knobs: list[KnobInfo] = []
        shared_listed: set[str] = set()
        for section in self.plan.sections():
            for entry in section:
                if not entry.is_knob:
                    continue
                if entry.shared:
                    if entry.key not in shared_listed:
                        shared_listed.add(entry.key)
                        knobs.append(KnobInfo.of(entry.name, entry.setting, self._shared_when(entry.key), "one value for every stage"))
                    continue
                note = f"at least the previous stage's {entry.key} (non_decreasing)" if entry.ordered else ""
                knobs.append(KnobInfo.of(entry.name, entry.setting, entry.when(), note))
        return knobs

    def _shared_when(self, key: str) -> str:
        """When a shared knob is asked: as soon as some stage has a block that uses it."""
        conditions = []
        for stage in self.plan.stages:
            entry = next((e for e in stage.entries if e.key == key), None)
            if entry is None:
                continue
            if not entry.conditions:
                return ""
            conditions.append(entry.when())
        return " or ".join(f"({c})" if " and " in c else c for c in conditions)

    def log10_size(self) -> float:
        return math.log10(count_template(self.plan, self.definition))

    def known_point(self, zoo_name: str) -> dict[str, Any]:
        if zoo_name not in self.definition.baselines:
            raise not_a_baseline(self, zoo_name)
        return dict(self.definition.baselines[zoo_name])

    def _check_baselines(self) -> None:
        """Each listed point must name exactly the knobs its net asks for, with allowed values."""
        for zoo_name, point in self.definition.baselines.items():
            where = f"{self.definition.source}: baselines.{zoo_name}"
            replay = FixedSuggest(point)
            try:
                self.sample(replay, SpaceContext())
            except (UserError, SpecError) as error:
                raise UserError(f"{where}: {error}") from None
            if replay.unused():
                raise UserError(f"{where}: {', '.join(replay.unused())}: not a knob this net has (a fixed key, or one its blocks do not use)")
