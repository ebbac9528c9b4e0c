"""Squeeze-and-excitation, the built-in kind of the attention slot (see attention.py).

The squeeze width rules of the reference nets differ (MobileNetV3 takes a
quarter of the expanded width rounded to 8, EfficientNet and RegNet a quarter
of the block input, SENet a sixteenth of the block output rounded to 8), so
the rule is data: a ratio, the width it is relative to, and a divisor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from searchspace.activations import ACTIVATION, GATE
from searchspace.blocks.attention import register_attention
from searchspace.fields import ChoiceCodec, FloatCodec, IntCodec, SpecBase, knob
from searchspace.layers import SqueezeExcite
from searchspace.tally import Tally
from searchspace.widths import make_divisible


# The squeeze knobs every squeezing attention kind declares alike (see SqueezeRule), each kind with
# its own defaults; a ratio refers to the block's input, expanded or output width.
def squeeze_ratio(default: float) -> Any:
    return knob("r", FloatCodec(0.0, 4.0, open_min=True), default, doc="squeeze width as a fraction of `relative_to`")


def squeeze_reference(default: str) -> Any:
    return knob("", ChoiceCodec(("in", "mid", "out")), default,
                doc="width the ratio applies to: block input, expanded (or bottleneck) width, or block output")


def squeeze_divisor() -> Any:
    return knob("d", IntCodec(1), 1, doc="round the squeeze width to a multiple of this (1: nearest integer)")


class SqueezeRule:
    """The squeeze width of a spec with ``ratio``, ``relative_to`` and ``divisor`` fields.

    SE, CBAM, Gather-Excite and Global Context all reduce a width by a ratio
    before expanding back; the rule is the same data in each.
    """

    ratio: float
    relative_to: str
    divisor: int

    def squeeze_channels(self, in_channels: int, mid_channels: int, out_channels: int) -> int:
        reference = {"in": in_channels, "mid": mid_channels, "out": out_channels}[self.relative_to]
        return make_divisible(reference * self.ratio, self.divisor)


@dataclass(frozen=True, kw_only=True)
class SESpec(SqueezeRule, SpecBase):
    kind = "se"

    ratio: float = squeeze_ratio(0.25)
    relative_to: str = squeeze_reference("in")
    divisor: int = squeeze_divisor()
    activation: str = knob("", ACTIVATION, "relu", doc="activation between the two 1x1 convs")
    gate: str = knob("", GATE, "sigmoid", doc="gate that turns the excitation into a scale")

    def module(self, channels: int, in_channels: int, mid_channels: int, out_channels: int) -> nn.Module:
        return SqueezeExcite(channels, self.squeeze_channels(in_channels, mid_channels, out_channels), self.activation, self.gate)

    def cost(self, tally: Tally, in_channels: int, mid_channels: int, out_channels: int) -> None:
        tally.squeeze_excite(self.squeeze_channels(in_channels, mid_channels, out_channels))


register_attention(SESpec)
