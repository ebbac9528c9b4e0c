"""The report page and its plots, and the terminal summary, of a run already read (``search.report.data``)."""

from __future__ import annotations

from pathlib import Path

from search.report import plots
from search.report.data import RunData, load_run, records
from search.report.html import (environment_table, front_table, image, inline_svg, left_table, note, page,
                                recommendation_block)
from search.report.hypervolume import history
from search.report.importance import param_importances, ranked_knobs
from search.report.recommend import recommend
from search.run.rundir import write_atomic

REPORT_FILE = "report.html"
PLOTS_FOLDER = "plots"
TOP_KNOBS = 12  # strip plots shown: beyond a dozen the panels are too small to read


def summary_of(data: RunData) -> str:
    """The front, and for each baseline the best found net at least as good and how much faster."""
    from search.run.outputs import summarize
    from search.run.phases import read_lines

    text = summarize(records(data.front), records(data.baselines), data.config, left=records(data.left))
    pick = f"Recommended (rule in report.html): {recommend(data).headline(data.objective)}"
    return "\n".join([text, pick, *read_lines(data.rundir.path)])


def summary(run_dir: str | Path) -> str:
    return summary_of(load_run(run_dir))


def write_report(run_dir: str | Path) -> Path:
    """Write ``report.html`` and ``plots/*`` into the run folder; return the page's path.

    The run folder is read (and a damaged one refused) before anything is written.
    """
    return write_report_of(load_run(run_dir))


def write_report_of(data: RunData) -> Path:
    """:func:`write_report` for a run already read."""
    folder = data.rundir.path / PLOTS_FOLDER
    importance, problem = param_importances(data)
    sections = [("Recommended net", recommendation_block(recommend(data), data.objective)),
                *tradeoff_sections(data, folder)]
    sections.insert(2, ("Pareto front", front_table(data)))
    sections.insert(3, ("Left the front", left_table(data)))
    sections.append(hypervolume_section(data, folder))
    sections.append(("Knobs", knobs_section(data, importance, folder)))
    path = plots.importances(importance, folder / "importances.png") if importance else None
    caption = f"<p>The {plots.TOP_IMPORTANCES} most important knobs per target are shown.</p>" if path else ""
    sections.append(("Parameter importances (optuna, fANOVA)", image(path, "parameter importances") + caption if path else note(problem or "none")))
    sections.append(("Environment", environment_table(data)))
    target = data.rundir.path / REPORT_FILE
    write_atomic(target, page(data, sections, summary_of(data)))
    return target


def tradeoff_sections(data: RunData, folder: Path) -> list[tuple[str, str]]:
    """The zoomed front (inline SVG, so its labels are page elements), then every trial on each axis."""
    objective = data.objective
    zoomed = plots.tradeoff(data, "latency_ms", folder / f"{objective}_vs_latency_front.svg", zoom=True)
    hidden = plots.outside_zoom(data, "latency_ms")
    sections = [(f"Proxy {objective} vs latency: the front", inline_svg(zoomed) + (
        f"<p>Log latency axis, zoomed on the front, the known nets and the budget: {hidden} of {len(data.trials)} "
        "trials lie outside this view; every trial is in the next figure. Points are proxy figures; the final "
        "protocol's means and intervals are in the front table.</p>"))]
    for axis, heading in (("latency_ms", "latency, all trials"), ("macs", "MACs"), ("params", "parameters")):
        path = plots.tradeoff(data, axis, folder / f"{objective}_vs_{axis.removesuffix('_ms')}.png")
        sections.append((f"Proxy {objective} vs {heading}", image(path, f"{objective} vs {heading}")))
    return sections


def hypervolume_section(data: RunData, folder: Path) -> tuple[str, str]:
    numbers, values, reference = history(data.trials, data.config.budget_ms)
    path = plots.hypervolume_curve(numbers, values, reference, data.objective, folder / "hypervolume.png")
    reference_text = (f"Reference point: {data.objective} {reference[0]:g} and latency {reference[1]:g} ms "
                      + ("(the budget)." if data.config.budget_ms is not None else "(no budget: the slowest latency measured)."))
    return "Hypervolume of the front by trial", image(path, "hypervolume") + f"<p>{reference_text}</p>"


def knobs_section(data: RunData, importance: dict[str, dict[str, float]], folder: Path) -> str:
    """Strip plots of the few knobs that matter most, and a sentence on what was left out."""
    varied = plots.varied_knobs(data)
    if not varied:
        return note("no knob took two values among the scored trials")
    ranked = ranked_knobs(varied, importance, data.objective)
    shown = ranked[:TOP_KNOBS]
    path = plots.knob_distributions(data, shown, folder / "knobs.png")
    order = (f"by fANOVA importance for {data.objective}" if importance.get(data.objective)
             else "in the space's order (no importances for this run)")
    caption = (f"<p>{len(shown)} of the {len(varied)} knobs that took two or more values among the scored trials are "
               f"shown, {order}; {len(varied) - len(shown)} are left out. {len(data.knobs) - len(varied)} of "
               f"{len(data.knobs)} knobs took a single value and are not shown.</p>")
    return image(path, "knob distributions") + caption
