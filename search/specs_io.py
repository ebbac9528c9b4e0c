"""Reading a spec the way users give one: a compact string, or a path to a JSON or text file."""

from __future__ import annotations

from pathlib import Path

from search.errors import UserError, shown
from search.user_files import is_file, read_user_text
from searchspace import NetSpec, decode

SPEC_FILE_SUFFIXES = (".json", ".txt", ".spec")


def read_spec(text: str) -> NetSpec:
    """A spec from a compact string, a ``.json`` file or a file holding a compact string."""
    if "|" in text or not (Path(text).suffix in SPEC_FILE_SUFFIXES or is_file(text)):
        return decode(text)  # a compact string always has "|" between its sections
    if not is_file(text):
        raise UserError(f"spec file {shown(text)} does not exist")
    content = read_user_text(Path(text), f"spec file {shown(text)}")
    return NetSpec.from_json(content) if content.lstrip().startswith("{") else decode(content)
