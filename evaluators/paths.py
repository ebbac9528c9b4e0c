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


def _process_umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before any thread writes files.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# tempfile.mkstemp makes its files 0600, so a file written through a temporary one (to be atomic)
# is given the mode any new file gets here instead: 0644 under umask 022.
FILE_MODE = 0o666 & ~_process_umask()
