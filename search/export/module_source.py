"""The source of a block's module class, made standalone: its own text, less ``__init__``, plus what it uses.

An exported file rebuilds each block from its children (see python_source.py),
so a class's ``__init__``, which takes specs and build contexts, is left out;
every other method (``forward`` first of all) is the class's real source, read
with :mod:`inspect`, so the export cannot drift from the block.  What a class
refers to by a global name is written too: toolkit (or plug-in) base classes
and helper functions as their own source, anything from an installed library
as an import, plain constants as assignments.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import re
import sys
import textwrap
import types
from typing import Any

# Names every exported file already defines at its top.
PRELUDE_NAMES = frozenset({"torch", "nn", "OrderedDict"})


def _package(value: Any) -> str:
    """The top-level package of the module that defines ``value``."""
    return (getattr(value, "__module__", None) or "").split(".")[0]


def _without_init(source: str) -> str:
    """The class source with its ``__init__`` method removed (lines and all)."""
    tree = ast.parse(source)
    cls = tree.body[0]
    lines = source.splitlines(keepends=True)
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            del lines[start:node.end_lineno]
            break
    text = re.sub(r"^(class [^\n]*:\n)\n", r"\1", "".join(lines), count=1)  # no blank line left under the header
    # A class whose body was only __init__ (and a docstring or nothing) still needs a body.
    return text if _has_body(text) else text.rstrip() + "\n    pass\n"


def _has_body(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


def _global_names(source: str) -> list[str]:
    """Names a definition reads that it does not bind itself, in order of first use.

    Annotations are left out: the exported file never evaluates them (``from __future__ import annotations``).
    """
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            node.annotation = None
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.returns = None
        elif isinstance(node, ast.AnnAssign):
            node.annotation = ast.Constant(None)
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in (*n.args, *n.kwonlyargs, *n.posonlyargs)}
    bound |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n is not tree.body[0]}
    seen: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in bound:
            seen.setdefault(node.id, None)
    return [name for name in seen if not hasattr(builtins, name)]


class SourceCollector:
    """Gathers the standalone text of classes and everything they use, each once, dependencies first.

    Code from the packages the collected classes come from (the toolkit's
    ``searchspace``, a plug-in's package, a test module) is copied as source;
    code from anywhere else (torch, the standard library, other installed
    libraries) is imported, as the exported file's reader has those installed.
    """

    def __init__(self) -> None:
        self._copied_packages = {"searchspace"}
        self.imports: dict[str, str] = {}  # name -> import line
        self.definitions: dict[str, str] = {}  # name -> source text, in dependency order
        self._origin: dict[str, Any] = {}  # name -> the object it defines (to catch two objects with one name)

    def add_class(self, cls: type) -> str:
        """Collect ``cls`` (and what it uses); its name in the exported file."""
        self._copied_packages.add(_package(cls))
        self._add(cls.__name__, cls, sys.modules[cls.__module__])
        return cls.__name__

    def text(self) -> str:
        imports = "".join(line + "\n" for line in self.imports.values())
        return imports + ("\n" if imports else "") + "\n\n".join(self.definitions.values())

    def _claim(self, name: str, value: Any) -> bool:
        """False when already collected; an error when another object already took the name."""
        if name in self._origin:
            if self._origin[name] is not value:
                raise TypeError(f"cannot export: two different objects are named {name!r} ({self._origin[name]!r} and {value!r})")
            return False
        if name in PRELUDE_NAMES:
            raise TypeError(f"cannot export: {value!r} is named {name!r}, a name the exported file already uses")
        self._origin[name] = value
        return True

    def _add(self, name: str, value: Any, home: types.ModuleType) -> None:
        if name in PRELUDE_NAMES and _is_prelude(name, value):
            return
        if not self._claim(name, value):
            return
        if isinstance(value, types.ModuleType):
            self.imports[name] = f"import {value.__name__}" if value.__name__ == name else f"import {value.__name__} as {name}"
        elif (inspect.isclass(value) or inspect.isfunction(value)) and _package(value) not in self._copied_packages:
            self.imports[name] = f"from {value.__module__} import {value.__qualname__} as {name}"
        elif inspect.isclass(value) or inspect.isfunction(value):
            self._add_source(name, value)
        elif isinstance(value, (int, float, str, bool, tuple, frozenset, type(None))):
            self.definitions[name] = f"{name} = {value!r}\n"
        else:
            raise TypeError(f"cannot export {name!r} of module {home.__name__}: a {type(value).__name__} is neither code nor a constant")

    def _add_source(self, name: str, value: Any) -> None:
        source = textwrap.dedent(inspect.getsource(value))
        if inspect.isclass(value):
            source = _without_init(source)
        home = sys.modules[value.__module__]
        for used in _global_names(source):
            if used == name:
                continue
            if used not in vars(home):
                raise TypeError(f"cannot export {name}: it uses {used!r}, which {home.__name__} does not define")
            self._add(used, vars(home)[used], home)
        self.definitions[name] = source


def _is_prelude(name: str, value: Any) -> bool:
    import collections

    import torch
    from torch import nn

    return {"torch": torch, "nn": nn, "OrderedDict": collections.OrderedDict}.get(name) is value
