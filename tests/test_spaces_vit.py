"""The `vit` space and token nets in the proxy: the proxy resolution keeps the patch, ViTs learn digits, exports."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from evaluators.cost import cost
from search.spaces import FixedSuggest, SpaceContext, builtin_spaces
from searchspace import build, zoo
from searchspace.scaling import at_resolution
from searchspace.zoo.vit import vit_spec


def test_the_proxy_resolution_keeps_a_token_nets_patch_so_its_grid_shrinks_as_a_cnns_maps_do() -> None:
    vit = zoo.get("vit_tiny_patch16_224")
    small = at_resolution(vit, 32)
    # 224 / 16 = 14 patches a side; at 32 px the 16-px patch gives 2, as ResNet-18's last 7x7 map becomes 1x1.
    assert small == replace(vit, resolution=32) and small.stem[0].block.patch == 16
    assert cost(small).stage_shapes[1] == (1 + 2 * 2, 192)
    resnet = zoo.get("resnet18")
    assert at_resolution(resnet, 32) == replace(resnet, resolution=32)
    assert cost(at_resolution(resnet, 32)).stage_shapes[-1][-2:] == (1, 1)


def test_a_small_vit_learns_digits_at_proxy_resolution() -> None:
    from evaluators.data import load_dataset
    from evaluators.proxy import ProxySettings, train

    data = load_dataset("digits")
    spec = replace(vit_spec(8, 32, 2, 2, mlp_ratio=2.0), resolution=32)  # at 16 px: 4-px patches, 4x4 tokens
    result = train(spec, data, ProxySettings(epochs=3, batch_size=32, resolution=16, seed=0))
    assert result.resolution == 16
    assert result.accuracy > 3 * (1 / data.num_classes)  # measured 0.40 (chance 0.10)


@pytest.mark.parametrize("file_format", ["onnx", "python", "torchscript", "pt"])
def test_a_sampled_vit_exports_and_reads_back_equal(file_format: str, tmp_path) -> None:
    from search.export.formats import WRITERS

    point = {"depth": 2, "width": 96, "heads": 3, "mlp_ratio": 2.0, "patch": 8, "resolution_mult": 0.75, "distilled": False}
    spec = builtin_spaces()["vit"].sample(FixedSuggest(point), SpaceContext(in_channels=1, num_classes=10, resolution=32))
    assert str(spec) == "net_r24_i1_n10 | patch_c96_p8 tokens | encoder_r2_h3_e2 tokennorm | head_token"
    torch.manual_seed(0)
    # Each writer reads its file back (onnxruntime for ONNX) and compares the outputs with PyTorch's.
    WRITERS[file_format](build(spec).eval(), spec, tmp_path / f"net.{file_format}", {})
    assert (tmp_path / f"net.{file_format}").stat().st_size > 0
