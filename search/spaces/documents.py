"""Reading a space file's document (YAML or JSON) within bounds, before torch is imported.

Torch-free: the command line refuses a hostile space file (an alias bomb,
5,000-deep nesting, a 5,000-digit number, a stage of a million blocks) in the
memory it takes to read it; turning the document into a space needs the block
registry (search/spaces/schema.py, search/spaces/files.py).
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from search.errors import UserError
from search.spaces.sizes import check_sizes
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


def check_space_file(name_or_path: str) -> None:
    """Read a space file now if ``name_or_path`` names one, so a hostile file is refused before torch loads.

    (``load_space`` reads it again once the registry is loaded: a file is at most 1 MB.)
    """
    if names_space_file(name_or_path):
        read_space_file(name_or_path)


def names_space_file(name_or_path: str) -> bool:
    """A space file is named by its suffix (``.yaml``, ``.yml``, ``.json``); any other text names a built-in space."""
    return Path(name_or_path).suffix.lower() in SUFFIXES


def read_space_file(path: str | Path) -> Any:
    """The data of a space file, its sizes bounded (see search.spaces.sizes); not yet checked against the schema."""
    path = Path(path)
    source = f"space file {path}"
    if not path.is_file():
        raise UserError(f"{source} does not exist" if not path.exists() else f"{source} is not a file")
    text = read_user_text(path, source)
    data = read_document(text, path.suffix.lower() == ".json", source)
    check_sizes(data, source)
    return data
