"""The end of a run, the same for every backend: re-measure, final protocol, tables, accounting.

Order, and why: the front is re-measured first (cheap, and it decides who the
final protocol trains); the final protocol then trains the members and the
known nets; the front is chosen again on its figures; only then are the
tables, ``phases.json`` and the summary written, so every file shows the
same answer.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import optuna

from search.run.config import TRAINING_PROXY, RunConfig
from search.run.final_front import delivered_front, front_of, leave, mark_departures, settle_front
from search.run.phases import PhaseClock, names_text
from search.run.records import TrialRecord, annotate, study_records
from search.run.rundir import RunDir
from search.run.stops import NoSearchTrial

log = logging.getLogger("search")


@dataclass(frozen=True)
class Ending:
    """What the end of a run needs besides the study: where the final protocol trains, and on what."""

    dataset: Any
    train_device: str
    clock: PhaseClock


def close_run(study: optuna.Study, rundir: RunDir, config: RunConfig, outcome, ending: Ending, *, interrupted: bool) -> None:
    from search.run.baselines import store_baselines
    from search.run.latency_protocol import write_latency_protocol
    from search.run.outputs import write_tables

    records = study_records(study)

    def note(number: int, fields: dict[str, Any]) -> None:
        annotate(study, number, **fields)

    if not interrupted:
        remeasured: dict[int, Any] = {}
        final_on = bool(config.final_seeds) and config.proxy == TRAINING_PROXY
        with ending.clock.phase("re-measure"):
            settle_front(records, config, note, remeasured=remeasured, deadline=_remeasure_deadline(ending.clock, final_on),
                         known=outcome.baselines)
        write_latency_protocol(rundir, records, config, remeasured)
        if final_on:
            _final_protocol(records, rundir, config, outcome, ending, note)
        if outcome.baselines:  # once, with what the re-measurement and the final protocol added, for `search report`
            store_baselines(rundir, outcome.baselines)
    write_tables(rundir, records, outcome, config)
    ending.clock.write(rundir.path)
    outcome.summary = "\n".join([outcome.summary, *ending.clock.lines()])
    for line in ending.clock.lines():
        log.info("%s", line)


# The re-measurement's share of the time left before the final deadline, when the final protocol
# follows it: a busy machine once stretched the re-measurement to 2 min 46 s and left the final
# protocol no time at all.
REMEASURE_SHARE = 0.25


def _remeasure_deadline(clock, final_on: bool) -> float | None:
    left = clock.remaining("final")
    if left == float("inf"):
        return None
    share = REMEASURE_SHARE if final_on else 1.0
    return time.monotonic() + max(0.0, left) * share


def _final_protocol(records, rundir: RunDir, config: RunConfig, outcome, ending: Ending, note) -> None:
    from search.run.final_protocol import FinalProtocol, known_to_compare

    with ending.clock.phase("final protocol") as phase:
        members = front_of(records)
        compared, left_out = known_to_compare(outcome.baselines)
        for record in outcome.baselines:
            record.final_skipped = left_out.get(record.baseline)
        protocol = FinalProtocol(config, ending.dataset, ending.train_device, rundir, ending.clock.deadline("final"))
        skipped = protocol.run(members, compared, note)
        leave_untrained(members, skipped, note)
        if skipped:
            phase.limited = f"not trained: {names_text(skipped)}"
            log.warning("final protocol: the time limit left out %s", ", ".join(skipped))
        mark_departures(records, delivered_front(records), "final protocol", note)


def leave_untrained(members: list[TrialRecord], skipped: list[str], note) -> None:
    """Members the deadline left untrained leave the front, when others were trained: the delivered front
    is then chosen on final figures, which they lack.  When none was (a busy machine once left the final
    protocol 204 s against estimates above that, and the front came out empty), the proxy's front stands."""
    from search.run.final_protocol import label_of

    if not any(record.final_accuracy is not None for record in members):
        if skipped:
            log.warning("final protocol: no member could be trained in time; the front stands on its proxy scores (one run each)")
        return
    for record in members:
        if label_of(record) in skipped:
            leave(record, "the time limit left no time for its final training", note)


def searched_count(records: list[TrialRecord]) -> int:
    return sum(r.state in ("complete", "infeasible", "failed", "pruned") for r in records)


def check_searched(outcome, clock: PhaseClock) -> None:
    """Raise :class:`NoSearchTrial` when the run ends without one finished search trial."""
    if searched_count(outcome.trials):
        return
    ended = next((p for p in clock.phases if p.limited), None)
    why = f" ({ended.name} ended by the time limit: {ended.limited})" if ended else ""
    raise NoSearchTrial(f"no search trial ran{why}; results so far are in {outcome.rundir.path}; raise --time-limit "
                        "or continue with --resume")
