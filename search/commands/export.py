"""``search export``: a found net as weights, ONNX, TorchScript or standalone Python."""

from __future__ import annotations

import click

EXAMPLES = """\b
Examples:
  search export results/my-run --trial 12 --format onnx
  search export results/my-run --trial 12 --format python --out my_net.py
  search export results/my-run --trial 12 --format pt --train 20      retrain 20 epochs first
  search export results/my-run --trial resnet18 --format pt           a baseline, by name
"""


@click.command(epilog=EXAMPLES)
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--trial", required=True, help="Trial number (see trials.csv / report.html), or a baseline's name.")
@click.option("--format", "fmt", required=True, help="pt (state dict + spec), onnx, torchscript, python.")
@click.option("--out", type=click.Path(dir_okay=False), help="File to write.  [default: RUN_DIR/exports/trialN.<ext>]")
@click.option("--train", "train_epochs", type=int, default=0, help="Retrain this many epochs with the proxy trainer first.")
def export(run_dir: str, trial: str, fmt: str, out: str | None, train_epochs: int) -> None:
    """Write one net of a run (its spec, built, optionally retrained) in a deployable format."""
    from search.export import export_net

    path = export_net(run_dir, trial, fmt, out, train_epochs)
    click.echo(f"wrote {path}")
