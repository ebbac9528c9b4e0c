"""The timing loop and statistics, driven by a fake clock so every count is exact."""

from __future__ import annotations

import gc
import statistics

import pytest
import torch

from evaluators.latency import TimingProtocol
from evaluators.latency.result import latency_statistics
from evaluators.latency.timing import device_synchronizer, time_runs


class ScriptedDevice:
    """A fake clock and device: each forward pass takes ``step_s``; every call is logged."""

    def __init__(self, step_s: float = 0.125) -> None:
        self.step_s = step_s
        self.now = 0.0
        self.events: list[str] = []

    def clock(self) -> float:
        self.events.append("clock")
        return self.now

    def forward(self) -> None:
        self.events.append("forward")
        self.now += self.step_s

    def synchronize(self) -> None:
        self.events.append("sync")

    def run(self, **protocol: float) -> object:
        return time_runs(self.forward, self.synchronize, TimingProtocol(**protocol), clock=self.clock)


def test_every_timed_pass_is_read_after_synchronizing():
    # On an asynchronous device forward() returns before the work is done; the
    # clock must be read only after a sync, or queued work goes uncounted.
    device = ScriptedDevice()
    runs = device.run(warmup_runs=2, warmup_time_s=0.0, min_runs=3, min_time_s=0.01, max_runs=3)
    timed = device.events[-15:]
    assert timed == ["sync", "clock", "forward", "sync", "clock"] * 3
    assert runs.samples_s == pytest.approx((0.125,) * 3)


def test_warmup_passes_are_synchronized_and_not_sampled():
    device = ScriptedDevice()
    runs = device.run(warmup_runs=4, warmup_time_s=0.0, min_runs=1, min_time_s=0.01, max_runs=1)
    warmup = device.events[: device.events.index("forward") + 2]
    assert warmup[-2:] == ["forward", "sync"]
    assert runs.warmup_runs == 4
    assert len(runs.samples_s) == 1


@pytest.mark.parametrize(
    ("warmup_runs", "warmup_time_s", "expected"),
    [(2, 1.0, 8), (5, 0.1, 5), (0, 0.0, 0)],
)
def test_warmup_needs_both_its_run_count_and_its_time(warmup_runs, warmup_time_s, expected):
    runs = ScriptedDevice().run(
        warmup_runs=warmup_runs, warmup_time_s=warmup_time_s, min_runs=1, min_time_s=0.01
    )
    assert runs.warmup_runs == expected


@pytest.mark.parametrize(
    ("min_runs", "min_time_s", "max_runs", "expected"),
    [(3, 1.0, 100, 8), (12, 0.1, 100, 12), (3, 100.0, 7, 7)],
)
def test_timed_runs_need_min_runs_and_min_time_up_to_max_runs(min_runs, min_time_s, max_runs, expected):
    runs = ScriptedDevice().run(
        warmup_runs=0, warmup_time_s=0.0, min_runs=min_runs, min_time_s=min_time_s, max_runs=max_runs
    )
    assert len(runs.samples_s) == expected


def test_garbage_collection_is_back_on_after_a_failing_pass():
    def failing() -> None:
        raise RuntimeError("boom")

    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        time_runs(failing, lambda: None, TimingProtocol(warmup_runs=0, warmup_time_s=0.0, min_runs=1, min_time_s=0.01))
    assert gc.isenabled()


def test_cuda_synchronizer_waits_on_the_measured_device(monkeypatch):
    waited_on: list[torch.device] = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: waited_on.append(device))
    device_synchronizer(torch.device("cuda", 1))()
    assert waited_on == [torch.device("cuda", 1)]


def test_cpu_synchronizer_does_not_touch_cuda(monkeypatch):
    waited_on: list[object] = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: waited_on.append(device))
    device_synchronizer(torch.device("cpu"))()
    assert waited_on == []


def test_statistics_agree_with_the_standard_library():
    samples_s = [0.004, 0.001, 0.003, 0.010, 0.002, 0.0025, 0.0031]
    samples_ms = [sample * 1000 for sample in samples_s]
    lower, _, upper = statistics.quantiles(samples_ms, n=4, method="inclusive")
    summary = latency_statistics(samples_s)
    assert summary["median_ms"] == pytest.approx(statistics.median(samples_ms))
    assert summary["spread_ms"] == pytest.approx(upper - lower)
    assert summary["mean_ms"] == pytest.approx(statistics.fmean(samples_ms))
    assert (summary["min_ms"], summary["max_ms"]) == pytest.approx((min(samples_ms), max(samples_ms)))


def test_spread_ignores_a_single_outlier():
    steady = [0.001, 0.0011, 0.0012, 0.0013, 0.0014]
    preempted = steady[:-1] + [0.5]  # one run hit by the scheduler
    assert latency_statistics(preempted)["spread_ms"] == pytest.approx(latency_statistics(steady)["spread_ms"])
    assert latency_statistics(preempted)["median_ms"] == pytest.approx(latency_statistics(steady)["median_ms"])


def test_statistics_of_a_single_run_have_zero_spread():
    summary = latency_statistics([0.002])
    assert summary["spread_ms"] == 0.0
    assert summary["median_ms"] == pytest.approx(2.0)


def test_statistics_of_no_runs_are_refused():
    with pytest.raises(ValueError, match="at least one"):
        latency_statistics([])
