"""The proxy-throughput benchmark's own logic: reference models, judging auto, timing loop (CPU)."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from evaluators.proxy import step as step_module

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "proxy_throughput.py"


@pytest.fixture(scope="module")
def bench():
    """The script loaded as a module (benchmarks/ is not a package)."""
    name = "_convspace_benchmark_proxy_throughput"
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is created
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_cifar_resnet18_keeps_full_resolution_in_the_stem(bench):
    model = bench.cifar_resnet18()
    first_conv = next(module for module in model.modules() if isinstance(module, nn.Conv2d))
    assert first_conv.kernel_size == (3, 3) and first_conv.stride == (1, 1)
    assert not any(isinstance(module, nn.MaxPool2d) for module in model.stem.modules())
    seen = []
    model.stages[0].register_forward_hook(lambda module, inputs, output: seen.append(output.shape[-1]))
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert seen == [32]  # the first stage runs at the input resolution


def measurement(bench, regime, images_per_second, batch=512, compile_seconds=None):
    step_ms = batch / images_per_second * 1e3
    return bench.RegimeMeasurement(regime, step_ms=step_ms, images_per_second=images_per_second, compile_seconds=compile_seconds)


def test_compile_time_counts_against_throughput_over_the_workload(bench):
    compiled = measurement(bench, "compiled:bf16_cl", 20_000, compile_seconds=60.0)
    # 485 steps at 25.6 ms = 12.4 s of training, plus 60 s of compiling.
    expected = 485 * 512 / (485 * 512 / 20_000 + 60.0)
    assert bench.effective_images_per_second(compiled, 485, 512) == pytest.approx(expected)
    assert bench.effective_images_per_second(bench.RegimeMeasurement("fp32", error="oom"), 485, 512) is None


def test_auto_judged_against_the_best_regime_for_the_workload(bench):
    report = bench.ModelReport("net", 1.0)
    report.measurements = [
        measurement(bench, "fp32", 10_000),
        measurement(bench, "bf16_cl", 19_500),
        measurement(bench, "compiled:bf16_cl", 20_000, compile_seconds=60.0),
    ]
    report.auto_pick = "bf16_cl"
    bench.judge_auto(report, steps=485, batch_size=512)
    assert report.best_steady_state == "compiled:bf16_cl"
    assert report.best_for_workload == "bf16_cl"  # compiling does not repay itself in 485 steps
    assert report.auto_vs_best_for_workload == pytest.approx(1.0) and report.auto_within_5pct

    report.auto_pick = "fp32"
    bench.judge_auto(report, steps=485, batch_size=512)
    assert report.auto_vs_best_for_workload == pytest.approx(10_000 / 19_500) and report.auto_within_5pct is False


def test_timing_loop_runs_each_regime_on_cpu(bench, monkeypatch):
    monkeypatch.setattr(step_module, "COMPILE_BACKEND", "eager")  # dynamo without inductor's C++ build
    config = dataclasses.replace(
        bench.QUICK, batch_size=4, resolution=8, warmup_steps=1, timed_steps=1, repeats=2, dataset_images=16
    )

    def factory() -> nn.Module:
        return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))

    cpu = torch.device("cpu")
    for base, compiled in (("fp32", False), ("bf16_cl", False), ("fp32", True)):
        result = bench.measure_regime(factory, base, compiled, config, cpu)
        assert result.error is None, result.error
        assert result.step_ms > 0 and result.images_per_second == pytest.approx(4 / (result.step_ms / 1e3))
        assert (result.compile_seconds is not None) == compiled
        assert result.regime == (f"compiled:{base}" if compiled else base)


def test_a_failing_regime_is_reported_not_raised(bench):
    def broken() -> nn.Module:
        return nn.Sequential(nn.Flatten(), nn.Linear(5, 10))  # wrong input size for 8x8x3

    config = dataclasses.replace(bench.QUICK, batch_size=4, resolution=8, dataset_images=16)
    result = bench.measure_regime(broken, "fp32", False, config, torch.device("cpu"))
    assert result.images_per_second is None and result.error.startswith("RuntimeError")
