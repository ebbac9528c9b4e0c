"""Adaptive average pools that do not divide their input still export to ONNX, with the same outputs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from evaluators.latency.onnx_pools import RegionMean, exportable_pools


@pytest.mark.parametrize(("in_size", "out_size"), [((13, 13), (6, 6)), ((7, 9), (6, 4)), ((5, 5), (6, 6)), ((12, 12), (6, 6))])
def test_region_mean_is_torchs_adaptive_average_pool(in_size, out_size) -> None:
    x = torch.randn(2, 3, *in_size)
    expected = nn.AdaptiveAvgPool2d(out_size)(x)
    assert torch.allclose(RegionMean(in_size, out_size)(x), expected, atol=1e-6)


def alexnet_like_head(in_side: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.AdaptiveAvgPool2d(6), nn.Flatten(1), nn.Linear(144, 10)).eval()


def test_only_uneven_pools_are_rewritten_and_the_net_is_left_as_it_was() -> None:
    even = alexnet_like_head(12)
    assert exportable_pools(even, torch.randn(1, 3, 12, 12)) is even
    net = alexnet_like_head(13)
    statistics = net[1].running_mean.clone()
    rewritten = exportable_pools(net, torch.randn(1, 3, 13, 13))
    assert isinstance(rewritten[2], RegionMean) and isinstance(net[2], nn.AdaptiveAvgPool2d)
    assert torch.equal(net[1].running_mean, statistics) and rewritten.state_dict().keys() == net.state_dict().keys()


def test_an_uneven_pool_exports_and_onnxruntime_agrees_with_torch() -> None:
    onnxruntime = pytest.importorskip("onnxruntime")
    from evaluators.latency.runtimes import ONNX_INPUT_NAME, onnx_model_bytes

    net = alexnet_like_head(13)
    x = torch.randn(3, 3, 13, 13)
    session = onnxruntime.InferenceSession(onnx_model_bytes(net, x[:1]), providers=["CPUExecutionProvider"])
    got = torch.from_numpy(session.run(None, {ONNX_INPUT_NAME: x.numpy()})[0])
    assert torch.allclose(got, net(x), atol=1e-5)
