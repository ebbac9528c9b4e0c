"""Numeric-regime choice: the pure rule with injected timings, the selection flow with a fake
probe, the timing cache, and the real probe and compile paths on CPU."""

from __future__ import annotations

import json
import warnings

import pytest
import torch
from torch import nn

from evaluators.data.base import ImageDataset
from evaluators.proxy import ProxyResult, ProxySettings, train
from evaluators.proxy.regime import cache as regime_cache_module
from evaluators.proxy import step as step_module
from evaluators.proxy.regime.cache import RegimeCache, regime_cache_key
from evaluators.proxy.regime.choice import (
    BF16_MIN_GAIN,
    COMPILE_PAYBACK_MARGIN,
    PRIOR_COMPILE_OVERHEAD_S,
    PRIOR_COMPILE_SAVING,
    CompileEstimate,
    RegimeTimings,
    decide_regime,
    estimate_compile,
    should_try_compile,
    steps_in_budget,
)
from evaluators.proxy.regime.probe import (
    CompiledForward,
    DeviceRegimeProbe,
    OptimizerSettings,
)
from evaluators.proxy.regime.select import SelectionContext, select_regime


@pytest.fixture(autouse=True)
def no_remembered_timings(monkeypatch):
    monkeypatch.setattr(regime_cache_module, "_MEMORY", {})  # no timings leak between tests


# --- the pure rule ----------------------------------------------------------------


def test_bf16_chosen_when_clearly_faster():
    decision = decide_regime(RegimeTimings(fp32_step_s=0.026, bf16_cl_step_s=0.010), planned_steps=1000)
    assert (decision.base, decision.compiled, decision.label) == ("bf16_cl", False, "bf16_cl")


def test_fp32_chosen_when_faster():
    # MobileNetV2-like: channels-last bf16 slower than fp32.
    decision = decide_regime(RegimeTimings(fp32_step_s=0.010, bf16_cl_step_s=0.014), planned_steps=1000)
    assert decision.label == "fp32"


def test_fp32_kept_when_bf16_gain_is_within_noise():
    just_inside = 0.010 * (1 - BF16_MIN_GAIN / 2)
    just_outside = 0.010 * (1 - 2 * BF16_MIN_GAIN)
    assert decide_regime(RegimeTimings(0.010, just_inside), 100).label == "fp32"
    assert decide_regime(RegimeTimings(0.010, just_outside), 100).label == "bf16_cl"


def test_only_usable_eager_regime_is_chosen():
    assert decide_regime(RegimeTimings(fp32_step_s=None, bf16_cl_step_s=0.02), 100).label == "bf16_cl"
    assert decide_regime(RegimeTimings(fp32_step_s=0.02, bf16_cl_step_s=None), 100).label == "fp32"
    with pytest.raises(ValueError, match="fp32_step_s"):
        decide_regime(RegimeTimings(), 100)


def measured_compile(overhead_s: float = 40.0) -> RegimeTimings:
    # bf16 eager 10 ms/step, compiled 8 ms/step: saves 2 ms per step.
    return RegimeTimings(0.026, 0.010, compiled_base="bf16_cl", compiled_step_s=0.008, compile_overhead_s=overhead_s)


def test_compile_chosen_only_when_its_overhead_amortizes():
    timings = measured_compile(overhead_s=40.0)
    break_even = round(COMPILE_PAYBACK_MARGIN * 40.0 / 0.002)  # steps whose saving repays the margin
    assert decide_regime(timings, planned_steps=break_even - 100).label == "bf16_cl"
    chosen = decide_regime(timings, planned_steps=break_even + 100)
    assert chosen.label == "compiled:bf16_cl" and chosen.compiled


def test_time_limit_caps_the_steps_compiling_is_judged_over():
    timings = measured_compile(overhead_s=40.0)
    assert decide_regime(timings, planned_steps=10**6).compiled
    assert not decide_regime(timings, planned_steps=10**6, time_limit_s=60.0).compiled


def test_compile_already_paid_only_needs_a_faster_step():
    assert decide_regime(measured_compile(overhead_s=1e6), 10, compile_paid=True).compiled
    slower = RegimeTimings(0.026, 0.010, compiled_base="bf16_cl", compiled_step_s=0.011, compile_overhead_s=1.0)
    assert not decide_regime(slower, 10**6, compile_paid=True).compiled


def test_compile_failure_falls_back_to_the_best_eager_regime():
    timings = RegimeTimings(0.010, 0.014, compile_error="BackendCompilerFailed: no C compiler")
    decision = decide_regime(timings, planned_steps=10**7)
    assert decision.label == "fp32"
    assert "compile failed" in decision.reason and "no C compiler" in decision.reason
    assert not should_try_compile(timings, 10**7, CompileEstimate(overhead_s=0.0, saving=0.5))


def test_should_try_compile_with_the_cautious_prior():
    timings = RegimeTimings(fp32_step_s=0.050, bf16_cl_step_s=None)
    prior = estimate_compile([])
    assert prior == CompileEstimate(PRIOR_COMPILE_OVERHEAD_S, PRIOR_COMPILE_SAVING)
    # A five-epoch CIFAR proxy at batch 128 (~2000 steps, 100 s) does not compile ...
    assert not should_try_compile(timings, 2000, prior)
    # ... a training of several hours does.
    assert should_try_compile(timings, 500_000, prior)
    # A device where compiling has been seen to slow things down never does.
    assert not should_try_compile(timings, 10**9, CompileEstimate(overhead_s=1.0, saving=-0.05))


def test_compile_estimate_uses_medians_of_observations():
    estimate = estimate_compile([(30.0, 0.2), (90.0, 0.1), (50.0, 0.0)])
    assert estimate == CompileEstimate(overhead_s=50.0, saving=0.1)


def test_steps_in_budget():
    assert steps_in_budget(1000, 0.5, None) == 1000
    assert steps_in_budget(1000, 0.5, 100.0) == 200
    assert steps_in_budget(10, 0.5, 100.0) == 10


# --- the selection flow, with a fake device -----------------------------------------


class FakeProbe:
    """Returns injected timings and counts what was asked of it."""

    def __init__(
        self, fp32: float | None = 0.02, bf16: float | None = 0.01, compiled_step: float = 0.005, overhead: float = 30.0
    ) -> None:
        self.times = {"fp32": fp32, "bf16_cl": bf16}
        self.compiled_step = compiled_step
        self.overhead = overhead
        self.compile_error: Exception | None = None
        self.eager_calls: list[str] = []
        self.compile_calls: list[str] = []

    def time_eager(self, regime: str) -> float | None:
        self.eager_calls.append(regime)
        return self.times[regime]

    def compile(self, base: str) -> CompiledForward:
        self.compile_calls.append(base)
        if self.compile_error is not None:
            raise self.compile_error
        return CompiledForward(forward=lambda x: (x, []), base=base, overhead_s=self.overhead, step_s=self.compiled_step)


CUDA = torch.device("cuda", 0)  # a device object only; nothing runs on it


def context(planned_steps: int = 2000, device: torch.device = CUDA, key: str = "net-a") -> SelectionContext:
    return SelectionContext(device=device, device_label="cuda:Fake GPU", cache_key=key, planned_steps=planned_steps)


def test_cpu_auto_is_fp32_without_timing_anything():
    probe = FakeProbe()
    selection = select_regime("auto", context(device=torch.device("cpu")), probe, RegimeCache())
    assert selection.decision.label == "fp32" and selection.compiled_forward is None
    assert probe.eager_calls == [] and probe.compile_calls == []


def test_explicit_eager_regimes_are_used_as_asked():
    for regime in ("fp32", "bf16_cl"):
        probe = FakeProbe()
        assert select_regime(regime, context(), probe, RegimeCache()).decision.label == regime
        assert probe.eager_calls == []


def test_gpu_auto_times_both_eager_regimes_once_and_remembers():
    cache = RegimeCache()
    first = FakeProbe(fp32=0.03, bf16=0.01)
    assert select_regime("auto", context(), first, cache).decision.label == "bf16_cl"
    assert sorted(first.eager_calls) == ["bf16_cl", "fp32"] and first.compile_calls == []

    second = FakeProbe(fp32=0.001, bf16=0.5)  # would pick fp32 if it were asked
    assert select_regime("auto", context(), second, cache).decision.label == "bf16_cl"
    assert second.eager_calls == []

    regime_cache_module._MEMORY.clear()  # a new process: the file answers
    third = FakeProbe(fp32=0.001, bf16=0.5)
    assert select_regime("auto", context(), third, RegimeCache()).decision.label == "bf16_cl"
    assert third.eager_calls == []

    other = FakeProbe(fp32=0.001, bf16=0.5)  # another candidate is timed afresh
    assert select_regime("auto", context(key="net-b"), other, cache).decision.label == "fp32"


def test_gpu_auto_compiles_when_past_compilations_show_it_pays():
    cache = RegimeCache()
    for _ in range(3):
        cache.add_compile_observation("cuda:Fake GPU", overhead_s=20.0, saving=0.3)
    probe = FakeProbe(fp32=0.03, bf16=0.01, compiled_step=0.006, overhead=20.0)
    selection = select_regime("auto", context(planned_steps=50_000), probe, cache)
    assert selection.decision.label == "compiled:bf16_cl"
    assert probe.compile_calls == ["bf16_cl"] and selection.compiled_forward is not None
    assert len(cache.compile_observations("cuda:Fake GPU")) == 4  # this compilation was recorded


def test_gpu_auto_keeps_eager_when_compiled_turns_out_slower():
    cache = RegimeCache()
    cache.add_compile_observation("cuda:Fake GPU", overhead_s=1.0, saving=0.5)
    probe = FakeProbe(fp32=0.03, bf16=0.01, compiled_step=0.012, overhead=1.0)
    selection = select_regime("auto", context(planned_steps=50_000), probe, cache)
    assert selection.decision.label == "bf16_cl" and selection.compiled_forward is None
    assert probe.compile_calls == ["bf16_cl"]


def test_gpu_auto_does_not_compile_a_short_training():
    probe = FakeProbe()
    assert select_regime("auto", context(planned_steps=500), probe, RegimeCache()).decision.label == "bf16_cl"
    assert probe.compile_calls == []


def test_compile_failure_falls_back_and_is_not_retried():
    cache = RegimeCache()
    cache.add_compile_observation("cuda:Fake GPU", overhead_s=1.0, saving=0.5)
    probe = FakeProbe(fp32=0.01, bf16=0.02)
    probe.compile_error = RuntimeError("inductor exploded\nwith details")
    selection = select_regime("auto", context(planned_steps=10**6), probe, cache)
    assert selection.decision.label == "fp32" and selection.compiled_forward is None
    assert "compile failed" in selection.decision.reason and "inductor exploded with details" in selection.decision.reason

    again = FakeProbe(fp32=0.01, bf16=0.02)
    assert select_regime("auto", context(planned_steps=10**6), again, cache).decision.label == "fp32"
    assert again.compile_calls == []


def test_explicit_compiled_compiles_the_faster_eager_regime():
    probe = FakeProbe(fp32=0.01, bf16=0.02)
    selection = select_regime("compiled", context(planned_steps=10), probe, RegimeCache())
    assert selection.decision.label == "compiled:fp32" and selection.compiled_forward is not None
    assert probe.compile_calls == ["fp32"]
    # ... and calibrates auto's estimate of compiling on this device.
    assert RegimeCache().compile_observations("cuda:Fake GPU") == [(30.0, pytest.approx(0.5))]


def test_explicit_compiled_falls_back_when_compiling_fails():
    probe = FakeProbe(fp32=0.03, bf16=0.01)
    probe.compile_error = ValueError("unsupported operator")
    selection = select_regime("compiled", context(), probe, RegimeCache())
    assert selection.decision.label == "bf16_cl" and "unsupported operator" in selection.decision.reason


def test_cpu_compiled_uses_fp32_base_without_eager_timing():
    probe = FakeProbe()
    selection = select_regime("compiled", context(device=torch.device("cpu")), probe, RegimeCache())
    assert selection.decision.label == "compiled:fp32"
    assert probe.eager_calls == [] and probe.compile_calls == ["fp32"]


def test_out_of_memory_in_both_eager_regimes_raises_out_of_memory():
    probe = FakeProbe(fp32=None, bf16=None)
    with pytest.raises(torch.OutOfMemoryError):
        select_regime("auto", context(), probe, RegimeCache())


def test_unknown_regime_is_rejected():
    with pytest.raises(ValueError, match="regime='fp16'"):
        select_regime("fp16", context(), FakeProbe(), RegimeCache())


# --- the cache file ----------------------------------------------------------------


def test_cache_key_separates_device_batch_and_resolution():
    keys = {
        regime_cache_key("spec:abc", "cuda:H100", 128, 32),
        regime_cache_key("spec:abc", "cuda:A100", 128, 32),
        regime_cache_key("spec:abc", "cuda:H100", 256, 32),
        regime_cache_key("spec:abc", "cuda:H100", 128, 24),
        regime_cache_key("spec:abd", "cuda:H100", 128, 32),
    }
    assert len(keys) == 5


def test_cache_survives_a_new_process_and_ignores_a_corrupt_file(tmp_path):
    path = tmp_path / "regimes.json"
    timings = RegimeTimings(0.02, 0.01, compile_error="boom")
    RegimeCache(path).put("k", timings)
    regime_cache_module._MEMORY.clear()
    assert RegimeCache(path).get("k") == timings
    assert json.loads(path.read_text())["entries"]["k"]["compile_error"] == "boom"

    regime_cache_module._MEMORY.clear()
    path.write_text("{not json")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert RegimeCache(path).get("k") is None
    assert any("unreadable regime cache" in str(w.message) for w in caught)


def test_cache_keeps_only_recent_compile_observations(tmp_path):
    cache = RegimeCache(tmp_path / "regimes.json")
    for index in range(25):
        cache.add_compile_observation("gpu", overhead_s=float(index), saving=0.1)
    observations = cache.compile_observations("gpu")
    assert len(observations) == 20 and observations[0][0] == 5.0 and observations[-1][0] == 24.0
    assert cache.compile_observations("another gpu") == []


# --- the real probe and compile paths, on CPU -----------------------------------------


def small_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2)
    )


def real_probe(model: nn.Module) -> DeviceRegimeProbe:
    images = torch.randn(8, 3, 6, 6)
    labels = torch.tensor([0, 1] * 4)
    return DeviceRegimeProbe(
        model,
        images,
        labels,
        device=torch.device("cpu"),
        num_classes=2,
        label_smoothing=0.1,
        optimizer=OptimizerSettings(lr=0.5, momentum=0.9, nesterov=True, weight_decay=5e-4),
        warmup_steps=1,
        timed_steps=2,
    )


def test_probe_times_both_regimes_and_restores_model_and_rng():
    model = small_model()
    before = {name: value.clone() for name, value in model.state_dict().items()}
    probe = real_probe(model)
    torch.manual_seed(11)
    rng_before = torch.get_rng_state()
    for regime in ("fp32", "bf16_cl"):
        seconds = probe.time_eager(regime)
        assert seconds is not None and seconds > 0
    after = model.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert all(parameter.grad is None for parameter in model.parameters())


def test_probe_compiles_and_still_restores_the_model(monkeypatch):
    monkeypatch.setattr(step_module, "COMPILE_BACKEND", "eager")  # dynamo without inductor's C++ build
    model = small_model()
    before = {name: value.clone() for name, value in model.state_dict().items()}
    compiled = real_probe(model).compile("fp32")
    assert compiled.base == "fp32" and compiled.step_s > 0 and compiled.overhead_s >= 0
    assert all(torch.equal(before[name], value) for name, value in model.state_dict().items())
    logits, aux = compiled.forward(torch.randn(8, 3, 6, 6))  # usable for the training that follows
    assert logits.shape == (8, 2) and aux == []


def separable_data() -> ImageDataset:
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (96,), generator=generator)
    images = torch.randint(0, 60, (96, 3, 6, 6), generator=generator).to(torch.uint8)
    images[labels == 1, :, :3] = 220
    return ImageDataset("halves", images[:64], labels[:64], images[64:], labels[64:], 2, (0.3,) * 3, (0.3,) * 3)


def test_train_in_bf16_channels_last_runs_on_cpu():
    result = train(small_model(), separable_data(), ProxySettings(epochs=1, batch_size=16, regime="bf16_cl"))
    assert isinstance(result, ProxyResult), result
    assert result.regime == "bf16_cl" and result.regime_note == "bf16_cl: requested"


def test_train_compiled_runs_the_compiled_forward(monkeypatch):
    monkeypatch.setattr(step_module, "COMPILE_BACKEND", "eager")
    result = train(small_model(), separable_data(), ProxySettings(epochs=1, batch_size=16, regime="compiled"))
    assert isinstance(result, ProxyResult), result
    assert result.regime == "compiled:fp32"


def test_train_falls_back_silently_when_the_compiler_fails(monkeypatch):
    def broken_backend(graph_module, example_inputs):
        raise RuntimeError("no working compiler on this machine")

    monkeypatch.setattr(step_module, "COMPILE_BACKEND", broken_backend)
    result = train(small_model(), separable_data(), ProxySettings(epochs=1, batch_size=16, regime="compiled"))
    assert isinstance(result, ProxyResult), result
    assert result.regime == "fp32"
    assert result.regime_note is not None and "compile failed" in result.regime_note
    assert "no working compiler" in result.regime_note


def test_the_regime_cache_file_gets_the_usual_mode_not_0600(tmp_path):
    import os
    import stat

    cache = RegimeCache(tmp_path / "regimes.json")
    cache.put("some-net", RegimeTimings(fp32_step_s=0.02, bf16_cl_step_s=0.01))
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "regimes.json").stat().st_mode) == 0o666 & ~umask
    assert RegimeCache(tmp_path / "regimes.json").get("some-net") is not None
