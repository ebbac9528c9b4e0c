"""The front a run delivers: chosen again on the final measurements, with a reason for every net that left.

During the search the front is chosen on search-time latencies and proxy
scores.  At the end each member is re-measured (:mod:`search.run.remeasure`)
and, with the final protocol, trained again with several seeds.  Either can
change the picture, so the front is chosen again on the final figures until
it is stable: a member over the budget or now beaten by another member leaves
the front, and ``left_front`` says why.  A trial that only joins the front
because a member left is re-measured too, so every delivered member holds
final figures.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from search.run.config import RunConfig
from search.run.pareto import pareto_indices
from search.run.records import TrialRecord
from searchspace import decode

if TYPE_CHECKING:
    from search.run.remeasure import Remeasured

log = logging.getLogger("search")

Record = TrialRecord
# Persists what the run learned about a trial (the study's annotations): (trial number, fields).
Note = Callable[[int, dict[str, Any]], None]


def final_latency(record: Record) -> float | None:
    """The re-measured latency when there is one, else the search-time one."""
    remeasured = record.remeasured_latency_ms
    return remeasured if remeasured is not None else record.latency_ms


def reported_accuracy(record: Record) -> float | None:
    """The accuracy an answer states: the final protocol's mean when there is one, else the proxy's (None for a
    training-free proxy, which has no accuracy)."""
    value = record.final_accuracy if record.final_accuracy is not None else record.accuracy
    return None if value is None or math.isnan(value) else float(value)


def final_quality(record: Record) -> float | None:
    """The final protocol's mean accuracy when there is one, else the proxy's figure."""
    final = record.final_accuracy
    return float(final) if final is not None else record.objective


def _running(records: list[Record]) -> list[Record]:
    return [r for r in records
            if r.state == "complete" and final_latency(r) is not None and r.objective is not None and not r.left_front]


def front_of(records: list[Record]) -> list[Record]:
    """The search's front: feasible trials still in the running, on proxy quality and final latency."""
    candidates = _running(records)
    points = [(r.objective, final_latency(r)) for r in candidates]
    return [candidates[i] for i in pareto_indices(points)]


def delivered_front(records: list[Record]) -> list[Record]:
    """The front a run delivers: once the final protocol has trained nets, chosen among those on its figures.

    Final and proxy accuracies come from recipes of different lengths and are
    never compared with each other.
    """
    finals = [r for r in _running(records) if r.final_accuracy is not None]
    if not finals:
        return front_of(records)
    points = [(final_quality(r), final_latency(r)) for r in finals]
    return [finals[i] for i in pareto_indices(points)]


def dominator(record: Record, front: list[Record]) -> Record | None:
    """A front member at least as good on both final figures and better on one, if any."""
    quality, latency = final_quality(record), final_latency(record)
    for other in front:
        q, lat = final_quality(other), final_latency(other)
        if q >= quality and lat <= latency and (q > quality or lat < latency):
            return other
    return None


def settle_front(records: list[Record], config: RunConfig, note: Note, *, stage: str = "re-measurement",
                 remeasured: dict[int, Remeasured] | None = None, deadline: float | None = None,
                 known: Sequence[Record] = ()) -> list[Record]:
    """Re-measure the front until every member holds final figures; return the front.

    Members that leave keep their reason in ``left_front`` (and through ``note``).
    ``remeasured`` collects each re-measurement by trial number, for the run's latency protocol file.
    Past ``deadline`` each member still gets one timing block, but no more (:func:`remeasure`).
    ``known``: the known nets the answer sets the front against.  Those that completed are timed in the
    first re-measurement's interleaved blocks, beside the members, so that every comparison sets figures
    of the same moments side by side: timed minutes apart, MobileNetV3-Small read 6.10 ms at the start
    of a run and its own copy 7.38 ms at the end, and the answer called the copy 1.2x slower.
    """
    checked: set[int] = set()
    companions = [record for record in known if record.state == "complete" and record.spec]
    while True:
        unmeasured = [r for r in front_of(records) if r.number not in checked and r.remeasured_latency_ms is None]
        if not unmeasured:
            break
        results = _remeasure(unmeasured, config, note, deadline, companions)
        companions = []
        if remeasured is not None:
            remeasured.update(results)
        checked.update(r.number for r in unmeasured)
    return mark_departures(records, front_of(records), stage, note)


def mark_departures(records: list[Record], front: list[Record], stage: str, note: Note) -> list[Record]:
    """Give every re-measured net that is no longer on ``front`` the member that now beats it."""
    on_front = {r.number for r in front}
    for record in records:
        if record.remeasured_latency_ms is None or record.number in on_front or record.left_front:
            continue
        if record.state != "complete" or final_quality(record) is None:
            continue
        winner = dominator(record, front)
        if winner is None:
            continue
        reason = (f"dominated after the {stage} by #{winner.number} "
                  f"({final_quality(winner):.4f} at {final_latency(winner):.2f} ms against "
                  f"{final_quality(record):.4f} at {final_latency(record):.2f} ms)")
        leave(record, reason, note)
    return front


def _remeasure(members: list[Record], config: RunConfig, note: Note, deadline: float | None,
               known: Sequence[Record] = ()) -> dict[int, Remeasured]:
    """Re-measure ``members`` and, in the same blocks, the ``known`` nets (keyed apart: a known net has no trial)."""
    from search.run.remeasure import remeasure

    specs: dict[Any, object] = {r.number: decode(r.spec) for r in members}
    specs.update({("known", r.baseline): decode(r.spec) for r in known})
    results = remeasure(specs, config.device, config.threads, config.runtime, deadline=deadline)
    for record in known:
        record.update(**_figures(results.pop(("known", record.baseline))))
    for record in members:
        result = results[record.number]
        figures = _figures(result)
        record.update(**figures)
        note(record.number, figures)
        if result.contended:
            log.warning("trial %d: the machine was busy during its re-measurement (%d blocks used); its latency is flagged",
                        record.number, result.blocks)
        if config.budget_ms is not None and result.latency_ms > config.budget_ms:
            leave(record, f"re-measured at {result.latency_ms:.2f} ms, over the {config.budget_ms:g} ms budget", note)
    return results


def _figures(result: Remeasured) -> dict[str, Any]:
    """A re-measurement as the record fields that hold it."""
    return {"remeasured_latency_ms": result.latency_ms, "remeasured_spread_ms": result.spread_ms,
            "latency_contended": result.contended}


def leave(record: Record, reason: str, note: Note) -> None:
    record.left_front = reason
    note(record.number, {"left_front": reason})
    log.warning("trial %d left the front: %s", record.number, reason)
