"""``search run``: a hardware-aware search, written to a run folder."""

from __future__ import annotations

from typing import Any

import click

from search.api import RUN_UNITS
from search.commands.options import config_options
from search.run.config import RunConfig

EXAMPLES = """\b
Examples:
  search run --budget 50ms --device cpu
  search run --budget 20ms --device cuda --space mobilenet --dataset cifar10 --data-root ~/data --trials 200
  search run --budget 0.05s --max-params 5M --searcher nsga2 --name small-nets
  search run --name small-nets --resume          continue an interrupted run
  search run --space my_space.yaml --proxy synflow --trials 500
"""


@click.command(epilog=EXAMPLES)
@config_options(RunConfig, RUN_UNITS)
@click.option("--resume", is_flag=True, help="Continue the run --name.")
@click.option("--overwrite", is_flag=True, help="Replace an existing run folder --name.")
@click.option("--quiet", is_flag=True, help="No progress bar or summary.")
@click.option("--verbose", is_flag=True, help="One line per finished trial and per step, even on a terminal "
              "(the default when the output is not a terminal).")
def run(**options: Any) -> None:
    """Search the space for nets that fit the budget; write the run folder and its Pareto front."""
    from search.run.api import run_from_options

    run_from_options(options)
