"""``search run``: a hardware-aware search, written to a run folder."""

from __future__ import annotations

from typing import Any

import click

EXAMPLES = """\b
Examples:
  search run --budget 50ms --device cpu
  search run --budget 20ms --device cuda --space mobilenet --dataset cifar10 --data-root ~/data --trials 200
  search run --budget 0.05s --max-params 5M --searcher nsga2 --name small-nets
  search run --name small-nets --resume          continue an interrupted run
  search run --space my_space.yaml --proxy synflow --trials 500
"""


@click.command(epilog=EXAMPLES)
@click.option("--budget", help="Latency limit at batch 1 on --device: 50ms, 0.05s, or 50 (milliseconds).")
@click.option("--device", help="Where latency is measured: cpu, cuda, cuda:N.  [default: cpu]")
@click.option("--space", help="Built-in space name or a YAML/JSON space file (see `search spaces`).  [default: unified]")
@click.option("--searcher", type=click.Choice(["tpe", "nsga2", "random", "evolution"]), help="[default: tpe]")
@click.option("--trials", type=int, help="Search trials to run in total (baselines not counted).  [default: 30]")
@click.option("--time-limit", help="The whole run, final protocol included: 10m, 90s, 1h.  [default: 12m]")
@click.option("--seed", type=int, help="[default: 0]")
@click.option("--max-params", help="Parameter limit: 5M, 250k, ...")
@click.option("--max-macs", help="MAC limit: 300M, 1.2G, ...")
@click.option("--dataset", help="digits, shapes, cifar10, cifar100, mnist, fashionmnist, fake, imagefolder:PATH.  [default: digits]")
@click.option("--dataset-option", "dataset_options", multiple=True, metavar="KEY=VALUE",
              help="Dataset option, repeatable: limit=5000 (CIFAR, MNIST, imagefolder), size=2000 (shapes), ...")
@click.option("--data-root", type=click.Path(file_okay=False), help="Folder with dataset files.")
@click.option("--download", is_flag=True, default=None, help="Allow downloading the dataset if it is missing.")
@click.option("--resolution", type=int, help="Deployment resolution used for latency.  [default: 224]")
@click.option("--proxy", help="training, or a training-free score: synflow, naswot, grad_norm, snip, params, macs.  [default: training]")
@click.option("--proxy-epochs", type=int, help="Epochs of proxy training.  [default: 4]")
@click.option("--proxy-batch-size", type=int, help="Batch size of proxy training.  [default: 128]")
@click.option("--proxy-resolution", type=int, help="Resolution the proxy trains at.  [default: the dataset's; 32 for digits]")
@click.option("--train-device", help="Where proxies train.  [default: cuda if available, else cpu]")
@click.option("--threads", type=int, help="CPU threads for latency.  [default: torch's default]")
@click.option("--no-baselines", "baselines", flag_value=False, default=None, help="Do not evaluate the known nets.")
@click.option("--baseline", "baseline_names", multiple=True,
              help="Compare against only this zoo net (repeatable); +NAME adds one to the default set.  "
                   "[default: every zoo net of the space's families that fits the budget]")
@click.option("--final-seeds", type=int, help="Seeds of the final protocol (>= 3); 0 turns it off.  [default: 3]")
@click.option("--name", help="Run name (the folder under --out).  [default: a timestamp]")
@click.option("--out", type=click.Path(file_okay=False), help="Where run folders go.  [default: results]")
@click.option("--resume", is_flag=True, help="Continue the run --name.")
@click.option("--overwrite", is_flag=True, help="Replace an existing run folder --name.")
@click.option("--storage", help="Optuna storage URL (e.g. postgresql://...) instead of SQLite in the run folder.")
@click.option("--backend", type=click.Choice(["optuna", "ray"]), help="[default: optuna]")
@click.option("--workers", type=int, help="Parallel trials (--backend ray).")
@click.option("--ray-address", help="Ray cluster: auto or HOST:PORT (--backend ray).")
@click.option("--cpus-per-trial", type=float, help="(--backend ray)  [default: 1]")
@click.option("--gpus-per-trial", type=float, help="Fractions share a GPU (--backend ray).  [default: 0]")
@click.option("--scheduler", type=click.Choice(["fifo", "asha"]), help="asha: stop poor trainings early (--backend ray).")
@click.option("--quiet", is_flag=True, help="No progress bar or summary.")
def run(**options: Any) -> None:
    """Search the space for nets that fit the budget; write the run folder and its Pareto front."""
    from search.run.api import run_from_options

    run_from_options(options)
