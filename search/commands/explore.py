"""``search explore``: compare design spaces by the error distributions of nets sampled from them."""

from __future__ import annotations

from typing import Any

import click

EXAMPLES = """\b
Examples:
  search explore --space anynetx_a --space anynetx_b --samples 100 --macs 360M:400M
  search explore --space anynetx_c --space regnetx --samples 50 --macs 200M:800M --proxy synflow
  search explore --space my_space.yaml --space resnet --params 1M:5M --latency :20ms --device cpu
  search explore --name study --resume          continue an interrupted exploration
"""


@click.command(epilog=EXAMPLES)
@click.option("--space", "spaces", multiple=True, help="A space to explore, repeatable: built-in name, anynetx_a..e, regnetx, or a space file.")
@click.option("--samples", type=int, help="Nets scored per space.  [default: 20]")
@click.option("--macs", help="Complexity filter LO:HI on MACs at --resolution: 360M:400M, :1G, 100M: .")
@click.option("--params", help="Complexity filter LO:HI on parameters: 1M:5M.")
@click.option("--latency", help="Latency filter LO:HI at batch 1 on --device (measured, cached): 5ms:20ms, :20ms.")
@click.option("--device", help="Where --latency is measured: cpu, cuda, cuda:N.  [default: cpu]")
@click.option("--threads", type=int, help="CPU threads for latency.  [default: torch's default]")
@click.option("--proxy", help="training (top-1 error), or a training-free score: synflow, naswot, grad_norm, snip.  [default: training]")
@click.option("--proxy-epochs", type=int, help="Epochs of proxy training.  [default: 1]")
@click.option("--proxy-batch-size", type=int, help="[default: 128]")
@click.option("--proxy-resolution", type=int, help="Resolution the proxy trains at.  [default: the dataset's; 32 for digits]")
@click.option("--train-device", help="Where proxies train.  [default: cuda if available, else cpu]")
@click.option("--dataset", help="digits, shapes, cifar10, ..., imagefolder:PATH.  [default: digits]")
@click.option("--dataset-option", "dataset_options", multiple=True, metavar="KEY=VALUE", help="Dataset option, repeatable.")
@click.option("--data-root", type=click.Path(file_okay=False), help="Folder with dataset files.")
@click.option("--download", is_flag=True, default=None, help="Allow downloading the dataset if it is missing.")
@click.option("--resolution", type=int, help="Deployment resolution: MACs and latency are taken at it.  [default: 224]")
@click.option("--seed", type=int, help="Seeds the draws (one stream per space) and the proxies.  [default: 0]")
@click.option("--sampling", type=click.Choice(["uniform", "space"]),
              help="uniform: rejection on non_decreasing constraints, as the papers; space: the space's own sampler.  [default: uniform]")
@click.option("--max-draws", type=int, help="Draws per space before giving up on the filter.  [default: 200000]")
@click.option("--name", help="Exploration name (the folder under --out).  [default: a timestamp]")
@click.option("--out", type=click.Path(file_okay=False), help="Where run folders go.  [default: results]")
@click.option("--resume", is_flag=True, help="Continue the exploration --name (--samples may grow).")
@click.option("--overwrite", is_flag=True, help="Replace an existing folder --name.")
@click.option("--quiet", is_flag=True, help="No progress bar or verdicts.")
def explore(**options: Any) -> None:
    """Sample N nets per space under a complexity filter, score them, compare the spaces' error distributions."""
    from search.explore.api import explore_from_options

    explore_from_options(options)
