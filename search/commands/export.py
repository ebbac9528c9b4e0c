"""``search export``: a found net as weights, ONNX, TorchScript or standalone Python."""

from __future__ import annotations

import click

EXAMPLES = """\b
Examples:
  search export results/my-run --trial 12 --format onnx
  search export results/my-run --trial 12 --format python --out my_net.py
  search export results/my-run --trial 12 --format pt --train 20      train 20 epochs instead
  search export results/my-run --trial resnet18 --format pt           a baseline, by name
"""


@click.command(epilog=EXAMPLES)
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--trial", required=True, help="Trial number (see trials.csv / report.html), or a baseline's name.")
@click.option("--format", "fmt", required=True, help="pt (state dict + spec), onnx, torchscript, python.")
@click.option("--out", type=click.Path(dir_okay=False), help="File to write.  [default: RUN_DIR/exports/trialN.<ext>]")
@click.option("--train", "train_epochs", type=int, default=0,
              help="Train this many epochs with the proxy trainer instead of using the final protocol's weights.")
@click.option("--untrained", is_flag=True, help="The architecture alone, with random weights.")
def export(run_dir: str, trial: str, fmt: str, out: str | None, train_epochs: int, untrained: bool) -> None:
    """Write one net of a run, with its trained weights and preprocessing metadata, in a deployable format.

    The weights are the final protocol's (or --train's), trained at the resolution the file accepts.
    """
    from search.export import export_net

    path = export_net(run_dir, trial, fmt, out, train_epochs, untrained=untrained)
    click.echo(f"wrote {path}")
