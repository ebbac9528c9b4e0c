"""Known nets evaluated exactly like the candidates, so every run has its yardstick.

Each baseline is the zoo net at the run's deployment resolution with the
dataset's channels and classes, measured with the same latency protocol and
trained with the same proxy.  Baselines over the budget are still trained: how
accurate the over-budget ResNet-18 is, is part of the answer.  Results are
kept in ``baselines.json`` keyed by name and digest, so a resumed run does not
evaluate them again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from search.run.evaluate import CandidateEvaluator, adapt_to_run
from search.run.rundir import RunDir, write_atomic
from searchspace import SpecError, zoo

log = logging.getLogger("search")


def evaluate_baselines(
    names: tuple[str, ...], evaluator: CandidateEvaluator, rundir: RunDir, on_done: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    stored = _load(rundir)
    records = []
    for name in names:
        try:
            spec = adapt_to_run(zoo.get(name, resolution=evaluator.config.resolution), evaluator.dataset)
        except SpecError as error:
            log.warning("baseline %s cannot be used at this resolution: %s", name, error)
            continue
        key = f"{name}:{spec.digest()}"
        record = stored.get(key)
        if record is None:
            log.info("evaluating baseline %s", name)
            record = evaluator.evaluate(spec, train_when_infeasible=True)
            record["baseline"] = name
            stored[key] = record
            write_atomic(rundir.baselines_file, json.dumps(stored, indent=2) + "\n")
        records.append(record)
        if on_done is not None:
            on_done(record)
    return records


def _load(rundir: RunDir) -> dict[str, dict[str, Any]]:
    if not rundir.baselines_file.is_file():
        return {}
    try:
        return json.loads(rundir.baselines_file.read_text())
    except json.JSONDecodeError:
        log.warning("%s is unreadable; baselines will be evaluated again", rundir.baselines_file)
        return {}
