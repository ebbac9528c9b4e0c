"""The Python API: ``search.run(...)`` and ``search.explore(...)``, the commands as functions.

    import search

    result = search.run(budget="50ms", device="cpu", trials=30)
    result.front                       # the Pareto front, a DataFrame (pareto.csv)
    model = result.create_model(result.front.number.iloc[0])

Each keyword is a field of the command's configuration (:class:`RunConfig`,
:class:`ExploreConfig`), with the command line's names and units for the few
that have units (``budget="50ms"``, ``time_limit="10m"``, ``max_params="5M"``,
``macs="360M:400M"``).  Defaults, validation and execution are the commands'
own; a keyword left out takes the configuration's default, which the
functions' signatures show.  Results read back what the run folder holds, so
``RunResult.load(path)`` gives the same object for any finished run.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evaluators import validate
from search.errors import UserError, option_error
from search.explore.config import ExploreConfig, count_range, latency_range
from search.quantities import parse_allowance_s, parse_count, parse_duration_s, parse_latency_ms
from search.run.config import RunConfig

# Keywords that say where the folder goes and how to treat it, not what to search.
FOLDER_KEYWORDS = {"resume": False, "overwrite": False, "quiet": False}


@dataclass(frozen=True)
class Keyword:
    """A keyword whose value has units: its configuration field and the parser the command line uses."""

    field: str
    parse: Callable[[Any, str], Any]
    annotation: str


def _range_parser(parse_range: Callable[[str, str], Any]) -> Callable[[Any, str], tuple]:
    def parse(value: Any, option: str) -> tuple:
        if isinstance(value, (tuple, list)):  # (low, high), None for an open end
            low, high = value
            value = f"{'' if low is None else low}:{'' if high is None else high}"
        return tuple(parse_range(value, option).to_list())

    return parse


# The keywords with units, by their command-line names; the commands parse their options with these too.
RUN_UNITS = {
    "budget": Keyword("budget_ms", parse_latency_ms, "str | float | None"),
    "time_limit": Keyword("time_limit_s", parse_duration_s, "str | float | None"),
    "known_nets_time": Keyword("known_nets_time_s", parse_allowance_s, "str | float"),
    "max_params": Keyword("max_params", parse_count, "str | int | None"),
    "max_macs": Keyword("max_macs", parse_count, "str | int | None"),
}
EXPLORE_UNITS = {
    "macs": Keyword("macs", _range_parser(count_range), "str | tuple | None"),
    "params": Keyword("params", _range_parser(count_range), "str | tuple | None"),
    "latency": Keyword("latency_ms", _range_parser(latency_range), "str | tuple | None"),
}
# Fields the functions do not take: stored bookkeeping, not settings.
_INTERNAL = {"extra", "command"}


def _config_fields(config_class: type, units: Mapping[str, Keyword]) -> dict[str, dataclasses.Field]:
    """Keyword name -> configuration field (keywords with units under their command-line name)."""
    by_field = {unit.field: name for name, unit in units.items()}
    return {by_field.get(f.name, f.name): f for f in dataclasses.fields(config_class) if f.name not in _INTERNAL}


def _signature(config_class: type, units: Mapping[str, Keyword], result: str) -> inspect.Signature:
    """Keyword-only parameters with the configuration's own defaults, so help() shows them and nothing repeats them."""
    parameters = []
    for keyword, f in _config_fields(config_class, units).items():
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None if keyword == "name" else inspect.Parameter.empty  # no name: a timestamp
        annotation = units[keyword].annotation if keyword in units else f.type
        parameters.append(inspect.Parameter(keyword, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
    parameters += [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v, annotation="bool") for k, v in FOLDER_KEYWORDS.items()]
    return inspect.Signature(parameters, return_annotation=result)


def _settings(function: str, config_class: type, units: Mapping[str, Keyword], given: Mapping[str, Any]) -> dict[str, Any]:
    """Configuration fields from keywords: names checked, quantities parsed; the configuration validates the rest."""
    fields = _config_fields(config_class, units)
    settings = {}
    for keyword, value in given.items():
        if keyword not in fields:
            close = difflib.get_close_matches(keyword, [*fields, *FOLDER_KEYWORDS], n=2)
            hint = f" (did you mean {' or '.join(close)}?)" if close else f" (allowed: {', '.join(fields)})"
            raise TypeError(f"{function}() got an unexpected keyword argument {keyword!r}{hint}")
        if keyword in units and value is not None:
            value = units[keyword].parse(value, keyword)
        settings[units[keyword].field if keyword in units else keyword] = value
    return settings


def _folder_options(given: dict[str, Any]) -> dict[str, Any]:
    options = {k: given.pop(k, default) for k, default in FOLDER_KEYWORDS.items()}
    for key, value in options.items():
        validate.flag(f"{key} =", value, fail=option_error)  # a keyword is shown as "quiet = 'yes'"
    return options


def _read_table(folder: Path, stem: str) -> pd.DataFrame:
    """A table the run wrote: parquet where there is one (typed columns), else CSV; empty if absent."""
    parquet, csv = folder / f"{stem}.parquet", folder / f"{stem}.csv"
    if parquet.is_file():
        return pd.read_parquet(parquet)
    if csv.is_file() and csv.stat().st_size:
        from search.run.records import read_csv_table

        return read_csv_table(csv)
    return pd.DataFrame()


@dataclass(frozen=True)
class RunResult:
    """A finished (or interrupted) ``search run``: what its run folder holds, as Python objects."""

    path: Path
    config: RunConfig
    trials: pd.DataFrame  # one row per search trial (trials.parquet), baselines left out
    front: pd.DataFrame  # the Pareto front on the final measurements (pareto.csv's members), a subset of the trials
    baselines: pd.DataFrame  # the known nets under the same proxy and protocol, one row each
    summary: str = ""  # what the command prints at the end (empty for a loaded folder)
    # Nets that were on the search-time front and left it after re-measurement, with ``left_front`` saying why.
    left_front: pd.DataFrame = field(default_factory=pd.DataFrame)

    @classmethod
    def load(cls, path: str | Path, summary: str = "") -> RunResult:
        """The result of the run in folder ``path`` (finished, interrupted or still going)."""
        from search.run.rundir import RunDir

        rundir = RunDir.at(str(path))
        every = _read_table(rundir.path, "trials")
        listed = _read_table(rundir.path, "pareto")
        members = listed["pareto"].astype(bool) if "pareto" in listed else pd.Series(True, index=listed.index)
        is_baseline = every["baseline"].notna() if "baseline" in every else pd.Series(False, index=every.index)
        return cls(
            path=rundir.path,
            config=rundir.read_config(),
            trials=every[~is_baseline].reset_index(drop=True),
            front=listed[members].reset_index(drop=True),
            baselines=every[is_baseline].reset_index(drop=True),
            summary=summary,
            left_front=listed[~members].reset_index(drop=True),
        )

    @property
    def files(self) -> dict[str, Path]:
        """The run folder's files that exist, by name (run.json, trials.csv, pareto.csv, report.html, ...)."""
        return {p.name: p for p in sorted(self.path.iterdir()) if p.is_file()}

    def spec(self, trial: int | str):
        """The NetSpec of a trial (by number) or of a baseline (by name)."""
        from searchspace import decode

        column, table = ("baseline", self.baselines) if isinstance(trial, str) else ("number", self.trials)
        rows = table[table[column] == trial] if column in table else table.iloc[0:0]
        if rows.empty:
            known = ", ".join(map(str, table[column].tolist())) if column in table else "none"
            raise UserError(f"trial = {trial!r} is not in {self.path} (trials: {known})")
        return decode(rows["spec"].iloc[0])

    def create_model(self, trial: int | str, **options: Any):
        """The trial's net as an ``nn.Module``; ``options`` as for :func:`searchspace.create_model`."""
        from searchspace import create_model

        return create_model(self.spec(trial), **options)


@dataclass(frozen=True)
class ExploreResult:
    """A finished ``search explore``: the scored samples, the per-space statistics and the verdicts."""

    path: Path
    config: ExploreConfig
    samples: pd.DataFrame  # one row per accepted net (samples.csv)
    summary: dict[str, Any]  # summary.json: per-space statistics and pairwise verdicts

    @classmethod
    def load(cls, path: str | Path) -> ExploreResult:
        from search.run.rundir import RunDir

        rundir = RunDir.at(str(path))
        data = rundir.read_run_file()
        summary_file = rundir.path / "summary.json"
        return cls(
            path=rundir.path,
            config=ExploreConfig.from_dict(data.get("config", {}), str(rundir.path)),
            samples=_read_table(rundir.path, "samples"),
            summary=json.loads(summary_file.read_text()) if summary_file.is_file() else {},
        )

    @property
    def verdicts(self) -> list[str]:
        """One line per pair of spaces, as the command prints them."""
        return [verdict["line"] for verdict in self.summary.get("verdicts", [])]


def run(**keywords: Any) -> RunResult:
    """Search a space for nets that fit the budget, as ``search run`` does; see the signature for every keyword."""
    from search.run.api import start_run

    folder = _folder_options(keywords)
    settings = _settings("run", RunConfig, RUN_UNITS, keywords)
    name = settings.pop("name", None)
    outcome = start_run(settings, name=name, **folder)
    return RunResult.load(outcome.rundir.path, summary=outcome.summary)


def explore(**keywords: Any) -> ExploreResult:
    """Compare design spaces by the error distributions of nets sampled from them, as ``search explore`` does."""
    from search.explore.api import start_exploration

    folder = _folder_options(keywords)
    if isinstance(keywords.get("spaces"), str):  # one space: a name, not a sequence of letters
        keywords["spaces"] = (keywords["spaces"],)
    elif keywords.get("spaces") is not None:
        keywords["spaces"] = tuple(keywords["spaces"])
    settings = _settings("explore", ExploreConfig, EXPLORE_UNITS, keywords)
    name = settings.pop("name", None)
    _, rundir = start_exploration(settings, name=name, **folder)
    return ExploreResult.load(rundir.path)


run.__signature__ = _signature(RunConfig, RUN_UNITS, "RunResult")  # type: ignore[attr-defined]
explore.__signature__ = _signature(ExploreConfig, EXPLORE_UNITS, "ExploreResult")  # type: ignore[attr-defined]
