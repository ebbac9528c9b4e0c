"""The attention slot takes any registered attention kind: one defined here fills every block that takes attention."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
from torch import nn

from evaluators.cost import cost
from searchspace import NetSpec, SpecError, decode, encode
from searchspace.blocks.attention import attention_kinds, register_attention, unregister_attention
from searchspace.fields import BoolCodec, SpecBase, knob
from searchspace.tally import Tally
from tests.test_conformance import measured_cost


class ChannelGate(nn.Module):
    """Global average pool, a full 1x1 conv with bias, a sigmoid gate, rescale (no squeeze)."""

    def __init__(self, channels: int, residual: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 1)
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = torch.sigmoid(self.conv(x.mean((2, 3), keepdim=True)))
        return x * (1 + scale) if self.residual else x * scale


@dataclass(frozen=True, kw_only=True)
class ChannelGateSpec(SpecBase):
    kind = "cgate"

    residual: bool = knob("", BoolCodec("res", "nores"), False, doc="scale by 1 + gate")

    def module(self, channels: int, in_channels: int, mid_channels: int, out_channels: int) -> nn.Module:
        return ChannelGate(channels, self.residual)

    def cost(self, tally: Tally, in_channels: int, mid_channels: int, out_channels: int) -> None:
        # The conv runs on the pooled 1x1 map: its MACs are its weights, its activations its outputs.
        channels = tally.channels
        tally.layer("squeeze_excite", params=channels * channels + channels, macs=channels * channels, acts=channels)


@pytest.fixture(autouse=True)
def channel_gate():
    register_attention(ChannelGateSpec)
    yield
    unregister_attention("cgate")
    assert "cgate" not in attention_kinds()


NETS = [
    "net_r32_n10 | conv_s2_c16 | mbconv_r2_c16_e4_cgate() fused_s2_c24_e2_cgate(res) | head",
    "net_r24_n5 | conv_s2_c16 | basic_c16_cgate() bottleneck_s2_c32_cgate(res)_seout uib_c32_a3_cgate() | head_c16",
    "net_r24_n5 | conv_s2_c16 | basic_c16_se() bottleneck_s2_c32_cgate() | head",
]


@pytest.mark.parametrize("text", NETS)
def test_a_registered_attention_kind_fills_the_slot_of_every_block(text: str) -> None:
    spec = decode(text)
    assert encode(spec) == text and NetSpec.from_json(spec.to_json()) == spec
    assert spec.to_dict()["stages"][1]["block"]["se"]["kind"] == "cgate"
    params, macs, activations, output_shape, stage_shapes = measured_cost(spec)
    analytic = cost(spec)
    assert (analytic.params, analytic.macs, analytic.activations) == (params, macs, activations)
    assert tuple(output_shape) == (1, *analytic.output_shape)


def test_an_unregistered_attention_kind_is_a_clear_error() -> None:
    unregister_attention("cgate")
    try:
        with pytest.raises(SpecError, match="unknown field 'cgate\\(\\)'"):
            decode(NETS[0])
        with pytest.raises(SpecError, match="kind = 'cgate' is not allowed: allowed: se, "):
            NetSpec.from_json(decode("net | conv_c8 | basic_c8_se() | head").to_json().replace('"kind": "se"', '"kind": "cgate"'))
    finally:
        register_attention(ChannelGateSpec)


@pytest.mark.parametrize("kind", [k for k in attention_kinds()])
def test_every_built_in_attention_kind_survives_torchscript_as_the_export_writes_it(kind: str) -> None:
    import torch

    from searchspace import build, decode

    # A GC block once failed here only when a sampled front happened to hold one: its layer norm called super().forward.
    net = build(decode(f"net_r16_i3_n10 | conv_s2_c16 | mbconv_c16_{kind}() basic_c32_{kind}() | head")).eval()
    image = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(torch.jit.script(net)(image), net(image))
