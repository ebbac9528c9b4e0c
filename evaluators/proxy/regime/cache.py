"""Remembered regime timings, so that a candidate is timed once per device.

Entries are keyed by the candidate's fingerprint (spec digest or module
fingerprint), the device's name, batch size, proxy resolution and the PyTorch
version (kernels and the compiler change between releases).  They hold the
measured :class:`~evaluators.proxy.regime.choice.RegimeTimings` rather than a
verdict, because whether compiling pays off also depends on how many steps a
particular training runs.  The file also keeps, per device, the last
compilations measured there, which estimate the cost of compiling a candidate
never compiled before.

Layers: a per-process dictionary in front of one JSON file in
:func:`~evaluators.paths.cache_dir`.  Several trials may run at once (in other
processes), so the file is updated under an ``flock`` and replaced
atomically.  The cache is advisory: an unreadable file is reported with a
warning and treated as empty, never allowed to fail a training.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from evaluators.paths import FILE_MODE, cache_dir
from evaluators.proxy.regime.choice import RegimeTimings

_FILE_NAME = "proxy_regimes.json"
_FORMAT_VERSION = 1
_OBSERVATIONS_KEPT = 20

# In-memory layer, keyed by (file path, entry key).  Module level so that it
# survives across RegimeCache instances within one process.
_MEMORY: dict[tuple[str, str], RegimeTimings] = {}


def regime_cache_key(fingerprint: str, device_label: str, batch_size: int, resolution: int) -> str:
    return f"{fingerprint}|{device_label}|batch{batch_size}|res{resolution}|torch{torch.__version__}"


class RegimeCache:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else cache_dir() / _FILE_NAME

    def get(self, key: str) -> RegimeTimings | None:
        memory_key = (str(self.path), key)
        if memory_key in _MEMORY:
            return _MEMORY[memory_key]
        raw = self._read().get("entries", {}).get(key)
        if raw is None:
            return None
        try:
            timings = RegimeTimings(**raw)
        except TypeError:  # an entry written by an incompatible version
            return None
        _MEMORY[memory_key] = timings
        return timings

    def put(self, key: str, timings: RegimeTimings) -> None:
        _MEMORY[(str(self.path), key)] = timings

        def store(data: dict[str, Any]) -> None:
            data.setdefault("entries", {})[key] = dataclasses.asdict(timings)

        self._update(store)

    def compile_observations(self, device_label: str) -> list[tuple[float, float]]:
        """Past ``(overhead_s, saving)`` pairs measured on ``device_label``."""
        rows = self._read().get("compile_observations", {}).get(device_label, [])
        return [(float(row[0]), float(row[1])) for row in rows]

    def add_compile_observation(self, device_label: str, overhead_s: float, saving: float) -> None:
        def append(data: dict[str, Any]) -> None:
            rows = data.setdefault("compile_observations", {}).setdefault(device_label, [])
            rows.append([overhead_s, saving])
            del rows[:-_OBSERVATIONS_KEPT]

        self._update(append)

    def _read(self) -> dict[str, Any]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            warnings.warn(f"ignoring unreadable regime cache {self.path}: {exc}", RuntimeWarning, stacklevel=3)
            return {}
        if not isinstance(data, dict) or data.get("version") != _FORMAT_VERSION:
            return {}
        return data

    def _update(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Read-modify-write the file under an exclusive lock, replacing it atomically.

        A file that cannot be written costs only the remembered timings, so
        the error becomes a warning.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            warnings.warn(f"cannot update regime cache {self.path}: {exc}", RuntimeWarning, stacklevel=3)
            return
        temporary: str | None = None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self._read() or {"version": _FORMAT_VERSION}
            change(data)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{_FILE_NAME}.")
            os.fchmod(handle, FILE_MODE)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=1, sort_keys=True)
            os.replace(temporary, self.path)
            temporary = None
        except OSError as exc:
            warnings.warn(f"cannot update regime cache {self.path}: {exc}", RuntimeWarning, stacklevel=3)
        finally:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
            fcntl.flock(lock, fcntl.LOCK_UN)
            os.close(lock)
