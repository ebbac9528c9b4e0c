"""The contention-aware protocol: a calibration kernel beside every timing, slowed timings taken again or flagged."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

import evaluators.latency.calibration as calibration
from evaluators.latency import TimingProtocol, measure
from evaluators.latency.calibration import QuietReference
from tests.latency_support import FAST_PROTOCOL, RecordingModule


def calibrations(monkeypatch, values) -> None:
    """The calibration kernel's timings, in order: what a machine slowed by other processes would show."""
    sequence = iter(values)
    monkeypatch.setattr(calibration, "calibration_ms", lambda device, threads: next(sequence))


def test_a_timing_slowed_by_the_machine_is_taken_again_and_the_quiet_one_kept(monkeypatch) -> None:
    # Before and after each attempt: the first attempt ran with the kernel three times slower than quiet.
    calibrations(monkeypatch, [1.0, 3.0, 1.0, 1.05])
    module = RecordingModule()
    result = measure(module, resolution=8, protocol=FAST_PROTOCOL)
    assert result.slowdown == pytest.approx(1.05) and not result.contended
    assert result.retimed_runs > 0  # the slowed attempt's passes were thrown away
    assert module.calls == result.warmup_runs + result.runs + result.retimed_runs


def test_a_machine_that_stays_slowed_is_flagged_with_the_slowdown_measured(monkeypatch) -> None:
    calibrations(monkeypatch, itertools.chain([1.0], itertools.repeat(2.0)))  # quiet once, then busy throughout
    first = measure(RecordingModule(), resolution=8, threads=1, cache=False, protocol=FAST_PROTOCOL)
    assert first.slowdown == pytest.approx(2.0) and first.contended
    retries = FAST_PROTOCOL.contention_retries
    module = RecordingModule()
    again = measure(module, resolution=8, threads=1, cache=False, protocol=FAST_PROTOCOL)
    assert again.slowdown == pytest.approx(2.0) and again.contended  # judged against the quiet moment seen before
    assert again.retimed_runs == module.calls - again.warmup_runs - again.runs > 0
    assert module.calls >= (1 + retries) * (FAST_PROTOCOL.warmup_runs + FAST_PROTOCOL.min_runs)
    # A figure taken on a machine that stayed slowed is judged by its fastest run, which load can only slow.
    assert again.estimate_ms == again.min_ms < again.median_ms or again.min_ms == again.median_ms
    quiet = dataclasses.replace(again, contended=False)
    assert quiet.estimate_ms == quiet.median_ms


def test_an_uncalibrated_protocol_times_once_and_reports_no_slowdown(monkeypatch) -> None:
    calibrations(monkeypatch, [])  # any calibration would fail the test
    module = RecordingModule()
    result = measure(module, resolution=8, protocol=dataclasses.replace(FAST_PROTOCOL, calibrated=False))
    assert (result.slowdown, result.contended, result.retimed_runs) == (None, False, 0)
    assert module.calls == result.warmup_runs + result.runs


def test_the_quiet_reference_is_the_fastest_calibration_any_process_saw(tmp_path) -> None:
    path = tmp_path / "calibration.json"
    assert QuietReference(path).slowdown("cpu:a", 1, (2.0, 2.0)) == 1.0  # the first one seen is the reference
    assert QuietReference(path).slowdown("cpu:a", 1, (1.0, 3.0)) == 3.0  # a faster one lowers it
    assert QuietReference(path).slowdown("cpu:a", 1, (2.0,)) == 2.0  # read back by a fresh reader
    assert QuietReference(path).slowdown("cpu:a", 2, (5.0,)) == 1.0  # per thread count
    path.write_text("{half a fi")
    assert QuietReference(path).slowdown("cpu:a", 1, (4.0,)) == 1.0  # a damaged file starts again


def test_contention_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="contention_retries must be an integer >= 0"):
        TimingProtocol(contention_retries=-1)
    with pytest.raises(ValueError, match="contention_tolerance"):
        TimingProtocol(contention_tolerance=0.0)
