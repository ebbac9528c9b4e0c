"""The search starts no trial it cannot finish before its deadline, and cuts one still training there, so the
final protocol keeps its time."""

from __future__ import annotations

from types import SimpleNamespace

import search.run.loop as loop
from search.run.evaluate import CandidateEvaluator
from search.run.loop import OptunaBackend, TrialPace
from search.run.records import TrialRecord


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now


class DeadlineEvaluator:
    """The evaluator's deadline handling alone: what a proxy training started now would stop at."""

    proxy_deadline = None
    trainings_end_by = CandidateEvaluator.trainings_end_by


class TimedSession:
    """A session whose every trial takes ``seconds`` of the fake clock; trials trained unless ``quick``."""

    def __init__(self, clock: FakeClock, deadline: float, seconds: list[float], quick: set[int]) -> None:
        self.clock_source, self.seconds, self.quick, self.ended = clock, seconds, quick, []
        self.config = SimpleNamespace(trials=100)
        self.study = SimpleNamespace(ask=lambda: SimpleNamespace(number=len(self.ended)))
        self.clock = SimpleNamespace(deadline=lambda phase: deadline)
        self.evaluator, self.training_deadlines = DeadlineEvaluator(), []

    def new_nets(self) -> int:
        return 0

    def evaluate(self, trial) -> TrialRecord:
        self.training_deadlines.append(self.evaluator.proxy_deadline)
        self.clock_source.now += self.seconds[trial.number % len(self.seconds)]
        self.ended.append(self.clock_source.now)
        return TrialRecord(state="infeasible") if trial.number in self.quick else TrialRecord(state="complete", accuracy=0.9)

    def tell(self, trial, record) -> None:
        pass


def search_session(monkeypatch, deadline: float, seconds: list[float], quick: set[int] = frozenset()) -> TimedSession:
    clock = FakeClock()
    monkeypatch.setattr(loop.time, "monotonic", clock.monotonic)
    session = TimedSession(clock, deadline, seconds, set(quick))
    OptunaBackend().search(session)
    return session


def run_search(monkeypatch, deadline: float, seconds: list[float], quick: set[int] = frozenset()) -> list[float]:
    return search_session(monkeypatch, deadline, seconds, quick).ended


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


def test_every_search_trial_trains_under_the_searchs_deadline_and_the_limit_ends_with_the_search(monkeypatch) -> None:
    # A trial that trains far slower than the median (a ViT took 5 min where CNNs took 12-30 s) is cut at
    # the deadline rather than running into the final protocol's time (the evaluator's own test shows the cut).
    session = search_session(monkeypatch, deadline=100.0, seconds=[30.0])
    assert session.training_deadlines == [100.0, 100.0, 100.0]
    assert session.evaluator.proxy_deadline is None  # later phases (re-measurement, final protocol) are not limited by it


def test_a_search_without_a_time_limit_leaves_trainings_unlimited(monkeypatch) -> None:
    session = TimedSession(FakeClock(), float("inf"), [30.0], set())
    session.config.trials = 3
    OptunaBackend().search(session)
    assert session.training_deadlines == [None, None, None]
