"""From command-line options to a finished (or resumed) run."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import click

from search.api import RUN_UNITS
from search.errors import UserError
from search.run.claim import claimed_folder
from search.run.config import RunConfig, option_name
from search.run.inputs import prepare
from search.run.preflight import check_new_study, check_study
from search.run.rundir import RunDir
from search.run.recipe_check import check_same_recipe
from search.run.space_check import RUN_RECORD_KEY, check_same_space

if TYPE_CHECKING:
    from search.run.session import RunOutcome

# Everything above is torch-free: a command refused for bad input never imports torch (the search loop,
# search.run.loop, does; it is imported once the input has been checked).

_NOT_CONFIG = ("name", "resume", "overwrite", "quiet", "verbose")


def given_settings(options: dict[str, Any]) -> dict[str, Any]:
    """The configuration fields the user set explicitly, parsed into their units."""
    settings = {}
    for key, value in options.items():
        if value is None or key in _NOT_CONFIG:
            continue
        if key == "dataset_options":
            if value:
                settings[key] = _key_values(value, "--dataset-option")
            continue
        if key == "baseline_names":
            if value:
                settings[key] = tuple(value)
            continue
        if key in RUN_UNITS:
            unit = RUN_UNITS[key]
            settings[unit.field] = unit.parse(value, option_name(unit.field))
        else:
            settings[key] = value
    return settings


def _key_values(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    parsed = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise UserError(f"{option} {pair!r} is not understood (write KEY=VALUE, e.g. limit=5000)")
        parsed[key.strip()] = value.strip()
    return parsed


def check_resume_options(resume: bool, overwrite: bool, name: str | None, what: str) -> None:
    """The folder options of a command that writes a run folder (``what``: "run", "exploration")."""
    if resume and overwrite:
        raise UserError(f"--resume and --overwrite contradict each other: continue a {what}, or replace it")
    if resume and not name:
        raise UserError(f"--resume needs --name: which {what} should continue?")


def run_from_options(options: dict[str, Any]) -> RunOutcome:
    name, resume, overwrite, quiet, verbose = (options.get(k) for k in _NOT_CONFIG)
    outcome = start_run(given_settings(options), name=name, resume=bool(resume), overwrite=bool(overwrite), quiet=bool(quiet),
                        verbose=bool(verbose))
    if not quiet:
        click.echo(outcome.summary)
        click.echo(f"results: {outcome.rundir.path}")
    if outcome.clock is not None:
        from search.run.closing import check_searched

        check_searched(outcome, outcome.clock)  # no search trial ran: one line and exit code 3, after the summary
    return outcome


def start_run(settings: dict[str, Any], *, name: str | None, resume: bool, overwrite: bool, quiet: bool,
              verbose: bool = False) -> RunOutcome:
    """A new or resumed run from configuration fields (``settings``); the command line and ``search.run()`` both come here."""
    check_resume_options(resume, overwrite, name, "run")
    settings = dict(settings)
    out = settings.pop("out", RunConfig.out)
    if resume:
        stored = RunDir.open_existing(out, name)
        config = stored.read_config().resumed_with(settings)
        check_study(stored.storage_url(config), config.optuna_study)
    else:
        config = RunConfig(name=name or time.strftime("run-%Y%m%d-%H%M%S"), out=out, **settings)
        if config.storage:  # a shared database: the run folder being new says nothing about its studies
            check_new_study(config)
    prepared = prepare(config)  # bad devices, spaces, datasets and storage fail here, before any folder changes
    if resume:
        run_file = stored.read_run_file()
        check_same_space(run_file.get(RUN_RECORD_KEY), prepared.space_record)
        check_same_recipe(run_file)
    from search.run.loop import execute

    run_search = execute
    if config.backend == "ray":
        from search.run.ray_backend import execute_ray
        from search.run.ray_runtime import check_local_gpus

        check_local_gpus(config)
        run_search = execute_ray
    # A resumed run's folder is the one named now: run.json's name may be a copied folder's old one.
    with claimed_folder(out, name if resume else config.name, resume=resume, overwrite=overwrite) as rundir:
        return run_search(rundir, config, prepared, resumed=resume, quiet=quiet, verbose=verbose)
