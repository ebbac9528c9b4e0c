"""Reading a spec the way users give one: a compact string, or a path to a JSON or text file.

A missing or oversized file and a string without its sections are refused
before the block kinds, and torch with them, are imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from search.errors import UserError, shown
from search.user_files import is_file, read_user_text
from searchspace.spec_outline import NECK_SEPARATOR, check_outline

if TYPE_CHECKING:
    from searchspace import NetSpec
    from searchspace.necks import BackboneNeckSpec

SPEC_FILE_SUFFIXES = (".json", ".txt", ".spec")


def read_spec(text: str) -> NetSpec | BackboneNeckSpec:
    """A spec (a net, or a backbone with necks) from a compact string, a ``.json`` file or a file holding a compact string."""
    if "|" in text or not (Path(text).suffix in SPEC_FILE_SUFFIXES or is_file(text)):
        return _decode(text)  # a compact string always has "|" between its sections
    if not is_file(text):
        raise UserError(f"spec file {shown(text)} does not exist")
    content = read_user_text(Path(text), f"spec file {shown(text)}")
    return _from_json(content) if content.lstrip().startswith("{") else _decode(content)


def _decode(text: str) -> NetSpec | BackboneNeckSpec:
    check_outline(text)  # torch-free
    from searchspace import decode
    from searchspace.necks import decode_backbone_neck

    return decode_backbone_neck(text) if NECK_SEPARATOR in text else decode(text)


def _from_json(content: str) -> NetSpec | BackboneNeckSpec:
    from searchspace import NetSpec
    from searchspace.necks import BackboneNeckSpec
    from searchspace.spec import spec_json_object

    data = spec_json_object(content)
    spec_class = BackboneNeckSpec if data.get("kind") == BackboneNeckSpec.kind else NetSpec
    return spec_class.from_dict(data)  # type: ignore[return-value]
