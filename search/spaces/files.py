"""Reading space files (YAML or JSON) and finding a space by name or path."""

from __future__ import annotations

import difflib
import json
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from search.errors import UserError
from search.spaces.base import Space
from search.spaces.definition import RegNetDefinition
from search.spaces.regnet_space import RegNetSpace
from search.spaces.schema import parse_space
from search.spaces.template import TemplateSpace
from search.user_files import read_user_text

SUFFIXES = (".yaml", ".yml", ".json")


# Values after aliases are expanded (the file's size is bounded by search.user_files): a "billion laughs" file of 1 KB names 10**9 of them.
MAX_EXPANDED_NODES = 100_000


class _TooLarge(yaml.YAMLError):
    """The document would expand past :data:`MAX_EXPANDED_NODES`."""


class _StrictLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys silently; a space file with one is a mistake.

    Aliases are bounded too: the document is refused if it would expand to more
    than :data:`MAX_EXPANDED_NODES` values, before anything is constructed.
    """

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None and _expanded_size(node) > MAX_EXPANDED_NODES:
            raise _TooLarge(f"the document expands to more than {MAX_EXPANDED_NODES:,} values (through aliases)")
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # the base class reports unhashable keys itself
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes the document holds once every alias is expanded, counted without expanding any.

    An alias is the same node object as its anchor, so each distinct node's size
    is computed once; a node that contains itself (``&a [*a]``) counts as unbounded.
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes and not children_done:
            continue
        children = [item for pair in node.value for item in pair] if isinstance(node, yaml.MappingNode) else \
            node.value if isinstance(node, yaml.SequenceNode) else []
        if children_done:
            sizes[id(node)] = min(1 + sum(sizes.get(id(child), MAX_EXPANDED_NODES + 1) for child in children),
                                  MAX_EXPANDED_NODES + 1)
            continue
        sizes[id(node)] = MAX_EXPANDED_NODES + 1  # in progress: a cycle back to it is unbounded
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)
    return sizes[id(root)]


def read_document(text: str, json_syntax: bool, source: str) -> Any:
    """The data of a YAML or JSON document; a syntax error is one line with its position."""
    if json_syntax:
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise UserError(f"{source}: line {error.lineno}, column {error.colno}: JSON syntax error: {error.msg}") from None
        except (ValueError, RecursionError):
            raise UserError(f"{source}: a number is too long or the document is nested too deeply") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a safe loader)
    except _TooLarge as error:
        raise UserError(f"{source}: {error}") from None
    except (ValueError, RecursionError):  # PyYAML's int() of a 5,000-digit number; its recursive composer
        raise UserError(f"{source}: a number is too long or the document is nested too deeply") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "cannot be parsed"
        position = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise UserError(f"{source}: {position}YAML syntax error: {problem}") from None
    except yaml.YAMLError as error:
        raise UserError(f"{source}: YAML syntax error: {' '.join(str(error).split())}") from None


def space_from_data(data: Any, source: str, default_name: str, *, require_known_baselines: bool = True) -> Space:
    definition = parse_space(data, source, default_name, require_known_baselines=require_known_baselines)
    if isinstance(definition, RegNetDefinition):
        return RegNetSpace(definition)
    return TemplateSpace(definition)


def load_space_file(path: str | Path) -> Space:
    path = Path(path)
    source = f"space file {path}"
    if not path.is_file():
        raise UserError(f"{source} does not exist" if not path.exists() else f"{source} is not a file")
    text = read_user_text(path, source)
    data = read_document(text, path.suffix.lower() == ".json", source)
    return space_from_data(data, source, default_name=path.stem)


def load_space(name_or_path: str) -> Space:
    """A built-in space by name, or a space file (.yaml, .yml or .json)."""
    from search.spaces.catalog import STUDY_SPACES, builtin_spaces, study_space

    if Path(name_or_path).suffix.lower() in SUFFIXES:
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
