"""``search report``: the run folder as a page a person would rather look at than read.

``write_report(run_dir)`` writes ``report.html`` (self-contained) and the same
figures as PNG files under ``plots/``; ``summary(run_dir)`` is the short text
for the terminal.
"""

from __future__ import annotations

from pathlib import Path

from search.report import plots
from search.report.data import RunData, load_run, records
from search.report.html import environment_table, front_table, image, left_table, note, page
from search.report.hypervolume import history
from search.report.importance import param_importances
from search.run.rundir import write_atomic

__all__ = ["load_run", "summary", "write_report"]

REPORT_FILE = "report.html"
PLOTS_FOLDER = "plots"


def summary_of(data: RunData) -> str:
    """The front, and for each baseline the best found net at least as good and how much faster."""
    from search.run.outputs import summarize
    from search.run.phases import read_lines

    text = summarize(records(data.front), records(data.baselines), data.config, left=records(data.left))
    return "\n".join([text, *read_lines(data.rundir.path)])


def summary(run_dir: str | Path) -> str:
    return summary_of(load_run(run_dir))


def write_report(run_dir: str | Path) -> Path:
    """Write ``report.html`` and ``plots/*.png`` into the run folder; return the page's path."""
    data = load_run(run_dir)
    folder = data.rundir.path / PLOTS_FOLDER
    sections: list[tuple[str, str]] = []
    for axis, heading in (("latency_ms", "latency"), ("macs", "MACs"), ("params", "parameters")):
        path = plots.tradeoff(data, axis, folder / f"{data.objective}_vs_{axis.removesuffix('_ms')}.png")
        sections.append((f"Proxy {data.objective} vs {heading}", image(path, f"{data.objective} vs {heading}")))
    sections.insert(1, ("Pareto front", front_table(data)))
    sections.insert(2, ("Left the front", left_table(data)))
    numbers, values, reference = history(data.trials, data.config.budget_ms)
    path = plots.hypervolume_curve(numbers, values, reference, data.objective, folder / "hypervolume.png")
    reference_text = (f"Reference point: {data.objective} {reference[0]:g} and latency {reference[1]:g} ms "
                      + ("(the budget)." if data.config.budget_ms is not None else "(no budget: the slowest latency measured)."))
    sections.append(("Hypervolume of the front by trial", image(path, "hypervolume") + f"<p>{reference_text}</p>"))
    path = plots.knob_distributions(data, folder / "knobs.png")
    shown = len(plots.varied_knobs(data))
    caption = f"<p>{shown} of {len(data.knobs)} knobs took two or more values among the scored trials; the others are left out.</p>"
    sections.append(("Knobs", image(path, "knob distributions") + caption if path else note("no knob took two values among the scored trials")))
    importance, problem = param_importances(data)
    path = plots.importances(importance, folder / "importances.png") if importance else None
    sections.append(("Parameter importances (optuna, fANOVA)", image(path, "parameter importances") if path else note(problem or "none")))
    sections.append(("Environment", environment_table(data)))
    target = data.rundir.path / REPORT_FILE
    write_atomic(target, page(data, sections, summary_of(data)))
    return target
