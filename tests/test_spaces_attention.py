"""The unified space chooses the attention module of each stage, and ``search spaces`` lists the choices."""

from __future__ import annotations

from click.testing import CliRunner

from search.cli import cli
from search.spaces import FixedSuggest, SpaceContext, builtin_spaces
from searchspace import SESpec
from searchspace.blocks.attention import attention_kinds, attention_spec_class
from searchspace.blocks.cbam import CBAMSpec

MODULES = ("se", "eca", "cbam", "ge", "gc")


def test_every_attention_kind_is_a_choice_of_every_unified_stage_that_has_the_slot() -> None:
    assert set(attention_kinds()) == set(MODULES)
    result = CliRunner().invoke(cli, ["spaces", "unified"], terminal_width=400)
    assert result.exit_code == 0, result.output
    attention_lines = [line for line in result.output.splitlines() if ".attention " in line]
    assert [line.split()[0] for line in attention_lines] == [f"stage{i}.attention" for i in range(7)]
    for line in attention_lines:
        assert "{se, eca, cbam, ge, gc}" in line and line.rstrip().endswith(".se == true")


def test_each_stage_of_a_unified_net_gets_the_module_it_chose() -> None:
    """EfficientNet-B0's point of the space, its SE swapped stage by stage for each module and for none."""
    space = builtin_spaces()["unified"]
    point = space.known_point("efficientnet_b0")
    choices = [*MODULES, "none", "cbam"]  # seven stages
    for stage, choice in enumerate(choices):
        point[f"stage{stage}.se"] = choice != "none"
        if choice != "none":
            point[f"stage{stage}.attention"] = choice
        else:
            point.pop(f"stage{stage}.attention", None)
    spec = space.sample(FixedSuggest(point), SpaceContext())
    chosen = [stage.block.se for stage in spec.stages]
    for attention, choice in zip(chosen, choices):
        if choice == "none":
            assert attention is None
        else:
            assert isinstance(attention, attention_spec_class(choice))
    # SE keeps EfficientNet's rule; another module takes its paper's defaults.
    assert chosen[0] == SESpec(ratio=0.25, relative_to="in", activation="silu")
    assert chosen[6] == CBAMSpec()
