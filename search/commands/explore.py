"""``search explore``: compare design spaces by the error distributions of nets sampled from them."""

from __future__ import annotations

from typing import Any

import click

from search.api import EXPLORE_UNITS
from search.commands.options import config_options
from search.explore.config import ExploreConfig

EXAMPLES = """\b
Examples:
  search explore --space anynetx_a --space anynetx_b --samples 100 --macs 360M:400M
  search explore --space anynetx_c --space regnetx --samples 50 --macs 200M:800M --proxy synflow
  search explore --space my_space.yaml --space resnet --params 1M:5M --latency :20ms --device cpu
  search explore --name study --resume          continue an interrupted exploration
"""


@click.command(epilog=EXAMPLES)
@config_options(ExploreConfig, EXPLORE_UNITS)
@click.option("--resume", is_flag=True, help="Continue the exploration --name (--samples may grow).")
@click.option("--overwrite", is_flag=True, help="Replace an existing folder --name.")
@click.option("--quiet", is_flag=True, help="No progress bar or verdicts.")
def explore(**options: Any) -> None:
    """Sample N nets per space under a complexity filter, score them, compare the spaces' error distributions."""
    from search.explore.api import explore_from_options

    explore_from_options(options)
