"""One device, one timing at a time: a cross-process reader-writer lock per device.

Latency measured while another trial trains on the same device is wrong, and
parallel searches (several processes, Ray workers on one node) would otherwise
do exactly that.  Training holds the device *shared* (many trainings may run
together, as when small trials share a GPU); a latency measurement holds it
*exclusive*, so it waits for running trainings to finish and blocks new ones
until it is done.

A second "gate" lock gives measurements priority: a measurement takes the gate
before waiting for the device, and a training passes through the gate before
taking the device, so a steady stream of trainings cannot starve a waiting
measurement.

``flock`` locks belong to an open file description, so two ``hold_device``
calls in the same process also exclude each other, and the kernel releases
the lock if the holder dies (``kill -9`` never leaves a device locked).

A wait longer than :data:`WAIT_NOTICE_S` is logged once (a warning, which
reaches stderr when nothing else handles it), naming the lock file: a stopped
or slow process holding the device otherwise looks like a hung search.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import threading
from collections.abc import Iterator

import torch

from evaluators.devices import resolve_device
from evaluators.paths import cache_dir

log = logging.getLogger(__name__)

WAIT_NOTICE_S = 10.0  # shorter waits are the lock doing its job: trainings of a few seconds between timings


def _lock_path(device: torch.device, role: str) -> str:
    folder = cache_dir() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    # All of the CPU is one device for timing purposes: threads of one
    # measurement and another process's training compete for the same cores.
    label = "cpu" if device.type == "cpu" else f"cuda{device.index or 0}"
    return str(folder / f"{re.sub(r'[^a-z0-9]', '', label)}.{role}.lock")


@contextlib.contextmanager
def hold_device(device: str | torch.device, *, exclusive: bool) -> Iterator[None]:
    """Hold ``device`` shared (training) or exclusive (latency measurement)."""
    dev = resolve_device(device)
    gate = os.open(_lock_path(dev, "gate"), os.O_RDWR | os.O_CREAT, 0o644)
    main = os.open(_lock_path(dev, "device"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if exclusive:
            fcntl.flock(gate, fcntl.LOCK_EX)  # new trainings now queue behind us
            _wait_for(main, fcntl.LOCK_EX, "a latency measurement waits for trainings to finish", dev)
            fcntl.flock(gate, fcntl.LOCK_UN)
        else:
            fcntl.flock(gate, fcntl.LOCK_SH)
            _wait_for(main, fcntl.LOCK_SH, "a training waits for a latency measurement to finish", dev)
            fcntl.flock(gate, fcntl.LOCK_UN)
        yield
    finally:
        fcntl.flock(main, fcntl.LOCK_UN)
        os.close(main)
        os.close(gate)


def _wait_for(descriptor: int, mode: int, what: str, device: torch.device) -> None:
    """``flock(descriptor, mode)``, saying so once if it blocks for more than WAIT_NOTICE_S."""
    path = _lock_path(device, "device")
    notice = threading.Timer(WAIT_NOTICE_S, log.warning, ("%s on %s: another process holds %s (still waiting)", what,
                                                           device.type, path))
    notice.daemon = True
    notice.start()
    try:
        fcntl.flock(descriptor, mode)
    finally:
        notice.cancel()
