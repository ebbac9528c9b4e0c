"""A package whose public names are imported on first use (PEP 562), so light submodules stay light.

The command line refuses bad input before torch is imported (a refused command
stays far under 1 GB): every block kind imports torch, yet torch-free modules
(``searchspace.shown``, ``searchspace.fields``, ``evaluators.validate``) sit in
the same packages, and a package's ``__init__`` runs before any of its modules.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Mapping
from typing import Any


class LazyPackage(types.ModuleType):
    """A package module whose exported names resolve on first access; ``__lazy_exports__`` maps each to its source."""

    def __getattr__(self, name: str) -> Any:
        source = self.__dict__["__lazy_exports__"].get(name)
        if source is None:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        module, attribute = source
        value = getattr(importlib.import_module(module), attribute)
        super().__setattr__(name, value)  # later lookups find it without this method
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        # Importing a submodule sets the package's attribute of that name: `import searchspace.build` would
        # otherwise replace the exported function build() with the module build.py.
        if isinstance(value, types.ModuleType) and name in self.__dict__.get("__lazy_exports__", {}):
            return
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted({*self.__dict__, *self.__dict__["__lazy_exports__"]})


def export_lazily(package: str, sources: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Make ``package`` lazy: ``sources`` maps each module to the names it exports (``"methods as score_methods"``
    exports the module's ``methods`` as ``score_methods``); returns the names, for ``__all__``."""
    exports = {}
    for module, names in sources.items():
        for name in names:
            attribute, _, public = name.partition(" as ")
            exports[public or attribute] = (module, attribute)
    namespace = sys.modules[package]
    namespace.__dict__["__lazy_exports__"] = exports
    namespace.__class__ = LazyPackage
    return sorted(exports, key=str.lower)
