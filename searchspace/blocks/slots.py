"""A pluggable slot of a block: None, or a spec of any kind registered for that slot.

The attention slot (attention.py) and the residual kinds' spatial-conv slot
(spatial.py) each keep a registry of spec classes by ``kind``.  In strings a
filled slot is written with the chosen kind as key (``se(r0.25_mid)``,
``sk(rd1/8_d16)``); in JSON as an object with its ``kind``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from searchspace.fields import Codec, SpecBase, SpecError, SpecStringError, split_top_level
from searchspace.shown import shown


class SlotCodec(Codec):
    """None or a spec of any kind in ``kinds`` (a registry the slot's module keeps up to date)."""

    def __init__(self, kinds: Mapping[str, type[SpecBase]], what: str, json_default_kind: str | None = None) -> None:
        self.kinds, self.what = kinds, what
        self.json_default_kind = json_default_kind  # the kind a JSON object without "kind" means

    def normalize(self, value: Any, where: str) -> SpecBase | None:
        if value is None or isinstance(value, tuple(self.kinds.values())):
            return value
        if isinstance(value, dict):
            return self._spec_class(value.get("kind", self.json_default_kind), where).from_dict(value, where)
        raise SpecError(f"{where} = {shown(value)} is not allowed: must be {self.what} ({', '.join(self.kinds)}) or none")

    def to_json(self, value: SpecBase | None) -> dict | None:
        return None if value is None else value.to_dict()

    def from_json(self, raw: Any, where: str) -> SpecBase | None:
        return self.normalize(raw, where)

    def keys(self, key: str) -> tuple[str, ...]:
        return tuple(self.kinds)

    def encode(self, key: str, value: SpecBase) -> str:
        return value.kind + "(" + "_".join(value.encode_fields()) + ")"

    def parse_keyed(self, key: str, text: str, where: str) -> SpecBase:
        if not (text.startswith("(") and text.endswith(")")):
            raise SpecStringError(f"{where}: expected '(...)' after {key!r}, got {shown(text)}")
        inner = text[1:-1]
        return self._spec_class(key, where).decode_fields(split_top_level(inner, "_") if inner else [], where)

    def _spec_class(self, kind: Any, where: str) -> type[SpecBase]:
        try:
            return self.kinds[kind]
        except (KeyError, TypeError):
            raise SpecError(f"{where}.kind = {shown(kind)} is not allowed: allowed: {', '.join(self.kinds)}") from None
