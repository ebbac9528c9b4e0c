"""Packages that are also functions: ``search.run(...)`` next to ``search.run.loop``.

``search.run`` and ``search.explore`` are packages (the command's code) and,
for the Python API, functions.  A module attribute of the same name would
shadow the package for ``import search.run.loop as loop`` and for string-based
patching, so the package itself is made callable instead; its call goes to
:mod:`search.api`, imported only then.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import types
from typing import Any


class CallablePackage(types.ModuleType):
    _function_name: str  # the function of search.api this package calls

    def _function(self):
        return getattr(importlib.import_module("search.api"), self._function_name)

    def __call__(self, *args: Any, **keywords: Any) -> Any:
        return self._function()(*args, **keywords)

    @property
    def __signature__(self) -> inspect.Signature:  # what help() and IDEs show for search.run(...)
        return inspect.signature(self._function())


def make_callable(package_name: str, function_name: str) -> None:
    """Let ``package_name`` be called as ``search.api.<function_name>``."""
    package = sys.modules[package_name]
    package.__class__ = CallablePackage
    package._function_name = function_name
