"""How a search space asks for a block kind: the stage keys it reads and the spec it makes of them.

A stage of a stage-template search space (search/spaces) has a few keys every
kind reads (``depth``, ``block``, ``width``, ``activation``, ``stride``) and
keys only some kinds read (``kernel``, ``expansion``, the attention keys, ...),
and keys that add a stage after the stage whatever its kind (``bam``).
A kind that can be searched carries a :class:`SearchRecipe`: the
:class:`StageKnob` keys it reads, a function that makes its block spec from
the values drawn, and its stage rules.  Which keys exist, which kinds read
each one and the order they are asked in are all derived from the registered
recipes (:func:`stage_knobs`, :func:`kinds_using`, :func:`resolution_order`).

These are plain data: the space-file checks and the samplers live in
``search/spaces``, which imports this module and never the reverse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from searchspace.activations import activation_names
from searchspace.blocks.attention import AttentionSpec, attention_kinds, attention_spec_class
from searchspace.blocks.bam import BAMSpec
from searchspace.blocks.se import SESpec
from searchspace.blocks.selective_kernel import SelectiveKernelSpec
from searchspace.blocks.split_attention import SplitAttentionSpec
from searchspace.fields import SpecBase, SpecError


def _any(value: Any) -> bool:
    return True


def _same_width(width: int) -> int:
    return width


def value_word(value: Any) -> str:
    """A value as space files and knob listings write it (``true``, ``extradw``, ``3``)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class Requires:
    """A condition on another key of the same stage: ``key == value`` (or ``!=``)."""

    key: str
    value: Any
    equal: bool = True

    def holds(self, value: Any) -> bool:
        return (value == self.value and isinstance(value, bool) == isinstance(self.value, bool)) == self.equal

    def text(self, knob_name: str) -> str:
        return f"{knob_name} {'==' if self.equal else '!='} {value_word(self.value)}"


@dataclass(frozen=True)
class StageKnob:
    """A stage key that only some kinds read (or, ``every_kind``, one no block reads), checked as space files give it."""

    name: str
    type: str  # "int", "real", "name" or "bool"
    rule: str = ""  # what a valid value is, for messages
    valid: Callable[[Any], bool] = _any
    names: tuple[str, ...] = ()  # the allowed values of a "name" key
    default: Any = None  # what a stage that leaves the key out gets (None: the block spec's own default)
    requires: tuple[Requires, ...] = ()  # asked only when these hold, whatever the kind
    # Read by every kind, no recipe lists it: it adds a stage after the stage (bam_from_knobs), not a block field.
    every_kind: bool = False


@dataclass(frozen=True)
class KnobUse:
    """A key a kind reads only under a condition of its own (a UIB's FFN variant has no kernel)."""

    knob: StageKnob
    when: Requires


@dataclass(frozen=True)
class StageFacts:
    """What a kind's stage rule may look at: the stage's stride and the values its keys may take."""

    stride: int
    pool_takes_stride: bool  # the stem's max-pool may take this stage's stride (it then runs at stride 1)
    values: Mapping[str, tuple[Any, ...]]  # the possible values of the keys given as a value or a list (ranges left out)


@dataclass(frozen=True)
class SearchRecipe:
    knobs: tuple[StageKnob | KnobUse, ...]
    # (width, the stage's values with each knob's default filled in) -> the block spec
    make: Callable[[int, Mapping[str, Any]], SpecBase]
    width: Callable[[int], int] = _same_width  # the nearest width the kind can have
    # A stage this kind may not be in: (key to blame, message), else None.
    check_stage: Callable[[StageFacts], tuple[str, str] | None] | None = None

    def uses(self) -> dict[str, Requires | None]:
        """Key -> the kind's own condition for reading it (None: always)."""
        return {(u.knob.name if isinstance(u, KnobUse) else u.name): (u.when if isinstance(u, KnobUse) else None) for u in self.knobs}

    def stage_knobs(self) -> tuple[StageKnob, ...]:
        return tuple(u.knob if isinstance(u, KnobUse) else u for u in self.knobs)

    def block(self, width: int, values: Mapping[str, Any]) -> SpecBase:
        """The block spec of a stage; a key left out takes its knob's default."""
        defaults = {k.name: k.default for k in self.stage_knobs() if k.default is not None}
        return self.make(width, {**defaults, "activation": "relu", **values})


# --------------------------------------------------------------------------------------
# The built-in knobs, in the order space files list them (docs/spaces.md)
# --------------------------------------------------------------------------------------

_ODD = ("kernels must be odd", lambda v: v >= 1 and v % 2 == 1)
_POSITIVE = ("must be a positive integer", lambda v: v >= 1)
# Squeeze-and-excitation rules of the reference families (see se_from_knobs).
SE_STYLES = ("input", "expanded", "output")
# UIB variants: which of its depthwise convolutions exist (start, middle).
UIB_VARIANTS = ("ib", "convnext", "extradw", "ffn")
# The residual kinds' 3x3: a plain conv, or a variant that replaces it (searchspace/blocks/spatial.py).
SPATIAL_CONVS = ("plain", "sk", "splat")

KERNEL = StageKnob("kernel", "int", *_ODD, default=3)
EXPANSION = StageKnob("expansion", "real", "must be a number above 0 and at most 64", lambda v: 0 < v <= 64)
SE = StageKnob("se", "bool", default=False)
SE_STYLE = StageKnob("se_style", "name", names=SE_STYLES, default="input", requires=(Requires("se", True),))
SE_RATIO = StageKnob("se_ratio", "real", "must be a number above 0 and at most 4", lambda v: 0 < v <= 4, requires=(Requires("se", True),))
# Which module fills the attention slot when `se` is on (the key keeps its name from when SE was the only one).
ATTENTION = StageKnob("attention", "name", names=attention_kinds(), default="se", requires=(Requires("se", True),))
BOTTLENECK_RATIO = StageKnob("bottleneck_ratio", "real", "must be a number above 0 and at most 64", lambda v: 0 < v <= 64, default=0.25)
GROUP_WIDTH = StageKnob("group_width", "int", *_POSITIVE)
UIB_VARIANT = StageKnob("uib_variant", "name", names=UIB_VARIANTS, default="ib")
START_KERNEL = StageKnob("start_kernel", "int", *_ODD, default=3, requires=(Requires("uib_variant", "extradw"),))
SPATIAL_CONV = StageKnob("spatial_conv", "name", names=SPATIAL_CONVS, default="plain")
# Read by every attention kind (swin, mqa), each in its own sense of a head; declared once so both agree.
HEADS = StageKnob("heads", "int", *_POSITIVE, default=4)


def _spec_field_rule(spec_class: type[SpecBase], field: str) -> tuple[str, Callable[[Any], bool]]:
    """(rule, check) of a spec field's own codec, so a stage key and the spec it sets allow the same values."""
    codec = next(spec_knob.codec for name, spec_knob, _ in spec_class.knobs() if name == field)

    def valid(value: Any) -> bool:
        try:
            codec.normalize(value, field)
        except SpecError:
            return False
        return True

    return codec.rule(), valid


# BAM (Park et al. 2018) is a stage of its own, put right after the stage whose `bam` is on: after
# that stage's last block, so before the next stage's downsampling, where the paper (and the zoo's
# bam_resnet50) puts it.  It is a key of the stage it follows rather than a SearchRecipe on the `bam`
# kind because a recipe makes a kind a stage's *block*: a space would then need a stride-1 BAM stage
# of depth 0 or 1 between each pair of stages, renumbering every existing space's stage knobs, with
# a width and a depth BAM cannot have (it keeps the map's shape, and is never repeated).
_WITH_BAM = (Requires("bam", True),)
BAM = StageKnob("bam", "bool", default=False, every_kind=True)
BAM_REDUCTION = StageKnob("bam_reduction", "int", *_spec_field_rule(BAMSpec, "reduction"), requires=_WITH_BAM, every_kind=True)
BAM_DILATION = StageKnob("bam_dilation", "int", *_spec_field_rule(BAMSpec, "dilation"), requires=_WITH_BAM, every_kind=True)
BUILTIN_KNOBS = (KERNEL, EXPANSION, SE, SE_STYLE, SE_RATIO, ATTENTION, BOTTLENECK_RATIO, GROUP_WIDTH, UIB_VARIANT, START_KERNEL,
                 SPATIAL_CONV, BAM, BAM_REDUCTION, BAM_DILATION)

# The attention keys, for the kinds with an attention slot.
ATTENTION_KNOBS = (SE, SE_STYLE, SE_RATIO, ATTENTION)
ACTIVATION_NAMES = activation_names()


def se_from_knobs(values: Mapping[str, Any]) -> AttentionSpec | None:
    """The stage's attention: None when ``se`` is off, else the ``attention`` kind (SE unless given).

    SE follows one of the reference families (``se_style``); another kind takes
    its own paper's defaults, with ``se_ratio`` as its squeeze ratio where it has one.
    """
    if not values.get("se"):
        return None
    kind = values.get("attention", "se")
    if kind != "se":
        spec_class = attention_spec_class(kind)
        ratio = values.get("se_ratio")
        has_ratio = any(name == "ratio" for name, _, _ in spec_class.knobs())
        return spec_class(ratio=ratio) if ratio is not None and has_ratio else spec_class()
    style, ratio = values.get("se_style", "input"), values.get("se_ratio")
    if style == "input":  # EfficientNet, RegNetY: a quarter of the block input, the block's activation
        return SESpec(ratio=ratio or 0.25, relative_to="in", activation=values["activation"])
    if style == "expanded":  # MobileNetV3, MnasNet: a quarter of the expanded width, hard-sigmoid gate
        return SESpec(ratio=ratio or 0.25, relative_to="mid", divisor=8, activation="relu", gate="hardsigmoid")
    # "output", SENet: a sixteenth of the block output
    return SESpec(ratio=ratio or 1 / 16, relative_to="out", divisor=8)


def spatial_from_knobs(values: Mapping[str, Any]) -> SelectiveKernelSpec | SplitAttentionSpec | None:
    """The 3x3 variant a stage drew, with its reference net's settings (timm's SelectiveKernel, ResNeSt's radix 2 and avd)."""
    choice = values.get("spatial_conv", "plain")
    if choice == "sk":
        return SelectiveKernelSpec()
    return SplitAttentionSpec() if choice == "splat" else None


def bam_from_knobs(values: Mapping[str, Any]) -> BAMSpec | None:
    """The BAM to put after the stage, None when ``bam`` is off; reduction and dilation are the spec's (the paper's) unless given."""
    if not values.get("bam"):
        return None
    fields = {"bam_reduction": "reduction", "bam_dilation": "dilation"}
    return BAMSpec(**{field: values[key] for key, field in fields.items() if values.get(key) is not None})


def expansion_of(values: Mapping[str, Any]) -> dict[str, float]:
    """The ``expand_ratio`` argument when the stage gives an expansion (else the spec's default)."""
    return {"expand_ratio": values["expansion"]} if values.get("expansion") is not None else {}


# --------------------------------------------------------------------------------------
# Derived from the registered recipes
# --------------------------------------------------------------------------------------


def _recipes() -> list[tuple[str, SearchRecipe]]:
    from searchspace.registry import all_kinds

    return [(k.name, k.search) for k in all_kinds() if k.search is not None]


def stage_knobs() -> dict[str, StageKnob]:
    """Every kind-specific stage key: the built-in ones in file order, then plug-ins' in registration order."""
    knobs = {k.name: k for k in BUILTIN_KNOBS}
    for _, recipe in _recipes():
        for knob in recipe.stage_knobs():
            knobs.setdefault(knob.name, knob)
    return knobs


def kinds_using(key: str) -> tuple[str, ...]:
    """The searchable kinds that read a stage key, in registration order."""
    return tuple(name for name, recipe in _recipes() if key in recipe.uses())


def kind_conditions(key: str) -> list[tuple[str, Requires]]:
    """(kind, its own condition) for each kind that reads ``key`` only under one."""
    return [(name, when) for name, recipe in _recipes() if (when := recipe.uses().get(key)) is not None]


def _reads(knob: StageKnob) -> list[str]:
    """The keys whose values decide whether ``knob`` is asked."""
    return [r.key for r in knob.requires] + [when.key for _, when in kind_conditions(knob.name)]


def resolution_order() -> tuple[str, ...]:
    """The order a stage's kind-specific keys are asked in.

    A key comes right after the keys its conditions read, and the keys that
    read it right after it: ``uib_variant, kernel, start_kernel, expansion, se,
    se_style, se_ratio, ...``.  (The order fixes which values a seed draws.)
    """
    knobs = stage_knobs()
    order: list[str] = []

    def place(name: str) -> None:
        for needed in _reads(knobs[name]):
            if needed not in order:
                place(needed)
        if name in order:
            return
        order.append(name)
        for other in knobs.values():
            if name in _reads(other) and other.name not in order:
                place(other.name)

    for name in knobs:
        if name not in order:
            place(name)
    return tuple(order)


def check_recipe(kind: str, recipe: SearchRecipe, others: Sequence[SearchRecipe]) -> None:
    """A plug-in's knob may share a built-in's name only if it is the same knob."""
    known = {k.name: k for k in BUILTIN_KNOBS}
    for other in others:
        known.update({k.name: k for k in other.stage_knobs()})
    for knob in recipe.stage_knobs():
        if knob.name in known and known[knob.name] != knob:
            raise RuntimeError(f"block kind {kind!r} declares stage key {knob.name!r} unlike the kinds that already read it")
