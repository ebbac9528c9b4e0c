"""One process owns a run folder: an exclusive ``flock`` on ``<folder>/.lock`` held for the run's life.

The kernel releases a ``flock`` when its process dies, however it dies, so a
lock left by a killed run is never stale: the next process simply gets it. The
owner's PID is written into the file only so that a refused process can say who
holds the folder.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from search.errors import UserError

LOCK_FILE = ".lock"


class RunFolderBusy(UserError):
    """Another live process owns the run folder."""


class RunLock:
    """An exclusive lock on one run folder, taken at construction, released by :meth:`release` or process exit."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        path = folder / LOCK_FILE
        try:
            self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as error:
            raise UserError(f"cannot lock run folder {folder}: {error.strerror}") from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read_owner(self._fd)
            self.release()
            raise RunFolderBusy(
                f"run folder {folder} is in use by another search (process {owner}); "
                "wait for it to finish, or stop it first"
            ) from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor drops the flock
            self._fd = None


def _read_owner(fd: int) -> str:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return text if text.isdigit() else "unknown"
