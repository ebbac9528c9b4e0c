"""Where the toolkit keeps state that outlives a process (caches, locks)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The cache root: ``$CONVSPACE_CACHE`` if set, else ``~/.cache/convspace``.

    Tests point ``CONVSPACE_CACHE`` at a temporary folder so they never read a
    developer's real measurements.
    """
    root = os.environ.get("CONVSPACE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "convspace")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path
