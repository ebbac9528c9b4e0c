"""The persistent latency cache: keys, hits without running the model, persistence, concurrency."""

from __future__ import annotations

import multiprocessing
import sqlite3
import sys
import threading
import types

import pytest
import torch

from evaluators.devicelock import hold_device
from evaluators.devices import device_name
from evaluators.latency import CacheKey, InputBatch, LatencyCache, LatencyResult, measure
from tests.latency_support import (
    FAST,
    FakeSpec,
    RecordingModule,
    build_fake,
    synthetic_result,
    write_entries,
)


@pytest.fixture
def fake_searchspace(monkeypatch):
    """A stand-in ``searchspace`` package whose build() records every spec it builds."""
    package = types.ModuleType("searchspace")
    package.build = build_fake
    monkeypatch.setitem(sys.modules, "searchspace", package)


def test_second_measure_of_a_key_is_a_hit_without_forward():
    module = RecordingModule()
    first = measure(module, resolution=8, threads=1, cache="tiny-conv", **FAST)
    calls_after_first = module.calls
    second = measure(module, resolution=8, threads=1, cache="tiny-conv", **FAST)
    assert (first.cached, second.cached) == (False, True)
    assert module.calls == calls_after_first
    assert second.median_ms == first.median_ms
    assert second.to_dict() == {**first.to_dict(), "cached": True}


@pytest.mark.parametrize(
    "changed",
    [{"threads": 2}, {"resolution": 10}, {"batch": InputBatch(size=2)}, {"batch": InputBatch(dtype=torch.float64)},
     {"cache": "other"}],
)
def test_a_changed_setting_is_a_new_measurement(changed):
    module = RecordingModule()
    base = {"resolution": 8, "threads": 1, "batch": InputBatch(size=1), "cache": "tiny-conv"}
    measure(module, **base, **FAST)
    calls_after_first = module.calls
    again = measure(module, **{**base, **changed}, **FAST)
    assert again.cached is False
    if "batch" not in changed or changed["batch"].dtype == torch.float32:  # another dtype runs on a converted copy, not on `module`
        assert module.calls > calls_after_first
    assert len(LatencyCache().entries()) == 2


def test_a_module_without_cache_key_is_never_cached():
    module = RecordingModule()
    results = [measure(module, resolution=8, **FAST) for _ in range(2)]
    assert [result.cached for result in results] == [False, False]
    assert LatencyCache().entries() == []


def test_use_cache_false_neither_reads_nor_writes():
    module = RecordingModule()
    stored = measure(module, resolution=8, cache="tiny-conv", **FAST)
    calls_after_first = module.calls
    fresh = measure(module, resolution=8, cache=False, **FAST)
    assert fresh.cached is False
    assert module.calls > calls_after_first
    assert [entry.measured_at for entry in LatencyCache().entries()] == [stored.measured_at]
    assert LatencyCache().entries()[0].median_ms == stored.median_ms


def test_a_spec_is_keyed_by_digest_and_built_only_on_a_miss(fake_searchspace):
    spec = FakeSpec(resolution=12, in_channels=2)
    first = measure(spec, **FAST)
    second = measure(spec, **FAST)
    assert len(spec.builds) == 1
    assert first.model_key == spec.digest()
    assert first.input_shape == (1, 2, 12, 12)  # resolution and channels come from the spec
    assert second.cached is True
    other_resolution = measure(spec, resolution=16, **FAST)
    assert other_resolution.cached is False and other_resolution.input_shape == (1, 2, 16, 16)
    assert len(spec.builds) == 2


def test_in_channels_contradicting_the_spec_is_rejected(fake_searchspace):
    spec = FakeSpec(in_channels=2)
    with pytest.raises(ValueError, match="in_channels=3"):
        measure(spec, batch=InputBatch(channels=3), **FAST)
    assert spec.builds == []


def test_measurements_persist_across_cache_instances(tmp_path):
    path = tmp_path / "elsewhere.sqlite"
    result = synthetic_result("net-a")
    LatencyCache(path).put(result)
    reopened = LatencyCache(path)
    assert reopened.get(CacheKey.of(result)) == LatencyResult.from_dict({**result.to_dict(), "cached": True})


def test_measure_writes_to_the_cache_in_the_cache_dir(tmp_path):
    result = measure(RecordingModule(), resolution=8, cache="tiny-conv", **FAST)
    stored = LatencyCache(tmp_path / "cache" / "latency.sqlite").get(CacheKey.of(result))
    assert stored is not None and stored.median_ms == result.median_ms


def test_entries_lists_all_or_one_device():
    cache = LatencyCache()
    cache.put(synthetic_result("net-a", device="cpu:first"))
    cache.put(synthetic_result("net-b", device="cpu:first"))
    cache.put(synthetic_result("net-a", device="cuda:second"))
    assert sorted(entry.model_key for entry in cache.entries(device="cpu:first")) == ["net-a", "net-b"]
    assert [entry.device for entry in cache.entries(device="cuda:second")] == ["cuda:second"]
    assert len(cache.entries()) == 3
    assert all(entry.cached for entry in cache.entries())


def test_a_miss_returns_none():
    key = CacheKey.of(synthetic_result("never-measured"))
    assert LatencyCache().get(key) is None


def test_a_result_without_model_key_cannot_be_stored():
    with pytest.raises(ValueError, match="cache_key"):
        LatencyCache().put(synthetic_result(None))


def test_result_dict_round_trip_ignores_unknown_and_requires_known_fields():
    result = synthetic_result("net-a")
    assert LatencyResult.from_dict(result.to_dict()) == result
    assert LatencyResult.from_dict({**result.to_dict(), "added_later": 1}) == result
    incomplete = result.to_dict()
    del incomplete["median_ms"]
    with pytest.raises(ValueError, match="median_ms"):
        LatencyResult.from_dict(incomplete)


def test_concurrent_writers_in_two_processes_lose_nothing(tmp_path):
    path = tmp_path / "shared.sqlite"
    ready = tmp_path / "ready"
    ready.mkdir()
    per_writer = 20
    # The other writer is a freshly spawned interpreter; this test process is
    # the first.  Both wait for each other before writing, so the writes overlap.
    other = multiprocessing.get_context("spawn").Process(
        target=write_entries, args=(str(path), "two", per_writer, str(ready))
    )
    other.start()
    try:
        write_entries(str(path), "one", per_writer, str(ready))
    finally:
        other.join(timeout=120)
    assert other.exitcode == 0

    keys = {entry.model_key for entry in LatencyCache(path).entries()}
    expected = {f"{name}-{index}" for name in ("one", "two") for index in range(per_writer)} | {"shared"}
    assert keys == expected
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_cache_hit_does_not_wait_for_the_device():
    module = RecordingModule()
    measure(module, resolution=8, threads=1, cache="tiny-conv", **FAST)
    training_running = threading.Event()
    training_may_end = threading.Event()

    def training() -> None:
        with hold_device("cpu", exclusive=False):
            training_running.set()
            training_may_end.wait(timeout=60)

    trainer = threading.Thread(target=training)
    trainer.start()
    try:
        assert training_running.wait(timeout=30)
        outcome: list[LatencyResult] = []
        lookup = threading.Thread(
            target=lambda: outcome.append(measure(module, resolution=8, threads=1, cache="tiny-conv", **FAST))
        )
        lookup.start()
        lookup.join(timeout=30)  # a lookup that took the device lock would still be waiting here
        assert not lookup.is_alive()
        assert outcome[0].cached is True
    finally:
        training_may_end.set()
        trainer.join()


def test_cache_key_names_the_measuring_hardware():
    result = measure(RecordingModule(), resolution=8, cache="tiny-conv", **FAST)
    assert CacheKey.of(result).device == device_name("cpu")
