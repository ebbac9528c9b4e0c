"""The contention-aware protocol: a calibration kernel beside every timing, slowed timings taken again or flagged."""

from __future__ import annotations

import dataclasses
import itertools
import time

import pytest

import evaluators.latency.calibration as calibration
from evaluators.latency import TimingProtocol, measure
from evaluators.latency.calibration import UNSTEADY_FLOOR_MS, QuietReference
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


# No warm-up and exactly eight timed passes, so that every other one is slowed whatever the machine's speed.
EIGHT_PASSES = dataclasses.replace(FAST_PROTOCOL, warmup_runs=0, min_runs=8, max_runs=8, min_time_s=1e-6)


class IntermittentlySlowed(RecordingModule):
    """A module whose every other pass takes ``extra_s`` longer while ``slowed`` holds: a load that comes and goes
    between the calibrations, which run quiet.  Timed with :data:`EIGHT_PASSES`, half its passes are slowed."""

    def __init__(self, extra_s: float = 0.004) -> None:
        super().__init__()
        self.slowed, self.extra_s = True, extra_s

    def forward(self, x):
        out = super().forward(x)
        if self.slowed and self.calls % 2:
            time.sleep(self.extra_s)
        return out


def test_passes_slowed_between_quiet_calibrations_are_taken_again_and_flagged_if_they_stay_so(monkeypatch) -> None:
    module = IntermittentlySlowed()
    calibrated = []

    def quiet_calibration(device, threads):  # the calibrations never see the load; it ends with the first attempt
        calibrated.append(1)
        module.slowed = module.slowed and len(calibrated) < 2
        return 1.0

    monkeypatch.setattr(calibration, "calibration_ms", quiet_calibration)
    result = measure(module, resolution=8, cache=False, protocol=EIGHT_PASSES)
    assert result.retimed_runs >= 8 and not result.contended  # the unsteady first attempt was thrown away
    assert result.spread_ms <= max(EIGHT_PASSES.spread_tolerance * result.median_ms, UNSTEADY_FLOOR_MS)
    assert module.calls == result.warmup_runs + result.runs + result.retimed_runs
    always = IntermittentlySlowed()
    flagged = measure(always, resolution=8, cache=False, protocol=EIGHT_PASSES)
    assert flagged.contended and flagged.slowdown == pytest.approx(1.0)
    assert flagged.spread_ms > UNSTEADY_FLOOR_MS  # half the passes carry the 4 ms the other half do not
    assert flagged.estimate_ms == flagged.min_ms < 4.0  # judged by its fastest pass, which the load did not reach
    assert always.calls == flagged.warmup_runs + flagged.runs + flagged.retimed_runs


def test_a_spread_under_a_millisecond_is_never_unsteady_and_the_tolerance_is_checked() -> None:
    from evaluators.latency.calibration import unsteady

    microseconds = (10e-6, 40e-6, 10e-6, 40e-6)  # a 3x spread, all of it timer jitter
    assert not unsteady(microseconds, FAST_PROTOCOL)
    milliseconds = (0.010, 0.020, 0.010, 0.020)
    assert unsteady(milliseconds, FAST_PROTOCOL)
    assert not unsteady(milliseconds, dataclasses.replace(FAST_PROTOCOL, spread_tolerance=2.0))
    with pytest.raises(ValueError, match="spread_tolerance"):
        TimingProtocol(spread_tolerance=0.0)


def test_each_calibration_sample_spans_several_time_slices_and_is_reported_per_fixed_count_of_products(monkeypatch) -> None:
    """A sample shorter than a scheduler time slice runs in the gaps another process leaves, and reads quiet."""
    import torch

    product_s, spans = 0.0005, []
    real_mm = torch.mm

    def slow_mm(a, b):  # every product takes at least half a millisecond
        started = time.perf_counter()
        time.sleep(product_s)
        out = real_mm(a, b)
        spans.append((started, time.perf_counter()))
        return out

    monkeypatch.setattr(torch, "mm", slow_mm)
    measured = calibration.calibration_ms(torch.device("cpu"), 1)
    timed = spans[1 + calibration.CALIBRATION_PRODUCTS:]  # after the warm-up product and the sizing sample
    per_sample, left = divmod(len(timed), calibration.CALIBRATION_RUNS)
    assert left == 0 and per_sample > calibration.CALIBRATION_PRODUCTS
    samples = [timed[i * per_sample:(i + 1) * per_sample] for i in range(calibration.CALIBRATION_RUNS)]
    # Sized on the sizing sample's speed: each sample lasts the chosen time, give or take the machine's jitter.
    assert all((sample[-1][1] - sample[0][0]) * 1e3 >= 0.8 * calibration.CALIBRATION_SAMPLE_MS for sample in samples)
    # Reported as the time of CALIBRATION_PRODUCTS products, whatever number each sample ran.
    fastest_ms = min((sample[-1][1] - sample[0][0]) * 1e3 for sample in samples)
    assert measured == pytest.approx(fastest_ms * calibration.CALIBRATION_PRODUCTS / per_sample, rel=0.05)
    assert measured >= calibration.CALIBRATION_PRODUCTS * product_s * 1e3
