"""``search report``: a run folder's report.html, plots and terminal summary."""

from __future__ import annotations

import click

EXAMPLES = """\b
Examples:
  search report results/my-run        writes results/my-run/report.html and results/my-run/plots/*.png
"""


@click.command(epilog=EXAMPLES)
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--quiet", is_flag=True, help="No summary on the terminal.")
def report(run_dir: str, quiet: bool) -> None:
    """Write the run's report (the net to pick for the budget, the Pareto front, trade-offs, convergence, the knobs that
    matter most) and print its summary. A damaged trials.csv or pareto.csv is refused before anything is written."""
    from search.report import load_run, summary_of, write_report

    path = write_report(run_dir)
    if not quiet:
        click.echo(summary_of(load_run(run_dir)))
    click.echo(f"report: {path}")
