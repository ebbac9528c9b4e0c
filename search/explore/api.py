"""From command-line options to a finished (or resumed) exploration.

Everything that can fail on bad input - spaces, dataset, devices, a filter no
space can meet - fails before the run folder is created or changed, so a
mistake never damages earlier results.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from search.errors import UserError
from search.explore import folder
from search.api import EXPLORE_UNITS
from search.explore.config import ExploreConfig
from search.run.api import check_resume_options
from search.run.claim import claimed_folder, mark_started
from search.run.preflight import check_batch_size, check_latency_cache
from search.run.config import TRAINING_PROXY
from search.run.resources import checked_training_device, load_search_dataset, prescan_search_dataset
from search.run.stops import RunInterrupted
from search.run.progress import SearchProgress
from search.run.records import TrialRecord
from search.run.rundir import RunDir, environment
from search.run.recipe_check import check_same_recipe
from search.run.space_check import RUN_RECORD_KEY, check_same_space, space_record
from search.spaces.documents import check_space_file

if TYPE_CHECKING:  # sampling, scoring and the report import torch: they are imported after the inputs are checked
    from search.explore.sampling import Draw, Tally

log = logging.getLogger("search")

_NOT_CONFIG = ("name", "resume", "overwrite", "quiet")


def given_settings(options: dict[str, Any]) -> dict[str, Any]:
    """The configuration fields set on the command line, parsed into their units."""
    from search.run.api import _key_values

    settings: dict[str, Any] = {}
    for key, value in options.items():
        if value is None or key in _NOT_CONFIG or value == ():
            continue
        if key in EXPLORE_UNITS:
            unit = EXPLORE_UNITS[key]
            settings[unit.field] = unit.parse(value, "--" + key)
        elif key == "dataset_options":
            settings[key] = _key_values(value, "--dataset-option")
        elif key == "spaces":
            settings[key] = tuple(value)
        else:
            settings[key] = value
    return settings


@dataclass
class Prepared:
    labels: list[str]
    draws: dict[str, list[Draw]]
    tallies: dict[str, Tally]
    dataset: Any
    train_device: str
    space_records: dict[str, dict[str, Any]] = field(default_factory=dict)  # per label, stored in run.json


def prepare(config: ExploreConfig) -> Prepared:
    """Load spaces and data, and draw every net (cheap: no training) - all before any folder changes."""
    check_inputs_lightly(config)
    from evaluators.devices import resolve_device
    from search.explore.sampling import Sampler
    from search.spaces import SpaceContext, load_space

    spaces = [load_space(name) for name in config.spaces]
    labels = [space.name for space in spaces]
    if len(set(labels)) != len(labels):
        raise UserError(f"--space: two spaces share a name ({', '.join(labels)}); give each space file its own name")
    if config.latency_ms is not None:
        resolve_device(config.device)
    train_device = checked_training_device(config.train_device)
    if config.proxy != TRAINING_PROXY:
        from evaluators.zero_cost import methods

        if config.proxy not in methods():
            raise UserError(f"--proxy {config.proxy!r} is not known (allowed: training, {', '.join(methods())})")
    dataset = load_search_dataset(config)
    check_batch_size(config, len(dataset), dataset.name)
    if config.latency_ms is not None:
        check_latency_cache()
    context = SpaceContext(in_channels=dataset.in_channels, num_classes=dataset.num_classes, resolution=config.resolution)
    draws, tallies = {}, {}
    for space, label in zip(spaces, labels):
        draws[label], tallies[label] = Sampler(space, label, config, context).draw(config.samples)
    records = {label: space_record(space, source) for space, label, source in zip(spaces, labels, config.spaces)}
    return Prepared(labels, draws, tallies, dataset, train_device, records)


def check_inputs_lightly(config: ExploreConfig) -> None:
    """Torch-free and first: a hostile space file or dataset folder is refused in little memory."""
    for space in config.spaces:
        check_space_file(space)
    train_images = prescan_search_dataset(config)
    if train_images is not None:
        check_batch_size(config, train_images, config.dataset)


def check_same_spaces(stored: Any, current: dict[str, dict[str, Any]]) -> None:
    """A resumed exploration keeps its spaces: each one's content is compared with what the run started with."""
    if not isinstance(stored, dict):
        return  # an exploration from before this record
    for label, record in current.items():
        check_same_space(stored.get(label), record)


def merge(draws: dict[str, list[Draw]], previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """This run's rows: a net scored before keeps its row (matched by space, index and digest), the rest are pending."""
    earlier = {(r["space"], int(r["index"])): r for r in previous}
    rows = []
    for label, accepted in draws.items():
        for draw in accepted:
            row = draw.row()
            old = earlier.get((label, draw.index))
            if old is not None and old["digest"] == row["digest"] and old["state"] != folder.PENDING:
                rows.append(old)
            else:
                rows.append({**row, "error": None, "state": folder.PENDING, "reason": None, "seconds": None})
    return rows


def explore_from_options(options: dict[str, Any]) -> dict[str, Any]:
    name, resume, overwrite, quiet = (options.get(k) for k in _NOT_CONFIG)
    result, rundir = start_exploration(given_settings(options), name=name, resume=bool(resume), overwrite=bool(overwrite),
                                       quiet=bool(quiet))
    if not quiet:
        for verdict in result["verdicts"]:
            click.echo(verdict["line"])
        click.echo(f"results: {rundir.path}")
    return result


def start_exploration(settings: dict[str, Any], *, name: str | None, resume: bool, overwrite: bool,
                      quiet: bool) -> tuple[dict[str, Any], RunDir]:
    """A new or resumed exploration from configuration fields; the command line and ``search.explore()`` both come here."""
    check_resume_options(resume, overwrite, name, "exploration")
    settings = dict(settings)
    out = settings.pop("out", ExploreConfig.out)
    if resume:
        earlier, stored = folder.reopen(out, name)
        config = stored.resumed_with(settings)
    elif not settings.get("spaces"):
        raise UserError("explore needs at least one --space (a built-in space or a space file)")
    else:
        config = ExploreConfig(name=name or time.strftime("explore-%Y%m%d-%H%M%S"), out=out, **settings)
    prepared = prepare(config)
    if resume:
        run_file = earlier.read_run_file()
        check_same_spaces(run_file.get(RUN_RECORD_KEY), prepared.space_records)
        check_same_recipe(run_file)
    with claimed_folder(out, name if resume else config.name, resume=resume, overwrite=overwrite) as rundir:
        return _explore_in(rundir, config, prepared, resume=resume, quiet=quiet), rundir


def _explore_in(rundir: RunDir, config: ExploreConfig, prepared: Prepared, *, resume: bool, quiet: bool) -> dict[str, Any]:
    rundir.write_config(config, environment(config), space=prepared.space_records)
    rows = merge(prepared.draws, folder.read_samples(rundir) if resume else [])
    folder.write_samples(rundir, rows)
    mark_started(rundir)
    from search.explore.report import write_report
    from search.run.session import setup_logging

    setup_logging(rundir)
    log.info("%s exploration %s: spaces %s", "resumed" if resume else "new", rundir.path, ", ".join(prepared.labels))
    score_pending(rundir, rows, config, prepared, quiet=quiet)
    return write_report(rundir, rows, config, prepared.labels, prepared.tallies)


def score_pending(rundir: RunDir, rows: list[dict[str, Any]], config: ExploreConfig, prepared: Prepared, *, quiet: bool) -> None:
    """Score every pending row in order, rewriting samples.csv after each; Ctrl-C or SIGTERM stops cleanly."""
    from search.explore.scoring import score_draw
    from search.run.session import sigterm_as_interrupt

    draws = {(d.space, d.index): d for accepted in prepared.draws.values() for d in accepted}
    objective = "accuracy" if config.proxy == TRAINING_PROXY else config.proxy
    done = sum(r["state"] != folder.PENDING for r in rows)
    progress = SearchProgress(len(rows), objective, quiet=quiet, done=done, phase="explore")
    try:
        with sigterm_as_interrupt():
            for row in rows:
                if row["state"] != folder.PENDING:
                    continue
                row.update(score_draw(draws[(row["space"], int(row["index"]))], prepared.dataset, config, prepared.train_device))
                folder.write_samples(rundir, rows)
                log.info("%s #%d %s %s", row["space"], row["index"], row["state"], row["reason"] or row["error"])
                quality = None if row["error"] is None else (100.0 - row["error"] if objective == "accuracy" else -row["error"])
                progress.note(TrialRecord(state=row["state"], score=quality))
    except KeyboardInterrupt:
        log.warning("interrupted by the user")
        raise RunInterrupted(rundir) from None
    finally:
        progress.close()
