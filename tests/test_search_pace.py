"""The search starts no trial it cannot finish before its deadline, so the final protocol keeps its time."""

from __future__ import annotations

from types import SimpleNamespace

import search.run.loop as loop
from search.run.loop import OptunaBackend, TrialPace
from search.run.records import TrialRecord


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now


class TimedSession:
    """A session whose every trial takes ``seconds`` of the fake clock; trials trained unless ``quick``."""

    def __init__(self, clock: FakeClock, deadline: float, seconds: list[float], quick: set[int]) -> None:
        self.clock_source, self.seconds, self.quick, self.ended = clock, seconds, quick, []
        self.config = SimpleNamespace(trials=100)
        self.study = SimpleNamespace(ask=lambda: SimpleNamespace(number=len(self.ended)))
        self.clock = SimpleNamespace(deadline=lambda phase: deadline)

    def new_nets(self) -> int:
        return 0

    def evaluate(self, trial) -> TrialRecord:
        self.clock_source.now += self.seconds[trial.number % len(self.seconds)]
        self.ended.append(self.clock_source.now)
        return TrialRecord(state="infeasible") if trial.number in self.quick else TrialRecord(state="complete", accuracy=0.9)

    def tell(self, trial, record) -> None:
        pass


def run_search(monkeypatch, deadline: float, seconds: list[float], quick: set[int] = frozenset()) -> list[float]:
    clock = FakeClock()
    monkeypatch.setattr(loop.time, "monotonic", clock.monotonic)
    session = TimedSession(clock, deadline, seconds, set(quick))
    OptunaBackend().search(session)
    return session.ended


def test_no_trial_starts_that_a_typical_trial_would_carry_past_the_deadline(monkeypatch) -> None:
    ended = run_search(monkeypatch, deadline=100.0, seconds=[30.0])
    assert ended == [30.0, 60.0, 90.0]  # a fourth would have started at 90 and ended at 120


def test_quick_trials_judged_before_training_do_not_shorten_the_estimate(monkeypatch) -> None:
    # Trials 1-3 are over budget and end in 2 s; a trained one takes 30 s.  Counting the quick ones,
    # the median would be 2 s, and trial 4, trained, would start at 36 s with 29 s left and end at 66.
    ended = run_search(monkeypatch, deadline=65.0, seconds=[30.0, 2.0, 2.0, 2.0, 30.0], quick={1, 2, 3})
    assert ended == [30.0, 32.0, 34.0, 36.0]


def test_the_first_trial_always_starts_and_the_estimate_is_the_median() -> None:
    pace = TrialPace()
    assert pace.fits(0.5)  # nothing known yet: the deadline alone decides
    for seconds in (30.0, 50.0, 40.0):
        pace.record(seconds, trained=True)
    pace.record(1.0, trained=False)
    assert pace.fits(40.0) and not pace.fits(39.9)
