"""Measurements hold the device exclusively: they never overlap trainings or each other."""

from __future__ import annotations

import dataclasses
import threading
import time

from evaluators.devicelock import hold_device
from evaluators.latency import measure
from tests.latency_support import FAST, FAST_PROTOCOL, RecordingModule


def test_measurement_waits_for_a_running_training_to_release_the_device():
    training_running = threading.Event()
    released_at: list[float] = []

    def training() -> None:
        with hold_device("cpu", exclusive=False):
            training_running.set()
            time.sleep(0.3)  # long enough that a measurement ignoring the lock would start inside it
            released_at.append(time.perf_counter())

    trainer = threading.Thread(target=training)
    trainer.start()
    assert training_running.wait(timeout=30)
    module = RecordingModule()
    measure(module, resolution=8, **FAST)
    trainer.join()
    assert module.call_times[0] > released_at[0]


def test_training_started_during_a_measurement_waits_for_it_to_finish():
    acquired_at: list[float] = []
    trainer: list[threading.Thread] = []

    def training() -> None:
        with hold_device("cpu", exclusive=False):
            acquired_at.append(time.perf_counter())

    class StartsTrainingOnFirstCall(RecordingModule):
        def forward(self, x):
            if not trainer:
                trainer.append(threading.Thread(target=training))
                trainer[0].start()
            return super().forward(x)

    module = StartsTrainingOnFirstCall()
    # Long enough for the training thread to reach the lock while timing is still going on.
    measure(module, resolution=8, protocol=dataclasses.replace(FAST_PROTOCOL, min_time_s=0.3))
    trainer[0].join(timeout=30)
    assert acquired_at and acquired_at[0] > module.call_times[-1]


def test_a_long_wait_for_the_device_is_said_once_and_a_short_one_not_at_all(monkeypatch, caplog):
    import evaluators.devicelock as devicelock

    monkeypatch.setattr(devicelock, "WAIT_NOTICE_S", 0.1)
    holding, release = threading.Event(), threading.Event()

    def training() -> None:
        with hold_device("cpu", exclusive=False):
            holding.set()
            release.wait(timeout=30)

    trainer = threading.Thread(target=training)
    trainer.start()
    assert holding.wait(timeout=30)
    threading.Timer(1.0, release.set).start()  # ten notice periods: the notice must have fired by then
    with caplog.at_level("WARNING", logger="evaluators.devicelock"), hold_device("cpu", exclusive=True):
        pass
    trainer.join()
    waits = [r.getMessage() for r in caplog.records if "still waiting" in r.getMessage()]
    assert len(waits) == 1 and "a latency measurement waits for trainings" in waits[0] and "cpu.device.lock" in waits[0]
    caplog.clear()
    with caplog.at_level("WARNING", logger="evaluators.devicelock"), hold_device("cpu", exclusive=True):
        pass  # nobody holds it: no notice
    time.sleep(0.3)
    assert not caplog.records
