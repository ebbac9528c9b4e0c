"""Validation of space files: raw YAML/JSON data in, a checked definition out.

A stage-by-stage space file (the full reference, with every key and default,
is docs/spaces.md)::

    name: tiny                          # optional, defaults to the file name
    stem: {width: 32, activation: [relu, hardswish], pool: false}
    all_stages:                         # keys every stage has unless it says otherwise
      block: [mbconv, fused]            # a list: choices
      kernel: [3, 5]                    # kind-specific: only asked for the kinds that have it
      expansion: [3, 6]
      se: [false, true]
    stages:
      - {stride: 2, depth: {low: 1, high: 3}, width: {low: 16, high: 48, step: 8}}
      - {stride: 1, depth: {low: 0, high: 2}, width: 64}   # depth 0: stage left out
      - {stride: 2, depth: 2, width: {low: 64, high: 256, log: true}}
    head: {width: [0, 1280], dropout: 0.2}
    net: {drop_path_rate: 0.0}
    multipliers: {width: [0.75, 1.0], depth: 1.0, resolution: [0.75, 1.0]}
    shared: [kernel]                    # one value for every stage
    constraints: {non_decreasing: [width]}
    baselines: {}                       # zoo name -> its knob values, written like the space

A value is fixed (``3``), a list of choices (``[3, 5]``) or a range
(``{low, high, step}``, ``{low, high, log: true}``).  A RegNet file has a
``regnet`` section (depth, w0, wa, wm, group_width, bottleneck_ratio, se,
se_ratio) instead of the stem, stages and head.

Every error is a ``UserError`` whose message starts with the file and the key
path and says what is allowed, e.g.::

    space file x.yaml: stages[2].kernel: 4 is not allowed: kernels must be odd
    space file x.yaml: stages[1].block: 'mbconvv' is not allowed (allowed: conv, basic, ...)

Single keys are checked by the tables below; rules that involve several keys
by :func:`_check_stage`, :func:`_parse_shared` and :func:`_check_orderable`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from search.errors import shown
from search.spaces.definition import (
    MULTIPLIER_KNOBS,
    ORDERABLE_KEYS,
    RegNetDefinition,
    Setting,
    StageDefinition,
    TemplateDefinition,
    is_possible,
    pool_stage_index,
    possible_values,
)
from search.spaces.domains import Domain, Fixed
from search.spaces.sizes import DEPTH_KEY, STAGE_WIDTH_KEY, checked_stage_count
from search.spaces.values import (
    POSITIVE,
    Key,
    Where,
    as_mapping,
    int_key,
    name_key,
    parse_setting,
    real_key,
    reject_unknown,
)
from searchspace import zoo
from searchspace.activations import activation_names
from searchspace.registry import kind_by_name, searchable_kinds
from searchspace.stage_knobs import StageFacts, StageKnob, kinds_using, stage_knobs, value_word


# --------------------------------------------------------------------------------------
# Keys: what each accepts
# --------------------------------------------------------------------------------------


_ODD = ("kernels must be odd", lambda v: v >= 1 and v % 2 == 1)
_STRIDE = Key("int", "must be 1 or 2", lambda v: v in (1, 2), searchable=False, default=2)
_ACTIVATION = name_key(activation_names(), default="relu")

STEM_KEYS = {
    "width": int_key(*POSITIVE, default=32),
    "kernel": int_key(*_ODD, default=3),
    "activation": _ACTIVATION,
    "pool": Key("bool", default=False),
    "stride": _STRIDE,
}


def _stage_key(knob: StageKnob) -> Key:
    return Key(knob.type, knob.rule, knob.valid, knob.names)


def stage_keys() -> dict[str, Key]:
    """The keys a stage may give: those every kind reads, then each block kind's own (from the registry)."""
    return {
        "stride": Key("int", "must be 1 or 2", lambda v: v in (1, 2), searchable=False),
        "depth": DEPTH_KEY,
        "block": name_key(searchable_kinds()),
        "width": STAGE_WIDTH_KEY,
        "activation": name_key(activation_names()),
        **{name: _stage_key(knob) for name, knob in stage_knobs().items()},
    }

REQUIRED_STAGE_KEYS = ("stride", "depth", "block", "width")
HEAD_KEYS = {
    "width": int_key("must be an integer >= 0 (0: no head convolution)", lambda v: v >= 0, default=0),
    "activation": _ACTIVATION,
    "dropout": real_key("must be a number from 0 up to (not including) 1", lambda v: 0 <= v < 1, default=0.0),
}
NET_KEYS = {
    "drop_path_rate": real_key("must be a number from 0 to 0.99", lambda v: 0 <= v <= 0.99, default=0.0),
    "norm_eps": real_key("must be a number above 0 and at most 1", lambda v: 0 < v <= 1, default=1e-5),
    "norm_momentum": real_key("must be a number from 0 to 1", lambda v: 0 <= v <= 1, default=0.1),
}
_MULTIPLIER = real_key("multipliers must be numbers above 0", lambda v: v > 0, default=1.0)
MULTIPLIER_KEYS = {name: _MULTIPLIER for name in MULTIPLIER_KNOBS}
REGNET_KEYS = {
    "depth": int_key(*POSITIVE),
    "w0": int_key("must be a positive multiple of 8", lambda v: v >= 8 and v % 8 == 0),
    "wa": real_key("must be a number >= 0", lambda v: v >= 0),
    "wm": real_key("must be a number above 1", lambda v: v > 1),
    "group_width": int_key(*POSITIVE),
    "bottleneck_ratio": real_key("must be a number above 0 and at most 64", lambda v: 0 < v <= 64, default=1.0),
    "se": Key("bool", default=False),
    "se_ratio": real_key("must be a number above 0 and at most 4", lambda v: 0 < v <= 4, default=0.25),
}

TEMPLATE_TOP_KEYS = ("name", "description", "stem", "all_stages", "stages", "head", "net", "multipliers", "shared", "constraints", "baselines")
REGNET_TOP_KEYS = ("name", "description", "regnet", "multipliers")


# --------------------------------------------------------------------------------------
# Sections (one value per key: search/spaces/values.py)
# --------------------------------------------------------------------------------------


def _section(raw: Any, keys: Mapping[str, Key], where: Where) -> dict[str, Setting]:
    """A mapping section with every key resolved; keys without a default are required."""
    raw = as_mapping(raw, where)
    reject_unknown(raw, keys, where)
    settings = {}
    for name, key in keys.items():
        if name in raw:
            settings[name] = parse_setting(raw[name], key, where.key(name))
        elif key.default is None:
            raise where.fail(f"missing required key {name!r}")
        else:
            settings[name] = Fixed(key.default)
    return settings


def _text(raw: Any, where: Where) -> str:
    if not isinstance(raw, str):
        raise where.fail(f"{shown(raw)} is not allowed: must be text")
    return raw


# --------------------------------------------------------------------------------------
# Whole files
# --------------------------------------------------------------------------------------


def parse_space(data: Any, source: str, default_name: str, *, require_known_baselines: bool = True) -> TemplateDefinition | RegNetDefinition:
    """Check a space file's data.

    ``require_known_baselines``: reject baselines the zoo does not know (user
    files); built-in spaces may name nets whose family is still being added.
    """
    top = Where(source)
    if data is None:
        raise top.fail("the file is empty: give 'stages' (a net written stage by stage) or 'regnet' (RegNet's parameters)")
    if not isinstance(data, dict):
        raise top.fail(f"the file must hold a mapping of keys (name, stages, ...), not {type(data).__name__}")
    name = _text(data.get("name", default_name), top.key("name"))
    description = _text(data.get("description", ""), top.key("description"))
    if "regnet" in data:
        reject_unknown(data, REGNET_TOP_KEYS, top)
        return _parse_regnet(data, name, description, source)
    if "stages" not in data:
        raise top.fail("give either 'stages' (a net written stage by stage) or 'regnet' (RegNet's parameters)")
    reject_unknown(data, TEMPLATE_TOP_KEYS, top)
    return _parse_template(data, name, description, source, require_known_baselines)


def _parse_regnet(data: dict, name: str, description: str, source: str) -> RegNetDefinition:
    top = Where(source)
    settings = _section(data["regnet"], REGNET_KEYS, top.key("regnet"))
    # Widths and depths come from the RegNet rule itself: only the resolution has a multiplier.
    resolution = _section(data.get("multipliers"), {"resolution": _MULTIPLIER}, top.key("multipliers"))["resolution"]
    return RegNetDefinition(name, description, source, settings, resolution)


def _parse_template(data: dict, name: str, description: str, source: str, require_known_baselines: bool) -> TemplateDefinition:
    top = Where(source)
    stem = _section(data.get("stem"), STEM_KEYS, top.key("stem"))
    head = _section(data.get("head"), HEAD_KEYS, top.key("head"))
    net = _section(data.get("net"), NET_KEYS, top.key("net"))
    multipliers = _section(data.get("multipliers"), MULTIPLIER_KEYS, top.key("multipliers"))
    stages = _parse_stages(data, top)
    pool_stage = pool_stage_index(stem, stages)
    if is_possible(stem["pool"], True) and pool_stage is None:
        raise top.key("stem").key("pool").fail("a stem max-pool takes the stride of the first stride-2 stage, and there is none")
    for stage in stages:
        _check_stage(stage, pool_stage, top.key("stages").item(stage.index))
    shared = _parse_shared(data.get("shared", []), stages, top.key("shared"))
    non_decreasing = _parse_constraints(data.get("constraints"), stages, shared, top.key("constraints"))
    baselines = _parse_baselines(data.get("baselines"), len(stages), top.key("baselines"), require_known_baselines)
    return TemplateDefinition(
        name=name, description=description, source=source, stem=stem, stages=stages, head=head, net=net,
        multipliers=multipliers, shared=shared, non_decreasing=non_decreasing, baselines=baselines,
    )


def _parse_stages(data: dict, top: Where) -> tuple[StageDefinition, ...]:
    where = top.key("stages")
    keys = stage_keys()
    defaults_raw = as_mapping(data.get("all_stages"), top.key("all_stages"))
    reject_unknown(defaults_raw, keys, top.key("all_stages"))
    defaults = {k: parse_setting(v, keys[k], top.key("all_stages").key(k)) for k, v in defaults_raw.items()}
    raw_stages = data["stages"]
    checked_stage_count(raw_stages, where)
    if isinstance(raw_stages, int) and not isinstance(raw_stages, bool):
        if raw_stages < 1:
            raise where.fail(f"{raw_stages} is not allowed: give a list of stages or a positive count")
        raw_stages = [{} for _ in range(raw_stages)]
    if not isinstance(raw_stages, list) or not raw_stages:
        raise where.fail("must be a non-empty list of stages (or a count, with the keys in all_stages)")
    stages = []
    for index, raw in enumerate(raw_stages):
        stage_where = where.item(index)
        raw = as_mapping(raw, stage_where)
        reject_unknown(raw, keys, stage_where)
        own = {k: parse_setting(v, keys[k], stage_where.key(k)) for k, v in raw.items()}
        for key in REQUIRED_STAGE_KEYS:
            if key not in own and key not in defaults:
                raise stage_where.fail(f"missing required key {key!r} (give it here or in all_stages)")
        merged = {**defaults, **own}
        _check_applicable(own, merged, stage_where)
        settings = {**_applicable(defaults, merged), **own}
        stages.append(StageDefinition(index, settings))
    return tuple(stages)


def _unused_reason(key: str, kinds: tuple[str, ...], settings: Mapping[str, Setting]) -> str | None:
    """Why no block of a stage can use ``key``, or None when some block, with some values, does."""
    knobs = stage_knobs()
    if key not in knobs:  # a key every kind reads
        return None
    users = kinds_using(key)
    if not knobs[key].every_kind and not set(kinds) & set(users):
        return f"it applies to {', '.join(users)} blocks"
    for required in knobs[key].requires:
        given = settings.get(required.key, Fixed(knobs[required.key].default))
        if required.equal and not is_possible(given, required.value):
            return f"{required.key} is never {value_word(required.value)} here"
    return None


def _check_applicable(own: dict[str, Setting], merged: dict[str, Setting], where: Where) -> None:
    """A key the stage itself gives must matter to it (all_stages keys apply only where they do)."""
    kinds = possible_values(merged["block"])
    for key in own:
        reason = _unused_reason(key, kinds, merged)
        if reason:
            raise where.key(key).fail(f"no block of this stage uses it ({reason})")


def _applicable(defaults: dict[str, Setting], merged: dict[str, Setting]) -> dict[str, Setting]:
    kinds = possible_values(merged["block"])
    return {k: v for k, v in defaults.items() if _unused_reason(k, kinds, merged) is None}


def _check_stage(stage: StageDefinition, pool_stage: int | None, where: Where) -> None:
    stride = stage.stride
    if stride == 2 and stage.may_be_left_out():
        raise where.key("depth").fail(
            "0 is not allowed in a stride-2 stage: only stride-1 stages may be left out, so every net has the same total stride"
        )
    listed = {key: possible_values(s) for key, s in stage.settings.items() if isinstance(s, Fixed) or s.kind == "categorical"}
    facts = StageFacts(stride, stage.index == pool_stage, listed)
    for kind in stage.kinds():
        check = kind_by_name(kind).search.check_stage
        problem = check(facts) if check is not None else None
        if problem is not None:
            key, message = problem
            raise where.key(key).fail(message)


def _parse_shared(raw: Any, stages: tuple[StageDefinition, ...], where: Where) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(k, str) for k in raw):
        raise where.fail("must be a list of stage keys, e.g. [bottleneck_ratio, group_width]")
    allowed = tuple(k for k in stage_keys() if k != "stride")
    for key in raw:
        if key not in allowed:
            raise where.fail(f"{key!r} is not allowed (allowed: {', '.join(allowed)})")
        holders = [s for s in stages if key in s.settings]
        if not any(isinstance(s.settings[key], Domain) for s in holders):
            raise where.fail(f"{key!r} is not searched in any stage: give it a list or range (e.g. in all_stages)")
        first = holders[0]
        for stage in holders[1:]:
            if stage.settings[key] != first.settings[key]:
                raise where.fail(
                    f"{key!r} has different values in stages[{first.index}] and stages[{stage.index}]: "
                    "a shared key takes one value for all stages, so give it once, in all_stages"
                )
    if len(set(raw)) != len(raw):
        raise where.fail("a key is listed twice")
    return tuple(raw)


def _parse_constraints(raw: Any, stages: tuple[StageDefinition, ...], shared: tuple[str, ...], where: Where) -> tuple[str, ...]:
    raw = as_mapping(raw, where)
    reject_unknown(raw, ("non_decreasing",), where)
    keys = raw.get("non_decreasing", [])
    where = where.key("non_decreasing")
    if not isinstance(keys, list) or len(set(map(str, keys))) != len(keys):
        raise where.fail("must be a list of distinct stage keys, e.g. [width, depth]")
    for key in keys:
        if key not in ORDERABLE_KEYS:
            raise where.fail(f"{key!r} is not allowed (allowed: {', '.join(ORDERABLE_KEYS)})")
        if key in shared:
            raise where.fail(f"{key!r} is shared, so it is the same in every stage already")
        _check_orderable(key, stages, where)
    return tuple(keys)


def _check_orderable(key: str, stages: tuple[StageDefinition, ...], where: Where) -> None:
    """Each stage's value is drawn from the part of its range at or above the previous stage's.

    That needs a range (a list of choices cannot shrink per net without
    confusing optuna's samplers), and a highest value at least the previous
    stage's highest, so that the part left is never empty.
    """
    highest_so_far = None
    for stage in stages:
        setting = stage.settings[key]
        if isinstance(setting, Domain) and setting.kind != "integer":
            raise where.fail(f"{key!r} must be a range ({{low, high, step}}) or one value in every stage; stages[{stage.index}].{key} is a list")
        if key == "depth" and stage.may_be_left_out():
            raise where.fail(f"depth cannot be constrained while stages[{stage.index}] may be left out (depth 0)")
        highest = setting.value if isinstance(setting, Fixed) else setting.high
        if highest_so_far is not None and highest < highest_so_far:
            raise where.fail(
                f"stages[{stage.index}].{key} reaches at most {highest}, below the {highest_so_far} an earlier stage may take: "
                "each stage's highest value must be at least the previous stages'"
            )
        highest_so_far = highest if highest_so_far is None else max(highest, highest_so_far)


def _parse_baselines(raw: Any, stage_count: int, where: Where, require_known: bool) -> dict[str, dict[str, Any]]:
    """``{zoo name: point}``, each point written like the space (stem, stages, shared, head, net, multipliers)."""
    raw = as_mapping(raw, where)
    points = {}
    for zoo_name, point in raw.items():
        point_where = where.key(str(zoo_name))
        if require_known and zoo_name not in zoo.names():
            close = difflib.get_close_matches(str(zoo_name), zoo.names(), n=2)
            hint = f" (did you mean {', '.join(close)}?)" if close else " (see search zoo)"
            raise point_where.fail(f"{zoo_name!r} is not a zoo net{hint}")
        points[zoo_name] = flatten_point(as_mapping(point, point_where), stage_count, point_where)
    return points


def flatten_point(point: dict, stage_count: int, where: Where) -> dict[str, Any]:
    """A nested point (as in a file's baselines) as knob names and values."""
    sections = {"stem": "stem.", "shared": "stages.", "head": "head.", "net": "net."}
    reject_unknown(point, (*sections, "stages", "multipliers"), where)
    flat: dict[str, Any] = {}
    for section, prefix in sections.items():
        values = as_mapping(point.get(section), where.key(section))
        flat.update({prefix + str(k): v for k, v in values.items()})
    multipliers = as_mapping(point.get("multipliers"), where.key("multipliers"))
    reject_unknown(multipliers, MULTIPLIER_KNOBS, where.key("multipliers"))
    flat.update({MULTIPLIER_KNOBS[k]: v for k, v in multipliers.items()})
    stages = point.get("stages", [])
    if not isinstance(stages, list) or len(stages) != stage_count:
        raise where.key("stages").fail(f"must list all {stage_count} stages (an omitted stage as {{depth: 0}})")
    for index, values in enumerate(stages):
        values = as_mapping(values, where.key("stages").item(index))
        flat.update({f"stage{index}.{k}": v for k, v in values.items()})
    return flat
