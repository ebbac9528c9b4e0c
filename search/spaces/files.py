"""Reading space files (YAML or JSON) and finding a space by name or path."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from search.errors import UserError
from search.spaces.base import Space
from search.spaces.definition import RegNetDefinition
from search.spaces.documents import SUFFIXES, names_space_file, read_document, read_space_file  # noqa: F401  (read_document: re-exported)
from search.spaces.regnet_space import RegNetSpace
from search.spaces.schema import parse_space
from search.spaces.template import TemplateSpace


def space_from_data(data: Any, source: str, default_name: str, *, require_known_baselines: bool = True) -> Space:
    definition = parse_space(data, source, default_name, require_known_baselines=require_known_baselines)
    if isinstance(definition, RegNetDefinition):
        return RegNetSpace(definition)
    return TemplateSpace(definition)


def load_space_file(path: str | Path) -> Space:
    return space_from_data(read_space_file(path), f"space file {Path(path)}", default_name=Path(path).stem)


def load_space(name_or_path: str) -> Space:
    """A built-in space by name, or a space file (.yaml, .yml or .json)."""
    from search.spaces.catalog import STUDY_SPACES, builtin_spaces, study_space

    if names_space_file(name_or_path):
        return load_space_file(name_or_path)
    spaces = builtin_spaces()
    if name_or_path in spaces:
        return spaces[name_or_path]
    if name_or_path in STUDY_SPACES:
        return study_space(name_or_path)
    if Path(name_or_path).is_file():
        raise UserError(f"space file {name_or_path} must end in {', '.join(SUFFIXES)} to say how to read it")
    close = difflib.get_close_matches(name_or_path, list(spaces), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise UserError(
        f"space {name_or_path!r} is not known (built-in spaces: {', '.join(spaces)}; or give a .yaml, .yml or .json space file){hint}"
    )
