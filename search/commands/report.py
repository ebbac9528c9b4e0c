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
    from search.report import load_run

    data = load_run(run_dir)  # torch-free: a missing or damaged run is refused before the page's imports
    from search.report import summary_of, write_report_of

    path = write_report_of(data)
    if not quiet:
        click.echo(summary_of(data))
    click.echo(f"report: {path}")
