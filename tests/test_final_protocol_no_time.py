"""Which front members leave when the final protocol's deadline leaves some, or all, of them untrained."""

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
