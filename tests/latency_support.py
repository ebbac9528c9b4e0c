"""Helpers shared by the latency tests (not collected: the name does not start with test_)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from evaluators.latency import LatencyCache, LatencyResult, TimingProtocol

# A protocol short enough for tests: a handful of runs, tens of milliseconds.
FAST_PROTOCOL = TimingProtocol(min_time_s=0.01, warmup_runs=1, warmup_time_s=0.0, min_runs=3, max_runs=200)
FAST = {"protocol": FAST_PROTOCOL}


class RecordingModule(nn.Module):
    """A small conv that records how, when and how often it was called."""

    def __init__(self, channels: int = 4, in_channels: int = 3, fail: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.fail = fail
        self.calls = 0
        self.call_times: list[float] = []
        self.input_shapes: list[tuple[int, ...]] = []
        self.training_flags: list[bool] = []
        self.inference_mode_flags: list[bool] = []
        self.thread_counts: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        self.call_times.append(time.perf_counter())
        self.input_shapes.append(tuple(x.shape))
        self.training_flags.append(self.training)
        self.inference_mode_flags.append(torch.is_inference_mode_enabled())
        self.thread_counts.append(torch.get_num_threads())
        if self.fail:
            raise RuntimeError("forward failed on purpose")
        return self.conv(x)


@dataclass(frozen=True)
class FakeSpec:
    """Stands in for searchspace.NetSpec: the three attributes measure() relies on."""

    resolution: int = 12
    in_channels: int = 2
    width: int = 4
    builds: list = field(default_factory=list, compare=False, hash=False)

    def digest(self) -> str:
        return f"fake-{self.resolution}-{self.in_channels}-{self.width}"


def build_fake(spec: FakeSpec) -> nn.Module:
    spec.builds.append(spec)
    return RecordingModule(channels=spec.width, in_channels=spec.in_channels)


def synthetic_result(model_key: str | None, *, device: str = "cpu:test-machine", median_ms: float = 1.0) -> LatencyResult:
    return LatencyResult(
        median_ms=median_ms,
        spread_ms=0.1,
        min_ms=median_ms * 0.9,
        max_ms=median_ms * 1.2,
        mean_ms=median_ms,
        runs=10,
        warmup_runs=5,
        threads=1,
        device=device,
        input_shape=(1, 3, 32, 32),
        dtype="float32",
        torch_version=torch.__version__,
        protocol_version=1,
        measured_at="2026-01-01T00:00:00+00:00",
        model_key=model_key,
    )


def write_entries(cache_path: str, writer: str, count: int, ready_dir: str) -> None:
    """Body of a writer process: wait for the other writer, then put ``count`` results."""
    ready = Path(ready_dir)
    (ready / writer).touch()
    deadline = time.monotonic() + 60
    while len(list(ready.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    cache = LatencyCache(cache_path)
    for index in range(count):
        cache.put(synthetic_result(f"{writer}-{index}"))
        # Both writers also fight over one shared key.
        cache.put(synthetic_result("shared", median_ms=float(index + 1)))
