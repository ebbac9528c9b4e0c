"""The `hybrid` space: MobileNetV4-hybrid's layout, whose attention stages are searched like any other.

Sampled nets with Mobile MQA stages cost exactly what torch measures
(parameters, FlopCounterMode MACs with the attention products, shapes), and
a net with attention exports to ONNX and runs the same in onnxruntime.
"""

from __future__ import annotations

from pathlib import Path

from search.export.formats import write_onnx
from search.spaces import RandomSuggest, SpaceContext, load_space
from searchspace import build, decode
from tests.test_conformance import assert_analytic_cost_is_measured

SPACE = load_space("hybrid")


def test_attention_stages_are_searched_by_heads_key_width_kv_stride_and_depth() -> None:
    knobs = {knob.name: knob for knob in SPACE.knobs()}
    for stage in ("stage3", "stage5"):
        assert knobs[f"{stage}.depth"].low == 0  # each attention stage may be left out
        assert knobs[f"{stage}.heads"].values == (4, 8)
        assert knobs[f"{stage}.key_dim"].when == f"{stage}.depth > 0"
    assert knobs["stage3.kv_stride"].values == (1, 2)  # the 14x14 stage may shrink its keys and values, as timm's nets do


def test_sampled_nets_with_attention_cost_what_torch_measures() -> None:
    context = SpaceContext(num_classes=10, resolution=64)
    samples = (SPACE.sample(RandomSuggest(seed), context) for seed in range(40))
    # The first net with both attention stages (one that shrinks its keys and values, one that may not).
    spec = next(spec for spec in samples if sum(stage.block.kind == "mqa" for stage in spec.stages) == 2)
    assert_analytic_cost_is_measured(spec)


def test_a_net_with_attention_runs_the_same_in_onnxruntime(tmp_path: Path) -> None:
    spec = decode("net_r32_n10 | conv_s2_c16 | uib_s2_c24_a3 mqa_r2_c24_h2_d8_v2_ls1e-05 mqa_c32_h4_d8 | head")
    # write_onnx runs the file in onnxruntime and fails unless its outputs equal the module's.
    write_onnx(build(spec).eval(), spec, tmp_path / "net.onnx", {})
    assert (tmp_path / "net.onnx").stat().st_size > 0
