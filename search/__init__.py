"""Search and exploration: ``search.run(budget="50ms")``, ``search.explore(spaces=[...])`` (see :mod:`search.api`)."""

import importlib


def __getattr__(name: str):
    # Imported on first use, so that `import search` (and the CLI's start) stays light.
    if name in ("run", "explore"):
        return importlib.import_module(f"search.{name}")
    raise AttributeError(f"module 'search' has no attribute {name!r}")
