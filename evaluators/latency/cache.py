"""Measured latencies that outlive the process: one SQLite file in the cache folder.

A search measures each candidate once per setting, and parallel searches (several
processes, Ray workers) share the file.  SQLite in WAL mode lets readers proceed
while one writer commits; writers queue on SQLite's busy timeout, and a write
that still finds the database locked is retried with back-off rather than
failing a trial.  Every operation opens its own short-lived connection, so a
:class:`LatencyCache` can be used from any thread and survives ``fork``.

The file must live on a local disk: WAL relies on shared memory, which network
file systems do not provide.

Schema (table ``measurements``): the key columns model_key, device, input_shape
(``"1x3x224x224"``), threads, dtype, torch_version, protocol_version form the
primary key; ``result`` holds the whole :class:`LatencyResult` as JSON.

Eager measurements live in ``measurements``; those of another runtime in a
table of the same schema named after it (``measurements_onnxruntime``, ...).
A table per runtime, rather than a runtime column, leaves the file readable
and writable by an older checkout, which knows only eager and must never be
served an onnxruntime figure as an eager one.

Table ``specs`` maps a model_key to the net spec's JSON, so that a latency
predictor can be fitted from the cache alone: a measurement says how long a
net took, the spec says what the net was.  It is a table of its own because a
spec is the same on every device and setting, and because an older checkout,
which knows only ``measurements``, then reads and writes the file unchanged.
Measurements stored before the table existed simply have no spec.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from evaluators.latency.result import LatencyResult
from evaluators.latency.runtimes import EAGER, RUNTIMES
from evaluators.paths import cache_dir

CACHE_FILE_NAME = "latency.sqlite"

# SQLite itself waits this long for a lock before reporting "database is locked".
_BUSY_TIMEOUT_S = 30.0
# Beyond that, an operation is retried until this much time has passed in all.
_RETRY_DEADLINE_S = 120.0
_RETRY_FIRST_PAUSE_S = 0.05
_RETRY_LONGEST_PAUSE_S = 1.0

_EAGER_TABLE = "measurements"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS {table} (
    model_key        TEXT    NOT NULL,
    device           TEXT    NOT NULL,
    input_shape      TEXT    NOT NULL,
    threads          INTEGER NOT NULL,
    dtype            TEXT    NOT NULL,
    torch_version    TEXT    NOT NULL,
    protocol_version INTEGER NOT NULL,
    result           TEXT    NOT NULL,
    PRIMARY KEY (model_key, device, input_shape, threads, dtype, torch_version, protocol_version)
)
"""
_SPECS_SCHEMA = """
CREATE TABLE IF NOT EXISTS specs (
    model_key TEXT NOT NULL PRIMARY KEY,
    spec_json TEXT NOT NULL
)
"""
_KEY_COLUMNS = ("model_key", "device", "input_shape", "threads", "dtype", "torch_version", "protocol_version")

_T = TypeVar("_T")


@dataclass(frozen=True, kw_only=True)
class CacheKey:
    """Everything a stored latency depends on; two measurements with equal keys are interchangeable."""

    model_key: str  # spec digest, or the caller's key for a plain module
    device: str  # evaluators.devices.device_name()
    input_shape: tuple[int, ...]  # batch, channels, resolution, resolution
    threads: int
    dtype: str
    torch_version: str
    protocol_version: int
    runtime: str = EAGER  # which table the measurement lives in

    @classmethod
    def of(cls, result: LatencyResult) -> CacheKey:
        if result.model_key is None:
            raise ValueError("a latency result without model_key cannot be cached: pass cache_key=... to name it")
        return cls(
            model_key=result.model_key,
            device=result.device,
            input_shape=result.input_shape,
            threads=result.threads,
            dtype=result.dtype,
            torch_version=result.torch_version,
            protocol_version=result.protocol_version,
            runtime=result.runtime,
        )

    def row(self) -> tuple[object, ...]:
        shape = "x".join(str(size) for size in self.input_shape)
        return (self.model_key, self.device, shape, self.threads, self.dtype, self.torch_version, self.protocol_version)


class LatencyCache:
    """Persistent store of :class:`LatencyResult` keyed by :class:`CacheKey`."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else cache_dir() / CACHE_FILE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._with_retry(self._create)

    def get(self, key: CacheKey) -> LatencyResult | None:
        """The stored result for ``key`` (with ``cached=True``), or None if never measured."""
        condition = " AND ".join(f"{column} = ?" for column in _KEY_COLUMNS)
        query = f"SELECT result FROM {_table(key.runtime)} WHERE {condition}"
        rows = self._with_retry(lambda: self._read(query, key.row()))
        return _decode(rows[0][0]) if rows else None

    def put(self, result: LatencyResult, spec_json: str | None = None) -> None:
        """Store ``result`` under its own key, replacing an earlier measurement of the same key.

        ``spec_json`` (the measured net's ``NetSpec.to_json()``) is stored with
        it under the result's model_key, in the same transaction.
        """
        key = CacheKey.of(result)
        if spec_json is not None and (not isinstance(spec_json, str) or not spec_json):
            raise ValueError(f"spec_json must be a non-empty JSON string or None, got {spec_json!r}")
        stored = json.dumps({**result.to_dict(), "cached": False}, sort_keys=True)
        columns = ", ".join((*_KEY_COLUMNS, "result"))
        placeholders = ", ".join("?" for _ in range(len(_KEY_COLUMNS) + 1))
        statements = [(f"INSERT OR REPLACE INTO {_table(key.runtime)} ({columns}) VALUES ({placeholders})", (*key.row(), stored))]
        if spec_json is not None:
            statements.append(("INSERT OR REPLACE INTO specs (model_key, spec_json) VALUES (?, ?)", (key.model_key, spec_json)))
        self._with_retry(lambda: self._write(statements))

    def spec_jsons(self, model_keys: Iterable[str] | None = None) -> dict[str, str]:
        """Stored spec JSON by model_key: all of them, or those of ``model_keys`` that have one."""
        rows = self._with_retry(lambda: self._read("SELECT model_key, spec_json FROM specs", ()))
        stored = dict(rows)
        if model_keys is None:
            return stored
        return {key: stored[key] for key in model_keys if key in stored}

    def entries(self, device: str | None = None, runtime: str = EAGER) -> list[LatencyResult]:
        """All stored results of ``runtime``, oldest first; only those of one ``device`` name if given.

        ``device`` is a :func:`evaluators.devices.device_name` string (the
        ``device`` field of a result), not a device as typed on the command
        line, so measurements of a named machine can be read on another one.
        """
        table = _table(runtime)
        if device is None:
            rows = self._with_retry(lambda: self._read(f"SELECT result FROM {table}", ()))
        else:
            rows = self._with_retry(lambda: self._read(f"SELECT result FROM {table} WHERE device = ?", (device,)))
        results = [_decode(text) for (text,) in rows]
        return sorted(results, key=lambda result: result.measured_at)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        # isolation_level=None: transactions are begun explicitly below.
        connection = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        try:
            # NORMAL is durable in WAL mode except for the last commits before a
            # power cut; losing one measurement then only costs re-measuring it.
            connection.execute("PRAGMA synchronous = NORMAL")
            yield connection
        finally:
            connection.close()

    def _create(self) -> None:
        with self._connection() as connection:
            # WAL mode is a property of the file: set once, it holds for every later connection.
            connection.execute("PRAGMA journal_mode = WAL")
            for runtime in RUNTIMES:
                connection.execute(_SCHEMA.format(table=_table(runtime)))
            connection.execute(_SPECS_SCHEMA)

    def _read(self, query: str, parameters: tuple[object, ...]) -> list[tuple[str, ...]]:
        with self._connection() as connection:
            return connection.execute(query, parameters).fetchall()

    def _write(self, statements: list[tuple[str, tuple[object, ...]]]) -> None:
        with self._connection() as connection:
            # IMMEDIATE takes the write lock up front, so two writers queue on
            # the busy timeout instead of one failing at commit time.
            connection.execute("BEGIN IMMEDIATE")
            try:
                for statement, parameters in statements:
                    connection.execute(statement, parameters)
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def _with_retry(self, operation: Callable[[], _T]) -> _T:
        deadline = time.monotonic() + _RETRY_DEADLINE_S
        pause = _RETRY_FIRST_PAUSE_S
        while True:
            try:
                return operation()
            except sqlite3.OperationalError as error:
                if not _is_contention(error) or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, _RETRY_LONGEST_PAUSE_S)


def _table(runtime: str) -> str:
    """The table of one runtime's measurements; only known names reach SQL."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    return _EAGER_TABLE if runtime == EAGER else f"{_EAGER_TABLE}_{runtime}"


def _is_contention(error: sqlite3.OperationalError) -> bool:
    message = str(error).lower()
    return "locked" in message or "busy" in message


def _decode(text: str) -> LatencyResult:
    return LatencyResult.from_dict({**json.loads(text), "cached": True})
