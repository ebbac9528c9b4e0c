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
(``se(r0.25_mid)``); in JSON as an object with its ``kind``.
"""

from __future__ import annotations

from typing import Any, Protocol

from torch import nn

from searchspace.fields import Codec, SpecBase, SpecError, SpecStringError, knob, split_top_level
from searchspace.shown import shown
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


def attention_spec_class(kind: str) -> type[SpecBase]:
    """The spec class of a registered attention kind."""
    return AttentionCodec._spec_class(kind, "attention")


class AttentionCodec(Codec):
    """None (no attention) or a spec of any registered attention kind."""

    def normalize(self, value: Any, where: str) -> SpecBase | None:
        if value is None or isinstance(value, tuple(_ATTENTION.values())):
            return value
        if isinstance(value, dict):
            return self._spec_class(value.get("kind", "se"), where).from_dict(value, where)
        raise SpecError(f"{where} = {shown(value)} is not allowed: must be an attention spec ({', '.join(_ATTENTION)}) or none")

    def to_json(self, value: SpecBase | None) -> dict | None:
        return None if value is None else value.to_dict()

    def from_json(self, raw: Any, where: str) -> SpecBase | None:
        return self.normalize(raw, where)

    def keys(self, key: str) -> tuple[str, ...]:
        return tuple(_ATTENTION)

    def encode(self, key: str, value: SpecBase) -> str:
        return value.kind + "(" + "_".join(value.encode_fields()) + ")"

    def parse_keyed(self, key: str, text: str, where: str) -> SpecBase:
        if not (text.startswith("(") and text.endswith(")")):
            raise SpecStringError(f"{where}: expected '(...)' after {key!r}, got {shown(text)}")
        inner = text[1:-1]
        return self._spec_class(key, where).decode_fields(split_top_level(inner, "_") if inner else [], where)

    @staticmethod
    def _spec_class(kind: Any, where: str) -> type[SpecBase]:
        try:
            return _ATTENTION[kind]
        except (KeyError, TypeError):
            raise SpecError(f"{where}.kind = {shown(kind)} is not allowed: allowed: {', '.join(_ATTENTION)}") from None


ATTENTION_FIELD_DOC = "attention, any registered kind, e.g. se() or se(r0.25_mid_d8_hardsigmoid); absent: none"


def attention_knob(where: str) -> Any:
    """The attention slot of a block; ``where`` says where in the block it sits.

    The field keeps the name ``se`` it had when SE was the only attention: JSON
    files, digests and state-dict keys say ``se``.
    """
    return knob("se", AttentionCodec(), None, doc=f"{ATTENTION_FIELD_DOC} ({where})")
