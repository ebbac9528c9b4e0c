"""A stage-template space places BAM (Park et al. 2018) after the stages whose ``bam`` is on.

References: the zoo's ``bam_resnet50`` (the paper's placement, and its module
settings), FlopCounterMode and the built model's parameters (the cost), an
exhaustive walk of the space (its size).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from click.testing import CliRunner

from search.cli import cli
from search.errors import UserError
from search.spaces import FixedSuggest, SpaceContext, builtin_spaces
from search.spaces.files import space_from_data
from searchspace import NetSpec, Stage, zoo
from searchspace.blocks import BAMSpec
from tests.spaces_support import count_settings, space_from_yaml
from tests.test_conformance import assert_analytic_cost_is_measured

# ResNet-50 stage by stage (torchvision's, the zoo's resnet50), with BAM after the first three stages.
BAM_RESNET50 = """
    stem: {width: 64, kernel: 7, pool: true}
    all_stages: {block: bottleneck, bottleneck_ratio: 0.25, stride: 2}
    stages:
      - {depth: 3, width: 256, bam: true}
      - {depth: 4, width: 512, bam: true}
      - {depth: 6, width: 1024, bam: true}
      - {depth: 3, width: 2048}
"""

# Small enough to build and count exhaustively; BAM's own knobs searched in one stage.
SMALL = """
    stem: {width: 16}
    all_stages: {block: [basic, mbconv], width: 16, bam: [false, true]}
    stages:
      - {stride: 2, depth: 1}
      - {stride: 1, depth: [0, 1], width: 24, bam_reduction: [4, 8], bam_dilation: [1, 2]}
      - {stride: 2, depth: 2, width: 32}
"""


def body_kinds(spec: NetSpec) -> list[str]:
    return [stage.block.kind for stage in spec.stages]


def test_a_bam_resnet50_space_reproduces_the_zoo_net() -> None:
    spec = space_from_yaml(BAM_RESNET50).sample(FixedSuggest({}), SpaceContext())
    reference = zoo.get("bam_resnet50")
    assert body_kinds(spec) == body_kinds(reference) == ["bottleneck", "bam", "bottleneck", "bam", "bottleneck", "bam", "bottleneck"]
    bams = [stage for stage in spec.stages if stage.block.kind == "bam"]
    assert bams == [stage for stage in reference.stages if stage.block.kind == "bam"]
    # The space's bottleneck without attention records se_position "semid", the zoo's "seout":
    # the field means nothing without an attention module (nothing is built for it). Aligned, the whole net is the zoo's.
    aligned = replace(spec, stages=tuple(
        replace(s, block=replace(s.block, se_position="seout")) if s.block.kind == "bottleneck" else s for s in spec.stages
    ))
    assert aligned.digest() == reference.digest()


def test_bam_follows_each_stage_that_chose_it_with_the_knobs_it_drew_and_costs_what_the_model_measures() -> None:
    space = space_from_yaml(SMALL)
    point = {
        "stage0.block": "basic", "stage0.bam": True,
        "stage1.depth": 1, "stage1.block": "mbconv", "stage1.bam": True,
        "stage1.bam_reduction": 4, "stage1.bam_dilation": 2,
        "stage2.block": "mbconv", "stage2.bam": False,
    }
    replay = FixedSuggest(point)
    spec = space.sample(replay, SpaceContext(resolution=32, num_classes=10))
    assert replay.unused() == []
    assert body_kinds(spec) == ["basic", "bam", "mbconv", "bam", "mbconv"]
    assert spec.stages[1].block == BAMSpec()  # the paper's reduction 16 and dilation 4
    assert (spec.stages[1].block.reduction, spec.stages[1].block.dilation) == (16, 4)
    assert spec.stages[3].block == BAMSpec(reduction=4, dilation=2)
    assert all(stage.stride == 1 and stage.repeats == 1 for stage in spec.stages if stage.block.kind == "bam")
    assert_analytic_cost_is_measured(spec)


def test_a_left_out_stage_asks_no_bam_and_the_size_counts_every_setting() -> None:
    space = space_from_yaml(SMALL)
    replay = FixedSuggest({"stage0.block": "mbconv", "stage0.bam": False,
                           "stage1.depth": 0,
                           "stage2.block": "mbconv", "stage2.bam": True})
    spec = space.sample(replay, SpaceContext(resolution=32))
    assert replay.unused() == [] and body_kinds(spec) == ["mbconv", "mbconv", "bam"]
    assert 10 ** space.log10_size() == pytest.approx(count_settings(space))


def test_the_depth_multiplier_never_repeats_a_bam() -> None:
    text = SMALL.replace("    stages:", "    multipliers: {depth: 2.0, width: 1.5}\n    stages:")
    spec = space_from_yaml(text).sample(FixedSuggest({
        "stage0.block": "mbconv", "stage0.bam": True, "stage1.depth": 0,
        "stage2.block": "mbconv", "stage2.bam": False,
    }), SpaceContext(resolution=32))
    assert [(s.block.kind, s.repeats) for s in spec.stages] == [("mbconv", 2), ("bam", 1), ("mbconv", 4)]
    assert_analytic_cost_is_measured(spec)


def test_the_unified_space_puts_bam_after_the_stages_that_chose_it() -> None:
    space = builtin_spaces()["unified"]
    point = space.known_point("efficientnet_b0")
    assert all(point[f"stage{i}.bam"] is False for i in range(7))  # the baselines stay their zoo nets
    point["stage2.bam"] = point["stage4.bam"] = True
    spec = space.sample(FixedSuggest(point), SpaceContext(resolution=64, num_classes=10))
    plain = zoo.get("efficientnet_b0", resolution=64, num_classes=10).stages
    bam = Stage(block=BAMSpec())
    assert spec.stages == (*plain[:3], bam, *plain[3:5], bam, *plain[5:])
    assert_analytic_cost_is_measured(spec)


def test_search_spaces_lists_the_bam_keys() -> None:
    result = CliRunner().invoke(cli, ["spaces", "unified"], terminal_width=400)
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.output.splitlines() if ".bam " in line] == [f"stage{i}.bam" for i in range(7)]
    small = space_from_yaml(SMALL)
    whens = {knob.name: knob.when for knob in small.knobs()}
    assert whens["stage1.bam_reduction"] == whens["stage1.bam_dilation"] == "stage1.depth > 0 and stage1.bam == true"


@pytest.mark.parametrize(("stage", "message"), [
    ({"bam": 1}, "stages[0].bam: 1 is not allowed: must be true or false"),
    ({"bam_reduction": 8}, "stages[0].bam_reduction: no block of this stage uses it (bam is never true here)"),
    ({"bam": True, "bam_reduction": 0}, "stages[0].bam_reduction: 0 is not allowed: must be an integer >= 1"),
    ({"bam": True, "bam_dilation": [2, 65]}, "stages[0].bam_dilation: 65 is not allowed: must be an integer from 1 to 64"),
])
def test_bad_bam_keys_are_one_line_errors(stage: dict, message: str) -> None:
    data = {"stages": [{"stride": 2, "depth": 1, "block": "conv", "width": 8, **stage}]}
    with pytest.raises(UserError) as caught:
        space_from_data(data, "space file bad.yaml", "bad")
    assert str(caught.value) == f"space file bad.yaml: {message}"
