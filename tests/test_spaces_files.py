"""Space files: loading, schema errors that name the key, shared keys, constraints, the stem pool."""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import pytest

from search.errors import UserError
from search.spaces import FixedSuggest, RandomSuggest, SpaceContext, load_space
from search.spaces.files import read_document, space_from_data
from searchspace import zoo
from searchspace.analysis import net_cost
from tests.spaces_support import (
    ANYNETX_A,
    ANYNETX_B,
    ANYNETX_C,
    ANYNETX_D,
    ANYNETX_E,
    MIXED,
    space_from_yaml,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "spaces.md"
VALID = {"stages": [{"stride": 2, "depth": 1, "block": "mbconv", "width": [16, 32], "kernel": [3, 5, 7]}]}
REGNET = {"regnet": {"depth": 10, "w0": 16, "wa": 20.0, "wm": 2.0, "group_width": 8}}


def with_stage(**keys) -> dict:
    data = copy.deepcopy(VALID)
    data["stages"][0].update(keys)
    return data


def test_a_file_loads_by_path_and_is_named_after_it(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text("stages:\n  - {stride: 2, depth: 1, block: mbconv, width: [16, 32], kernel: [3, 5, 7]}\n")
    space = load_space(str(path))
    assert space.name == "tiny"
    assert space.log10_size() == pytest.approx(math.log10(6))  # 2 widths x 3 kernels
    assert {knob.name for knob in space.knobs()} == {"stage0.width", "stage0.kernel"}
    json_path = tmp_path / "tiny.json"
    json_path.write_text('{"name": "from_json", "stages": [{"stride": 2, "depth": 1, "block": "conv", "width": [8, 16]}]}')
    assert load_space(str(json_path)).name == "from_json"


def test_a_one_value_list_or_range_is_a_fixed_value_not_a_knob() -> None:
    space = space_from_data(with_stage(width={"low": 16, "high": 16}, kernel=[5]), "space file one.yaml", "one")
    assert space.knobs() == []
    net = space.sample(FixedSuggest({}), SpaceContext())
    assert (net.stages[0].block.out_channels, net.stages[0].block.kernel) == (16, 5)


SCHEMA_ERRORS = [
    ({**VALID, "stagez": 1}, "unknown key 'stagez' (allowed: name, description, stem"),
    (with_stage(kernal=3), "stages[0]: unknown key 'kernal' (allowed: stride, depth"),
    (with_stage(block=["mbconv", "mbconvv"]), "stages[0].block: 'mbconvv' is not allowed (allowed: conv, basic, bottleneck"),
    (with_stage(kernel=[3, 4]), "stages[0].kernel: 4 is not allowed: kernels must be odd"),
    (with_stage(kernel={"low": 3, "high": 7}), "stages[0].kernel: 4 is not allowed: kernels must be odd"),
    (with_stage(width=[]), "stages[0].width: an empty list is not allowed"),
    (with_stage(width=[16, 16]), "stages[0].width: 16 is listed twice"),
    (with_stage(width={"low": 64, "high": 16, "step": 8}), "stages[0].width: low (64) is greater than high (16)"),
    (with_stage(width={"low": -8, "high": 16}), "stages[0].width.low: -8 is not allowed: must be a positive integer"),
    (with_stage(width={"low": 8, "high": 20, "step": 8}), "stages[0].width.high: 20 is not allowed: must be low (8) plus a multiple of step"),
    (with_stage(width={"low": 8}), "stages[0].width: a range needs 'low' and 'high'"),
    (with_stage(width={"low": 8, "high": 16, "by": 8}), "stages[0].width: unknown key 'by' (allowed: low, high, step, log"),
    (with_stage(width=16.5), "stages[0].width: 16.5 is not allowed: must be an integer"),
    (with_stage(width={"low": 1, "high": 10**6}), "stages[0].width: a range of 1000000 values is too many (at most 100000)"),
    (with_stage(width={"low": 1, "high": 10**9}), "stages[0].width.high: 1000000000 is not allowed: must be at most 1,000,000"),
    (with_stage(block={"low": 1, "high": 2}), "stages[0].block: a range is not allowed for names and flags"),
    (with_stage(expansion={"low": 1.0, "high": 6.0, "step": 1}), "stages[0].expansion.step: not allowed for a real-valued key"),
    (with_stage(expansion=[0, 6]), "stages[0].expansion: 0.0 is not allowed: must be a number above 0"),
    (with_stage(se="yes"), "stages[0].se: 'yes' is not allowed: must be true or false"),
    (with_stage(stride=[1, 2]), "stages[0].stride: a list is not allowed here"),
    (with_stage(block="basic"), "stages[0].kernel: no block of this stage uses it (it applies to conv, mbconv"),
    (with_stage(se_ratio=0.25), "stages[0].se_ratio: no block of this stage uses it (se is never true here)"),
    (with_stage(depth={"low": 0, "high": 2}), "stages[0].depth: 0 is not allowed in a stride-2 stage"),
    (with_stage(stride=1, block="shuffle", kernel=3), "stages[0].block: shuffle is not allowed in a stride-1 stage"),
    (with_stage(block="uib", uib_variant=["ib", "ffn"]), "stages[0].uib_variant: 'ffn' is not allowed in a stride-2 stage"),
    ({"stages": [{"stride": 2, "depth": 1, "block": "conv"}]}, "stages[0]: missing required key 'width'"),
    ({"stages": []}, "stages: must be a non-empty list of stages"),
    (
        {"stem": {"pool": True}, "stages": [{"stride": 1, "depth": 1, "block": "conv", "width": 8}]},
        "stem.pool: a stem max-pool takes the stride of the first stride-2 stage",
    ),
    (
        {"stem": {"pool": [False, True]}, "stages": [{"stride": 2, "depth": 1, "block": "shuffle", "width": 8}]},
        "stages[0].block: shuffle is not allowed here: when stem.pool is true",
    ),
    ({**VALID, "shared": ["kernal"]}, "shared: 'kernal' is not allowed (allowed: depth, block"),
    ({**VALID, "shared": ["depth"]}, "shared: 'depth' is not searched in any stage"),
    (
        {"stages": [{"stride": 2, "depth": 1, "block": "bottleneck", "width": 8, "group_width": [1, 2]},
                    {"stride": 2, "depth": 1, "block": "bottleneck", "width": 8, "group_width": [1, 4]}], "shared": ["group_width"]},
        "shared: 'group_width' has different values in stages[0] and stages[1]",
    ),
    ({**VALID, "constraints": {"non_decreasing": ["kernel"]}}, "constraints.non_decreasing: 'kernel' is not allowed (allowed: width, depth)"),
    (
        {**VALID, "constraints": {"non_decreasing": ["width"]}},
        "constraints.non_decreasing: 'width' must be a range ({low, high, step}) or one value in every stage; stages[0].width is a list",
    ),
    ({**VALID, "constraints": {"sorted": ["width"]}}, "constraints: unknown key 'sorted' (allowed: non_decreasing)"),
    (
        {"stages": [{"stride": 2, "depth": 1, "block": "conv", "width": {"low": 8, "high": 64, "step": 8}},
                    {"stride": 2, "depth": 1, "block": "conv", "width": {"low": 8, "high": 32, "step": 8}}],
         "constraints": {"non_decreasing": ["width"]}},
        "stages[1].width reaches at most 32, below the 64",
    ),
    (
        {"stages": [{"stride": 1, "depth": {"low": 0, "high": 2}, "block": "conv", "width": 8}], "constraints": {"non_decreasing": ["depth"]}},
        "depth cannot be constrained while stages[0] may be left out",
    ),
    ({**VALID, "head": {"dropout": 1.0}}, "head.dropout: 1.0 is not allowed: must be a number from 0 up to"),
    ({**VALID, "multipliers": {"width": [0, 1]}}, "multipliers.width: 0.0 is not allowed: multipliers must be numbers above 0"),
    ({**VALID, "multipliers": {"depth": {"low": 0.5, "high": 2.0, "log": "yes"}}}, "multipliers.depth.log: 'yes' is not allowed"),
    ({**VALID, "stem": {"kernel": 2}}, "stem.kernel: 2 is not allowed: kernels must be odd"),
    ({**VALID, "baselines": {"resnet19": {}}}, "baselines.resnet19: 'resnet19' is not a zoo net (did you mean resnet18"),
    ({**VALID, "baselines": {"resnet18": {"stages": []}}}, "baselines.resnet18.stages: must list all 1 stages"),
    ({**VALID, "baselines": {"resnet18": {"stages": [{"width": 16}]}}}, "baselines.resnet18: no value for knob 'stage0.kernel'"),
    ({**VALID, "baselines": {"resnet18": {"stages": [{"width": 17, "kernel": 3}]}}}, "baselines.resnet18: knob 'stage0.width': 17 is not allowed"),
    (
        {**VALID, "baselines": {"resnet18": {"stages": [{"width": 16, "kernel": 3, "depth": 1}]}}},
        "baselines.resnet18: stage0.depth: not a knob this net has",
    ),
    ([1, 2], "the file must hold a mapping of keys"),
    ({"name": 3, **VALID}, "name: 3 is not allowed: must be text"),
    ({"description": "no body"}, "give either 'stages'"),
    ({"regnet": {**REGNET["regnet"], "w0": 12}}, "regnet.w0: 12 is not allowed: must be a positive multiple of 8"),
    ({"regnet": {**REGNET["regnet"], "wm": 1.0}}, "regnet.wm: 1.0 is not allowed: must be a number above 1"),
    ({"regnet": {"depth": 10}}, "regnet: missing required key 'w0'"),
    ({**REGNET, "stem": {}}, "unknown key 'stem' (allowed: name, description, regnet, multipliers)"),
    ({**REGNET, "multipliers": {"width": 2.0}}, "multipliers: unknown key 'width' (allowed: resolution)"),
]


@pytest.mark.parametrize(("data", "message"), SCHEMA_ERRORS)
def test_schema_errors_name_the_key_and_what_is_allowed(data, message: str) -> None:
    with pytest.raises(UserError) as caught:
        space_from_data(data, "space file bad.yaml", "bad")
    assert str(caught.value).startswith("space file bad.yaml: ")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("file_name", "text", "message"),
    [
        ("broken.yaml", "stages:\n  - {stride: 2, depth: 1\n", r"broken.yaml: line 3, column 1: YAML syntax error: expected ',' or '}'"),
        ("twice.yaml", "stages:\n  - stride: 2\n    depth: 1\n    depth: 2\n", r"twice.yaml: line 4, column 5: YAML syntax error: key 'depth' appears twice"),
        ("broken.json", '{"stages": [1,]}', r"broken.json: line 1, column 15: JSON syntax error: Expecting value"),
        ("empty.yaml", "# nothing yet\n", r"empty.yaml: the file is empty: give 'stages'"),
        ("listkey.yaml", "? [a, b]\n: 1\n", r"listkey.yaml: line 1, column 3: YAML syntax error: found unhashable key"),
    ],
)
def test_syntax_errors_are_one_line_with_the_position(tmp_path: Path, file_name: str, text: str, message: str) -> None:
    path = tmp_path / file_name
    path.write_text(text)
    with pytest.raises(UserError, match=message) as caught:
        load_space(str(path))
    assert "\n" not in str(caught.value)


def test_missing_files_and_unknown_names_are_clear(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"space file .*nothing.yaml does not exist"):
        load_space(str(tmp_path / "nothing.yaml"))
    with pytest.raises(UserError, match=r"space file .*folder.yml is not a file"):
        (tmp_path / "folder.yml").mkdir()
        load_space(str(tmp_path / "folder.yml"))
    with pytest.raises(UserError, match="space 'unifed' is not known") as caught:
        load_space("unifed")
    from search.spaces import DEFAULT_SPACE, builtin_spaces

    listed = re.search(r"built-in spaces: ([^;]+);", str(caught.value)).group(1).split(", ")
    assert listed == list(builtin_spaces()) and listed[0] == DEFAULT_SPACE  # every one, the default first
    assert "did you mean 'unified'?" in str(caught.value)
    plain = tmp_path / "space.txt"
    plain.write_text("stages: 1")
    with pytest.raises(UserError, match="must end in .yaml, .yml, .json"):
        load_space(str(plain))


def test_shared_keys_take_one_value_in_every_stage() -> None:
    space = space_from_yaml(ANYNETX_C)
    assert {"stages.bottleneck_ratio", "stages.group_width"} <= {knob.name for knob in space.knobs()}
    for seed in range(40):
        suggest = RandomSuggest(seed)
        net = space.sample(suggest, SpaceContext(resolution=64))
        per_stage = [name for name in suggest.params if name.endswith((".bottleneck_ratio", ".group_width")) and not name.startswith("stages.")]
        assert per_stage == []
        ratio, group_width = suggest.params["stages.bottleneck_ratio"], suggest.params["stages.group_width"]
        for block in (stage.block for stage in net.stages):
            # Every 3x3 has the shared ratio (to the nearest group) and groups of the shared width
            # (or one group, when the 3x3 is narrower than that).
            target = max(1, round(block.out_channels * ratio))
            assert block.mid_channels() // block.groups == min(group_width, target)
            assert abs(block.mid_channels() - target) <= min(group_width, target) / 2


def test_a_shared_key_is_asked_only_when_some_stage_uses_it() -> None:
    space = space_from_yaml("""
        all_stages: {stride: 2, depth: 1, width: 64, block: [basic, bottleneck], group_width: [8, 16]}
        stages: 2
        shared: [group_width]
    """)
    (knob,) = [k for k in space.knobs() if k.name == "stages.group_width"]
    assert knob.when == "stage0.block == bottleneck or stage1.block == bottleneck"
    assert space.sample(FixedSuggest({"stage0.block": "basic", "stage1.block": "basic"}), SpaceContext()).stages[0].block.kind == "basic"
    replay = FixedSuggest({"stage0.block": "basic", "stage1.block": "bottleneck", "stages.group_width": 8})
    net = space.sample(replay, SpaceContext())
    assert net.stages[1].block.groups == 2 and replay.unused() == []  # a 3x3 of 64 * 0.25 = 16 channels in groups of 8


@pytest.mark.parametrize("text", [ANYNETX_D, ANYNETX_E, MIXED])
def test_non_decreasing_keys_hold_on_every_sample(text: str) -> None:
    space = space_from_yaml(text)
    constrained = [k for k in space.knobs() if "non_decreasing" in k.note]
    assert constrained
    for seed in range(150):
        net = space.sample(RandomSuggest(seed), SpaceContext(resolution=64))
        widths = [stage.block.out_channels for stage in net.stages]
        assert widths == sorted(widths), widths
        if "depth" in text.split("non_decreasing")[1]:
            depths = [stage.repeats for stage in net.stages]
            assert depths == sorted(depths), depths


def test_the_stem_pool_takes_the_first_stride_2_stage_stride() -> None:
    space = space_from_yaml("""
        stem: {width: 16, pool: [false, true]}
        stages:
          - {stride: 1, depth: 1, block: conv, width: 16}
          - {stride: 2, depth: 1, block: conv, width: 24}
          - {stride: 2, depth: 1, block: conv, width: 32}
    """)
    plain = space.sample(FixedSuggest({"stem.pool": False}), SpaceContext(resolution=64))
    pooled = space.sample(FixedSuggest({"stem.pool": True}), SpaceContext(resolution=64))
    assert [s.stride for s in plain.stages] == [1, 2, 2]
    assert [s.stride for s in pooled.stages] == [1, 1, 2]
    assert [s.kind for s in (st.block for st in pooled.stem)] == ["conv", "pool"]
    assert net_cost(plain).stage_shapes[-1] == net_cost(pooled).stage_shapes[-1]  # same total stride


def test_a_file_baseline_reproduces_its_zoo_net() -> None:
    space = space_from_yaml("""
        stem: {width: [32, 64], kernel: [3, 7], pool: [false, true]}
        all_stages: {block: [basic, mbconv], width: {low: 32, high: 512, step: 32}, depth: {low: 1, high: 3}}
        stages:
          - {stride: 2}
          - {stride: 2}
          - {stride: 2}
          - {stride: 2}
        baselines:
          resnet18:
            stem: {width: 64, kernel: 7, pool: true}
            stages:
              - {depth: 2, block: basic, width: 64}
              - {depth: 2, block: basic, width: 128}
              - {depth: 2, block: basic, width: 256}
              - {depth: 2, block: basic, width: 512}
    """)
    assert space.baselines == ("resnet18",)
    context = SpaceContext(in_channels=1, num_classes=10, resolution=128)
    assert space.sample(FixedSuggest(space.known_point("resnet18")), context) == zoo.get("resnet18", resolution=128, num_classes=10, in_channels=1)


def _documented_spaces() -> list[str]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(), re.S)
    return [b for b in blocks if re.search(r"^(stages|regnet):", b, re.M)]


@pytest.mark.parametrize("text", _documented_spaces())
def test_the_documented_examples_are_valid_spaces(text: str) -> None:
    space = space_from_data(read_document(text, False, "docs"), "docs", "docs")
    assert space.sample(RandomSuggest(0), SpaceContext(resolution=64)).stages


def test_the_anynetx_sequence_narrows_step_by_step() -> None:
    sizes = [space_from_yaml(text).log10_size() for text in (ANYNETX_A, ANYNETX_B, ANYNETX_C, ANYNETX_D, ANYNETX_E)]
    assert sizes == sorted(sizes, reverse=True)
    # A: (16 depths x 128 widths x 3 ratios x 6 group widths) per stage, four stages.
    assert sizes[0] == pytest.approx(4 * math.log10(16 * 128 * 3 * 6))
    # E: non-decreasing depths and widths, one ratio and one group width for all stages.
    assert sizes[4] == pytest.approx(math.log10(math.comb(16 + 3, 4) * math.comb(128 + 3, 4) * 3 * 6))


def test_a_long_list_of_choices_is_checked_for_repeats_in_one_pass() -> None:
    # Checked pairwise, 50,000 widths were 1.25e9 comparisons (minutes); a set takes a moment.
    widths = list(range(8, 8 + 8 * 50_000, 8))
    with pytest.raises(UserError, match="stages\\[0\\].width: 8 is listed twice"):
        space_from_data(with_stage(width=widths + [8]), "test", "long")
    knobs = space_from_data(with_stage(width=widths), "test", "long").knobs()
    assert next(k for k in knobs if k.name.endswith("width")).values == tuple(widths)
