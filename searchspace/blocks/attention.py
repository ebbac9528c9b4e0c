"""The attention slot: a block that takes attention accepts any registered attention spec.

An attention spec is a spec class (a ``kind`` and knobs, like a block's) with
two methods, the attention's builder and cost side by side::

    module(channels, in_channels, mid_channels, out_channels) -> nn.Module
    cost(tally, in_channels, mid_channels, out_channels) -> None

``channels`` is the width of the map it attends to; the three others are the
block's input, expanded (or bottleneck) and output widths, which rules such as
SE's squeeze width refer to.  A block declares the slot with
:func:`attention_knob` and calls those two methods: it never names an attention
kind, so a new one (CBAM, ECA, ...) is one class and one :func:`register_attention`.

In strings the slot is written with the attention's own kind as key
(``se(r0.25_mid)``); in JSON as an object with its ``kind`` (slots.py).
"""

from __future__ import annotations

from typing import Any, Protocol

from torch import nn

from searchspace.blocks.slots import SlotCodec
from searchspace.fields import SpecBase, knob
from searchspace.tally import Tally


class AttentionSpec(Protocol):
    kind: str

    def module(self, channels: int, in_channels: int, mid_channels: int, out_channels: int) -> nn.Module: ...

    def cost(self, tally: Tally, in_channels: int, mid_channels: int, out_channels: int) -> None: ...


_ATTENTION: dict[str, type[SpecBase]] = {}


def register_attention(spec_class: type[SpecBase]) -> None:
    if spec_class.kind in _ATTENTION:
        raise RuntimeError(f"attention kind {spec_class.kind!r} is registered twice")
    _ATTENTION[spec_class.kind] = spec_class


def unregister_attention(kind: str) -> None:
    del _ATTENTION[kind]


def attention_kinds() -> tuple[str, ...]:
    return tuple(_ATTENTION)


ATTENTION_FIELD_DOC = "attention, any registered kind, e.g. se() or se(r0.25_mid_d8_hardsigmoid); absent: none"


def attention_knob(where: str) -> Any:
    """The attention slot of a block; ``where`` says where in the block it sits.

    The field keeps the name ``se`` it had when SE was the only attention: JSON
    files, digests and state-dict keys say ``se``.
    """
    return knob("se", SlotCodec(_ATTENTION, "an attention spec", json_default_kind="se"), None, doc=f"{ATTENTION_FIELD_DOC} ({where})")
