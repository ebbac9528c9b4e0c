"""Test-wide set-up: caches and locks go to a per-session temporary folder."""

from __future__ import annotations

import os
import tempfile

import pytest
import torch

# Set before any project module asks for the cache folder, so a developer's
# real latency cache is never read or written by the tests.
os.environ.setdefault("CONVSPACE_CACHE", tempfile.mkdtemp(prefix="convspace-test-cache-"))


# pytest-xdist runs one worker per core; more intra-op threads would only oversubscribe.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _deterministic_threads():
    """Keep each test's torch thread count as it found it."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
