"""MobileNetV4's Mobile MQA block against timm's ``MobileAttention`` (multi-query), one block at a time.

The hybrid zoo nets are checked whole by tests/test_zoo.py; here single blocks
on odd-sized maps, with every way timm may shrink the keys and values (no
conv, stride 2, stride 3 whose padding differs from the usual ``k // 2``),
have timm's parameters, MACs (FlopCounterMode / 2, which counts the two
attention products as ``bmm``) and outputs given timm's weights.
"""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from searchspace.blocks.mobile_mqa import MobileMQASpec
from searchspace.layers import BuildContext
from searchspace.registry import kind_by_name
from searchspace.tally import Tally
from tests.zoo_reference import randomize_

CHANNELS, SIZE = 24, 7

# (our spec, timm's MobileAttention arguments besides the channels)
BLOCKS = [
    (MobileMQASpec(out_channels=24, heads=3, key_dim=8, layer_scale_init=1e-5),
     dict(num_heads=3, key_dim=8, value_dim=8, layer_scale_init_value=1e-5)),
    (MobileMQASpec(out_channels=24, heads=2, key_dim=16, kv_stride=2, layer_scale_init=1e-5),
     dict(num_heads=2, key_dim=16, value_dim=16, kv_stride=2, layer_scale_init_value=1e-5)),
    (MobileMQASpec(out_channels=24, heads=4, key_dim=4, kv_stride=3, kv_kernel=5),
     dict(num_heads=4, key_dim=4, value_dim=4, kv_stride=3, dw_kernel_size=5, layer_scale_init_value=None)),
    (MobileMQASpec(out_channels=32, heads=2, key_dim=8, kv_stride=2),
     dict(num_heads=2, key_dim=8, value_dim=8, kv_stride=2, layer_scale_init_value=None)),
]


def timm_block(arguments: dict, out_channels: int, device: str) -> torch.nn.Module:
    from timm.models._efficientnet_blocks import MobileAttention

    with torch.device(device):
        return MobileAttention(CHANNELS, out_channels, use_multi_query=True, **arguments).eval()


def analytic(spec: MobileMQASpec) -> Tally:
    tally = Tally(CHANNELS, SIZE, SIZE)
    kind_by_name("mqa").cost(spec, tally, 1)
    return tally


@pytest.mark.parametrize(("spec", "arguments"), BLOCKS, ids=lambda x: str(x) if isinstance(x, MobileMQASpec) else "")
def test_block_equals_timm_in_params_macs_and_outputs(spec: MobileMQASpec, arguments: dict) -> None:
    reference = timm_block(arguments, spec.out_channels, "meta")
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():  # on the meta device timm's fused attention runs as two bmm, as it is counted
        reference(torch.empty(1, CHANNELS, SIZE, SIZE, device="meta"))
    tally = analytic(spec)
    assert tally.params == sum(p.numel() for p in reference.parameters())
    assert tally.macs == counter.get_total_flops() // 2
    assert tally.shape == (spec.out_channels, SIZE, SIZE)

    reference = randomize_(reference)
    ours = kind_by_name("mqa").build(spec, CHANNELS, 1, BuildContext()).eval()
    target = ours.state_dict()
    assert [k.rsplit(".", 1)[-1] for k in target] == [k.rsplit(".", 1)[-1] for k in reference.state_dict()]
    ours.load_state_dict(dict(zip(target, reference.state_dict().values())), strict=True)
    images = torch.randn(2, CHANNELS, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(ours(images), reference(images), rtol=1e-4, atol=1e-5)

