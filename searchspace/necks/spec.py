"""A backbone and the necks on its feature maps, as one spec with a JSON and a compact form.

The compact string is the backbone's, ``=>``, then a ``features`` token naming
the reductions the necks read and one token per neck, applied in order::

    net | conv_s2_c32 ... | head => features_s8x16x32 sppf fpn_c128 pan

Constructing the spec validates it by walking the shapes through every neck
(:mod:`searchspace.necks.cost`), as a NetSpec walks its blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from searchspace.codec import decode, encode
from searchspace.fields import Codec, IntCodec, NestedCodec, NumberTupleCodec, SpecBase, SpecError, SpecStringError, knob, split_top_level
from searchspace.necks.kinds import neck_by_name, neck_of
from searchspace.shown import shown
from searchspace.spec import DocumentSpec, NetSpec
from searchspace.spec_outline import NECK_SEPARATOR as SEPARATOR

FEATURES = "features"


class _NeckTupleCodec(Codec):
    """The necks in order; JSON carries each one's ``kind``."""

    def normalize(self, value: Any, where: str) -> tuple[SpecBase, ...]:
        if not isinstance(value, (list, tuple)):
            raise SpecError(f"{where} = {shown(value)} is not allowed: give a list of necks")
        necks = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                item = neck_by_name(str(item.get("kind"))).spec.from_dict(item, f"{where}[{i}]")
            if not isinstance(item, SpecBase):
                raise SpecError(f"{where}[{i}] = {shown(item)} is not allowed: expected a neck spec")
            neck_of(item)
            necks.append(item)
        return tuple(necks)

    def to_json(self, value: tuple[SpecBase, ...]) -> list:
        return [neck.to_dict() for neck in value]


@dataclass(frozen=True, kw_only=True)
class BackboneNeckSpec(DocumentSpec):
    kind = "backbone_neck"

    backbone: NetSpec = knob("", NestedCodec(NetSpec), doc="the backbone (its head is not run)")
    strides: tuple[int, ...] = knob("s", NumberTupleCodec(IntCodec(2)), (8, 16, 32),
                                    doc="reductions of the backbone maps the necks read, shallowest first")
    necks: tuple[SpecBase, ...] = knob("", _NeckTupleCodec(), (), doc="necks, applied in order")

    def check(self) -> None:
        if list(self.strides) != sorted(set(self.strides)):
            raise self.fail("strides", self.strides, "must increase, each given once")
        from searchspace.necks.cost import analyze_backbone_neck

        object.__setattr__(self, "_analysis", analyze_backbone_neck(self))

    def __str__(self) -> str:
        return encode_backbone_neck(self)


def encode_backbone_neck(spec: BackboneNeckSpec) -> str:
    settings = [k.codec.encode(k.key, getattr(spec, name)) for name, k, default in BackboneNeckSpec.knobs()
                if k.key and getattr(spec, name) != default]  # the scalar settings; backbone and necks have sections
    header = "_".join([FEATURES, *settings])
    tokens = ["_".join([neck.kind, *neck.encode_fields()]) for neck in spec.necks]
    return f"{encode(spec.backbone)} {SEPARATOR} {' '.join([header, *tokens])}"


def decode_backbone_neck(text: str) -> BackboneNeckSpec:
    backbone, separator, rest = text.partition(SEPARATOR)
    tokens = rest.split()
    if not separator or not tokens or split_top_level(tokens[0], "_")[0] != FEATURES:
        raise SpecStringError(f"a backbone with necks is written '<net string> {SEPARATOR} {FEATURES}_s8x16x32 <neck> ...'")
    settings = dict(BackboneNeckSpec._parse_parts(split_top_level(tokens[0], "_")[1:], f"token {shown(tokens[0])}"))
    necks = []
    for token in tokens[1:]:
        parts = split_top_level(token, "_")
        necks.append(neck_by_name(parts[0]).spec.decode_fields(parts[1:], f"token {shown(token)}"))
    return BackboneNeckSpec(backbone=decode(backbone), necks=tuple(necks), **settings)
