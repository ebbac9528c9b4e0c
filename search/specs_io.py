"""Reading a spec the way users give one: a compact string, or a path to a JSON or text file."""

from __future__ import annotations

from pathlib import Path

from search.errors import UserError, shown
from searchspace import NetSpec, decode

SPEC_FILE_SUFFIXES = (".json", ".txt", ".spec")
# The largest zoo net's JSON is a few tens of kilobytes; a spec file far beyond that is not one.
MAX_SPEC_FILE_BYTES = 1 << 20


def read_spec(text: str) -> NetSpec:
    """A spec from a compact string, a ``.json`` file or a file holding a compact string."""
    if "|" in text or not (Path(text).suffix in SPEC_FILE_SUFFIXES or _is_file(text)):
        return decode(text)  # a compact string always has "|" between its sections
    path = Path(text)
    if not _is_file(text):
        raise UserError(f"spec file {shown(text)} does not exist")
    try:
        if path.stat().st_size > MAX_SPEC_FILE_BYTES:
            raise UserError(f"spec file {shown(text)} is over {MAX_SPEC_FILE_BYTES:,} bytes: not a spec")
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise UserError(f"spec file {shown(text)} cannot be read: {reason}") from None
    return NetSpec.from_json(content) if content.lstrip().startswith("{") else decode(content)


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL byte: not a file
        return False
