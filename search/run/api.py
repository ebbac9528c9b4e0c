"""From command-line options to a finished (or resumed) run."""

from __future__ import annotations

import time
from typing import Any

import click

from search.errors import UserError
from search.quantities import parse_count, parse_duration_s, parse_latency_ms
from search.run.closing import check_searched
from search.run.config import RunConfig
from search.run.loop import RunOutcome, execute, prepare
from search.run.rundir import RunDir

_PARSERS = {
    "budget": ("budget_ms", lambda v: parse_latency_ms(v, "--budget")),
    "time_limit": ("time_limit_s", lambda v: parse_duration_s(v, "--time-limit")),
    "max_params": ("max_params", lambda v: parse_count(v, "--max-params")),
    "max_macs": ("max_macs", lambda v: parse_count(v, "--max-macs")),
}
_NOT_CONFIG = ("name", "resume", "overwrite", "quiet")


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
        field, parse = _PARSERS.get(key, (key, lambda v: v))
        settings[field] = parse(value)
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
    name, resume, overwrite, quiet = (options.get(k) for k in _NOT_CONFIG)
    check_resume_options(resume, overwrite, name, "run")
    settings = given_settings(options)
    out = settings.pop("out", "results")
    if resume:
        rundir = RunDir.open_existing(out, name)
        config = rundir.read_config().resumed_with(settings)
    else:
        config = RunConfig(name=name or time.strftime("run-%Y%m%d-%H%M%S"), out=out, **settings)
    prepared = prepare(config)  # bad devices, spaces and datasets fail here, before any folder changes
    run_search = execute
    if config.backend == "ray":
        from search.run.ray_backend import execute_ray
        from search.run.ray_runtime import check_local_gpus

        check_local_gpus(config)
        run_search = execute_ray
    if not resume:
        rundir = RunDir.create(out, config.name, overwrite=bool(overwrite))
    outcome = run_search(rundir, config, prepared, resumed=bool(resume), quiet=bool(quiet))
    if not quiet:
        click.echo(outcome.summary)
        click.echo(f"results: {rundir.path}")
    if outcome.clock is not None:
        check_searched(outcome, outcome.clock)
    return outcome
