"""Layer scale: a learned per-channel factor on a residual branch (CaiT, ConvNeXt, MobileNetV4's hybrid nets).

Built and costed side by side here so that every block kind that offers it
(UIB, Mobile MQA) scales its branch the same way.  The parameter is called
``gamma``, as in timm's ``LayerScale2d``, so converted weights line up by role.
"""

from __future__ import annotations

import torch
from torch import nn

from searchspace.fields import FloatCodec, OptionalCodec, knob
from searchspace.tally import Tally

# The op a recording tally lists for it; block kinds that use it name its latency family.
LAYER_SCALE_OP = "layer_scale"


def layer_scale_knob():
    """The spec field of a block that may scale its branch: absent (None) by default, and then left out of its JSON."""
    return knob("ls", OptionalCodec(FloatCodec(0.0)), None, doc="initial per-channel layer scale of the branch; absent: none",
                json_when_set=True)


class LayerScale(nn.Module):
    """``x * gamma`` with one learned factor per channel of an NCHW map."""

    def __init__(self, channels: int, init: float) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels,), float(init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma.view(1, -1, 1, 1)


def cost_layer_scale(tally: Tally) -> None:
    """One parameter per channel; an element-wise product, which is not a MAC."""
    tally.layer(LAYER_SCALE_OP, params=tally.channels)
