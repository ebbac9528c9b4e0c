"""Test-wide set-up: a private cache folder per test, one torch thread per test."""

from __future__ import annotations

import os
import tempfile

import pytest
import torch

# Set before any project module asks for the cache folder, so a developer's
# real latency cache is never read or written, even at import time.
os.environ.setdefault("CONVSPACE_CACHE", tempfile.mkdtemp(prefix="convspace-test-cache-"))


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets an empty cache folder (latency measurements, regime timings, locks)."""
    monkeypatch.setenv("CONVSPACE_CACHE", str(tmp_path / "cache"))


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread per test, the previous count restored afterwards.

    pytest-xdist runs a worker per core, the tensors in tests are small, and on
    a busy machine spinning OpenMP threads slow every step by an order of magnitude.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
