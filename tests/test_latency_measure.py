"""measure() and measure_module(): the protocol as seen from outside, arguments, devices, threads."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from evaluators.devices import DeviceError, device_name
from evaluators.latency import InputBatch, TimingProtocol, measure, measure_module
from tests.latency_support import FAST, FAST_PROTOCOL, RecordingModule


@pytest.fixture
def single_thread():
    """Start each test from one torch thread and give the process its own count back."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_more_work_measures_slower():
    # Same layer type and resolution, 64x the multiply-adds (8x the channels
    # in and out).  Even with per-call overhead dominating the light conv, the
    # heavy one is many times slower; 2x leaves a wide margin for noise.
    light = nn.Conv2d(4, 4, 3, padding=1)
    heavy = nn.Conv2d(32, 32, 3, padding=1)
    protocol = dataclasses.replace(FAST_PROTOCOL, min_time_s=0.05, min_runs=10)
    light_ms = measure(light, resolution=32, threads=1, batch=InputBatch(channels=4), protocol=protocol).median_ms
    heavy_ms = measure(heavy, resolution=32, threads=1, batch=InputBatch(channels=32), protocol=protocol).median_ms
    assert heavy_ms > 2 * light_ms


def test_statistics_describe_the_samples():
    result = measure(RecordingModule(), resolution=16, protocol=dataclasses.replace(FAST_PROTOCOL, min_runs=15))
    assert result.runs >= 15
    assert result.min_ms <= result.median_ms <= result.max_ms
    assert result.min_ms <= result.mean_ms <= result.max_ms
    assert 0 <= result.spread_ms <= result.max_ms - result.min_ms
    assert result.cached is False


def test_forward_count_is_warmup_plus_timed_runs():
    module = RecordingModule()
    result = measure(module, resolution=8, protocol=dataclasses.replace(FAST_PROTOCOL, warmup_runs=4, min_runs=9))
    assert result.warmup_runs >= 4
    assert result.runs >= 9
    assert module.calls == result.warmup_runs + result.runs + result.retimed_runs


def test_max_runs_caps_timed_runs_before_min_time_is_reached():
    module = RecordingModule()
    result = measure(module, resolution=8, protocol=dataclasses.replace(FAST_PROTOCOL, min_time_s=60.0, min_runs=2, max_runs=6))
    assert result.runs == 6
    assert module.calls == result.warmup_runs + 6 + result.retimed_runs


def test_input_geometry_and_metadata_are_recorded():
    module = RecordingModule(in_channels=1)
    result = measure(module, resolution=10, batch=InputBatch(size=2, channels=1), **FAST)
    assert set(module.input_shapes) == {(2, 1, 10, 10)}
    assert result.input_shape == (2, 1, 10, 10)
    assert (result.batch_size, result.resolution) == (2, 10)
    assert result.device == device_name("cpu")
    assert result.dtype == "float32"
    assert result.torch_version == torch.__version__


def test_measure_module_times_a_block_on_any_input_shape():
    block = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, groups=16), nn.ReLU())
    square = measure_module(block, (1, 16, 8, 8), protocol=FAST_PROTOCOL)
    assert square.input_shape == (1, 16, 8, 8)
    assert square.resolution == 8
    wide = measure_module(block, (1, 16, 4, 8), protocol=FAST_PROTOCOL)
    assert wide.resolution is None  # not a square image: no single resolution


def test_forward_runs_in_eval_and_inference_mode_and_flags_are_restored():
    module = RecordingModule()
    module.train()
    module.conv.eval()  # a deliberately mixed state the caller set up
    measure(module, resolution=8, **FAST)
    assert module.calls > 0
    assert not any(module.training_flags)
    assert all(module.inference_mode_flags)
    assert module.training is True
    assert module.conv.training is False


def test_a_module_in_another_dtype_is_measured_on_a_copy():
    module = RecordingModule()
    result = measure(module, resolution=8, batch=InputBatch(dtype=torch.float64), **FAST)
    assert result.dtype == "float64"
    assert module.conv.weight.dtype == torch.float32  # the caller's module was not converted
    assert module.calls == 0  # forward ran on the converted copy


def test_threads_are_pinned_recorded_and_restored(single_thread):
    module = RecordingModule()
    result = measure(module, resolution=8, threads=2, **FAST)
    assert set(module.thread_counts) == {2}
    assert result.threads == 2
    assert torch.get_num_threads() == 1


def test_default_thread_count_is_the_current_one(single_thread):
    module = RecordingModule()
    result = measure(module, resolution=8, **FAST)
    assert result.threads == 1
    assert set(module.thread_counts) == {1}


def test_threads_and_modes_are_restored_when_forward_raises(single_thread):
    module = RecordingModule(fail=True)
    module.train()
    with pytest.raises(RuntimeError, match="on purpose"):
        measure(module, resolution=8, threads=2, **FAST)
    assert module.thread_counts == [2]
    assert torch.get_num_threads() == 1
    assert module.training is True


@pytest.mark.parametrize("device", ["tpu", "cpu:0", "cuda:x", ""])
def test_unknown_device_fails_before_any_forward(device):
    module = RecordingModule()
    with pytest.raises(DeviceError):
        measure(module, device=device, resolution=8, **FAST)
    assert module.calls == 0


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:3"])
def test_absent_cuda_fails_before_any_forward(device, monkeypatch):
    # Simulated, so that the test means the same on a machine that has a GPU.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    module = RecordingModule()
    with pytest.raises(DeviceError, match="not available"):
        measure(module, device=device, resolution=8, **FAST)
    assert module.calls == 0


def test_module_without_resolution_is_rejected():
    module = RecordingModule()
    with pytest.raises(ValueError, match="resolution is required"):
        measure(module, **FAST)
    assert module.calls == 0


def _bad_call(where: str, arguments: dict) -> dict:
    """measure()'s keywords with ``arguments`` given to ``where``: the call itself, its InputBatch or its TimingProtocol."""
    if where == "batch":
        return {"resolution": 8, "batch": InputBatch(**arguments), **FAST}
    if where == "protocol":
        return {"resolution": 8, "protocol": TimingProtocol(**{**FAST_PROTOCOL.to_dict(), **arguments})}
    return {**FAST, "resolution": 8, **arguments}


@pytest.mark.parametrize(
    ("where", "arguments", "field", "shown"),
    [
        ("batch", {"size": 0}, "batch_size", "0"),
        ("batch", {"size": 1.5}, "batch_size", "1.5"),
        ("call", {"resolution": 0}, "resolution", "0"),
        ("call", {"threads": 0}, "threads", "0"),
        ("call", {"threads": True}, "threads", "True"),
        ("batch", {"channels": 0}, "in_channels", "0"),
        ("protocol", {"min_time_s": 0}, "min_time_s", "0"),
        ("protocol", {"min_time_s": -1.0}, "min_time_s", "-1.0"),
        ("protocol", {"min_time_s": float("nan")}, "min_time_s", "nan"),
        ("protocol", {"warmup_runs": -1}, "warmup_runs", "-1"),
        ("protocol", {"warmup_time_s": -0.5}, "warmup_time_s", "-0.5"),
        ("protocol", {"min_runs": 0}, "min_runs", "0"),
        ("protocol", {"min_runs": 5, "max_runs": 4}, "max_runs", "4"),
        ("batch", {"dtype": torch.int64}, "dtype", "torch.int64"),
        ("call", {"cache": ""}, "cache", "''"),
    ],
)
def test_bad_arguments_name_field_and_value(where, arguments, field, shown):
    module = RecordingModule()
    with pytest.raises(ValueError) as error:
        measure(module, **_bad_call(where, arguments))
    message = str(error.value)
    assert field in message and shown in message
    assert module.calls == 0


@pytest.mark.parametrize(
    ("input_shape", "field"),
    [((), "input_shape"), ((1, 0, 8, 8), "input_shape[1]"), ((1, 3, -2, 8), "input_shape[2]")],
)
def test_measure_module_rejects_bad_shapes(input_shape, field):
    module = RecordingModule()
    with pytest.raises(ValueError, match=field.replace("[", r"\[").replace("]", r"\]")):
        measure_module(module, input_shape)
    assert module.calls == 0


def test_neither_spec_nor_module_is_a_type_error():
    with pytest.raises(TypeError, match="spec_or_module"):
        measure("resnet50", resolution=8, **FAST)
