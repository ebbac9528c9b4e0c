"""Which front members leave when the final protocol's deadline leaves some, or all, of them untrained, and how many seeds a net gets when not all fit."""

from __future__ import annotations

from search.run.closing import leave_untrained
from search.run.final_front import delivered_front
from search.run.final_protocol import label_of
from search.run.records import TrialRecord


def members(trained: set[int]) -> list[TrialRecord]:
    records = []
    for number, (accuracy, latency) in enumerate([(0.95, 5.0), (0.97, 10.0), (0.99, 20.0)]):
        record = TrialRecord(number=number, state="complete", accuracy=accuracy, latency_ms=latency, remeasured_latency_ms=latency)
        if number in trained:
            record.update(final_accuracy=accuracy - 0.01, final_ci_low=accuracy - 0.02, final_ci_high=accuracy, final_seeds=3)
        records.append(record)
    return records


def test_members_left_untrained_leave_when_others_were_trained() -> None:
    records, notes = members({1}), []
    leave_untrained(records, [label_of(records[0]), label_of(records[2])], lambda number, fields: notes.append(number))
    assert [record.left_front is not None for record in records] == [True, False, True] and notes == [0, 2]
    assert [record.number for record in delivered_front(records)] == [1]


def test_when_no_member_could_be_trained_the_proxy_front_is_delivered_not_an_empty_one() -> None:
    records, notes = members(set()), []
    leave_untrained(records, [label_of(record) for record in records], lambda number, fields: notes.append(number))
    assert all(record.left_front is None for record in records) and notes == []
    assert [record.number for record in delivered_front(records)] == [0, 1, 2]


def protocol_with_seconds_left(monkeypatch, tmp_path, seconds_left: float):
    """A final protocol with 3 seeds and ``seconds_left`` before its deadline, whose trainings are recorded, not run."""
    import time

    import torch

    import search.run.final_protocol as protocol
    from search.run.config import RunConfig
    from search.run.rundir import RunDir

    monkeypatch.setenv("CONVSPACE_CACHE", str(tmp_path / "cache"))
    trained: dict[str, list[int]] = {}

    def fake_seeds(spec, record, config, dataset, device, seeds=None):
        trained[label_of(record)] = list(seeds)
        return [protocol.SeedRun(seed, 0.9 + seed / 100, {"w": torch.zeros(1)}) for seed in seeds]

    monkeypatch.setattr(protocol, "train_seeds", fake_seeds)
    rundir = RunDir(tmp_path / "run")
    (rundir.path / protocol.FINAL_FOLDER).mkdir(parents=True, exist_ok=True)
    final = protocol.FinalProtocol(RunConfig(name="final", final_seeds=3), None, "cpu", rundir, time.monotonic() + seconds_left)
    return final, trained


def known_net(name: str, proxy_seconds: float) -> TrialRecord:
    from searchspace import encode, zoo

    spec = zoo.get(name, num_classes=10, in_channels=1, resolution=32)
    return TrialRecord.of({"state": "complete", "spec": encode(spec), "digest": spec.digest(), "proxy_resolution": 32,
                           "proxy_seconds": proxy_seconds, "accuracy": 0.9, "latency_ms": 5.0, "baseline": name})


def test_a_net_gets_as_many_seeds_as_fit_before_the_deadline_and_no_interval_from_one(monkeypatch, tmp_path) -> None:
    from search.run.final_protocol import FINAL_LENGTH_FACTOR

    # Each seed is estimated at proxy seconds x the length factor: 100 s here.  50 s fit none, 250 s two, 1000 s all three.
    for seconds_left, expected in [(50.0, []), (150.0, [0]), (250.0, [0, 1]), (1000.0, [0, 1, 2])]:
        final, trained = protocol_with_seconds_left(monkeypatch, tmp_path / str(seconds_left), seconds_left)
        record = known_net("mobilenet_v3_small", 100.0 / FINAL_LENGTH_FACTOR)
        skipped = final.run([], [record], lambda number, fields: None)
        assert trained.get("mobilenet_v3_small", []) == expected
        assert skipped == ([] if expected else ["mobilenet_v3_small"])
        assert record.final_seeds == (len(expected) or None)
        assert (record.final_ci_low is None) == (len(expected) < 2)


def test_a_known_net_trained_with_fewer_seeds_is_not_cached_as_the_full_protocols_figure(monkeypatch, tmp_path) -> None:
    from search.run.final_protocol import FINAL_LENGTH_FACTOR

    final, trained = protocol_with_seconds_left(monkeypatch, tmp_path, 150.0)
    final.run([], [known_net("mobilenet_v3_small", 100.0 / FINAL_LENGTH_FACTOR)], lambda number, fields: None)
    assert trained == {"mobilenet_v3_small": [0]}
    # A later run with time for the full protocol trains it again with every seed, instead of reusing one seed's figure.
    again, trained_again = protocol_with_seconds_left(monkeypatch, tmp_path, 1000.0)
    record = known_net("mobilenet_v3_small", 100.0 / FINAL_LENGTH_FACTOR)
    again.run([], [record], lambda number, fields: None)
    assert trained_again == {"mobilenet_v3_small": [0, 1, 2]} and record.final_seeds == 3
