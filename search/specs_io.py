"""Reading a spec the way users give one: a compact string, or a path to a JSON or text file."""

from __future__ import annotations

from pathlib import Path

from search.errors import UserError
from searchspace import NetSpec, decode


def read_spec(text: str) -> NetSpec:
    """A spec from a compact string, a ``.json`` file or a file holding a compact string."""
    path = Path(text)
    if "|" not in text and path.suffix in (".json", ".txt", ".spec") or path.is_file():
        if not path.is_file():
            raise UserError(f"spec file {text!r} does not exist")
        try:
            content = path.read_text()
        except OSError as error:
            raise UserError(f"spec file {text!r} cannot be read: {error.strerror}") from None
        return NetSpec.from_json(content) if content.lstrip().startswith("{") else decode(content)
    return decode(text)
