"""``latency_protocol.json``: how far a run's latencies can be trusted, written beside its trials.

Two things a reader cannot see in ``trials.csv``:

* for each searched net, the **slowdown** its measurement was taken under
  (:mod:`evaluators.latency.calibration`: 1.0 on a quiet machine) and whether
  it was still flagged as contended after the protocol's retries;
* the **repeatability** of the front's re-measurement (:mod:`search.run.remeasure`):
  per member, the coefficient of variation of its block medians, i.e. how
  much the same net's latency moved within one interleaved re-measurement.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping
from typing import Any

from search.run.config import RunConfig
from search.run.records import TrialRecord
from search.run.remeasure import BLOCKS, CONTENTION_TOLERANCE, MAX_EXTRA_BLOCKS, Remeasured
from search.run.rundir import RunDir, write_atomic
from searchspace import decode

FILE_NAME = "latency_protocol.json"


def write_latency_protocol(rundir: RunDir, records: list[TrialRecord], config: RunConfig,
                           remeasured: Mapping[int, Remeasured]) -> None:
    """Write the run's measurement conditions and the front re-measurement's repeatability."""
    from evaluators.latency import TimingProtocol

    measured = [_measurement(record, config) for record in records
                if record.latency_source in ("measured", "cached") and record.spec]
    measured = [entry for entry in measured if entry is not None]
    timing = TimingProtocol()
    payload = {
        "protocol": {"runtime": config.runtime, "contention_tolerance": timing.contention_tolerance,
                     "contention_retries": timing.contention_retries, "spread_tolerance": timing.spread_tolerance,
                     "front": {"blocks": BLOCKS, "max_extra_blocks": MAX_EXTRA_BLOCKS,
                               "contention_tolerance": CONTENTION_TOLERANCE}},
        "measurements": measured,
        "flagged": sum(bool(entry["contended"]) for entry in measured),
        "front_repeatability": _repeatability(remeasured),
    }
    write_atomic(rundir.path / FILE_NAME, json.dumps(payload, indent=1) + "\n")


def _measurement(record: TrialRecord, config: RunConfig) -> dict[str, Any] | None:
    """The stored measurement behind a trial's latency, with the slowdown it was taken under."""
    from evaluators.latency import cached_latency

    result = cached_latency(decode(record.spec), config.device, config.threads, runtime=config.runtime)
    if result is None:  # cleared from the cache since
        return None
    return {"number": record.number, "baseline": record.baseline, "latency_ms": result.estimate_ms, "median_ms": result.median_ms,
            "slowdown": result.slowdown, "contended": result.contended, "measured_at": result.measured_at}


def _repeatability(remeasured: Mapping[int, Remeasured]) -> dict[str, Any]:
    members = []
    for number, result in sorted(remeasured.items()):
        values = result.block_medians_ms
        cv = 100 * statistics.stdev(values) / statistics.mean(values) if len(values) > 1 else None
        members.append({"number": number, "latency_ms": result.latency_ms, "block_medians_ms": list(values),
                        "cv_percent": cv, "contended": result.contended})
    cvs = [member["cv_percent"] for member in members if member["cv_percent"] is not None]
    return {"members": members, "median_cv_percent": statistics.median(cvs) if cvs else None}
