"""The report's figures, drawn with matplotlib (Agg) and saved as PNG files in ``plots/``."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: reports are written on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from search.report.data import RunData  # noqa: E402

DPI = 110
# How each state is drawn: found nets in colour, nets that were never scored in grey and red at the bottom.
STYLES = {
    "complete": dict(marker="o", color="tab:blue", alpha=0.7, label="feasible trial"),
    "infeasible": dict(marker="x", color="tab:gray", alpha=0.8, label="infeasible (over a limit)"),
    "failed": dict(marker="v", color="tab:red", alpha=0.8, label="failed"),
}
AXES = {"latency_ms": "measured latency (ms)", "macs": "MACs", "params": "parameters"}


def _save(figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return path


def tradeoff(data: RunData, x: str, path: Path) -> Path:
    """Quality against ``x`` for every trial, the front as a line, the budget, the baselines by name."""
    figure, axes = plt.subplots(figsize=(7.5, 4.8))
    trials, objective = data.trials, data.objective
    floor = _floor(data)
    for state, style in STYLES.items():
        rows = trials[(trials["state"] == state) & trials[x].notna()]
        if rows.empty:
            continue
        quality = rows["objective"].fillna(floor)  # unscored nets sit on the floor, still visible
        axes.scatter(rows[x], quality, s=28, **style)
    front = data.front[data.front[x].notna()].sort_values(x) if len(data.front) else data.front
    if len(front):
        axes.step(front[x], front["objective"], where="post", color="tab:green", lw=1.5, zorder=3)
        axes.scatter(front[x], front["objective"], marker="*", s=140, color="tab:green", zorder=4, label="Pareto front")
        for _, row in front.iterrows():
            axes.annotate(f"#{int(row['number'])}", (row[x], row["objective"]), xytext=(4, -10), textcoords="offset points", fontsize=7)
    baselines = data.baselines[data.baselines[x].notna()]
    if len(baselines):
        axes.scatter(baselines[x], baselines["objective"].fillna(floor), marker="D", s=50, color="tab:orange", zorder=4, label="known nets")
        for _, row in baselines.iterrows():
            value = row["objective"] if not _nan(row["objective"]) else floor
            axes.annotate(str(row["baseline"]), (row[x], value), xytext=(5, 4), textcoords="offset points", fontsize=8, color="tab:orange")
    if x == "latency_ms" and data.config.budget_ms is not None:
        axes.axvline(data.config.budget_ms, color="black", ls="--", lw=1, label=f"budget {data.config.budget_ms:g} ms")
    limit = {"macs": data.config.max_macs, "params": data.config.max_params}.get(x)
    if limit:
        axes.axvline(limit, color="black", ls="--", lw=1, label=f"limit {limit:,}")
    if x != "latency_ms":
        axes.set_xscale("log")
    axes.set_xlabel(AXES[x])
    axes.set_ylabel(f"proxy {objective}")
    axes.set_title(f"{objective} vs {AXES[x]}")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="best")
    return _save(figure, path)


def hypervolume_curve(numbers: list[int], values: list[float], reference: tuple[float, float], objective: str, path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(7.5, 3.6))
    axes.step(numbers, values, where="post", color="tab:purple")
    axes.scatter(numbers, values, s=12, color="tab:purple")
    axes.set_xlabel("trial number")
    axes.set_ylabel(f"hypervolume ({objective} x ms)")
    axes.set_title(f"hypervolume of the front (reference: {objective} {reference[0]:g}, {reference[1]:g} ms)")
    axes.grid(alpha=0.3)
    return _save(figure, path)


def knob_distributions(data: RunData, path: Path) -> Path | None:
    """One small panel per knob: the quality of each scored trial at its value, and the mean per value.

    Spaces have dozens of knobs, so the panels are plain strip plots on a fixed
    grid (no box plots, no tight layout): drawing stays fast however many there are.
    """
    scored = data.trials[data.trials["objective"].notna()]
    knobs = varied_knobs(data)
    if not knobs:
        return None
    columns = min(5, len(knobs))
    rows = math.ceil(len(knobs) / columns)
    figure, grid = plt.subplots(rows, columns, figsize=(2.8 * columns, 1.9 * rows), squeeze=False)
    figure.subplots_adjust(hspace=0.9, wspace=0.35, top=1 - 0.5 / (1.9 * rows))
    for axes, knob in zip(grid.flat, knobs):
        values = scored[[knob, "objective"]].dropna()
        labels = sorted({_label(v) for v in values[knob]}, key=_sort_key)
        position = {label: index for index, label in enumerate(labels)}
        x = [position[_label(v)] for v in values[knob]]
        axes.scatter(x, values["objective"], s=9, color="tab:blue", alpha=0.6)
        means = values.groupby(values[knob].map(_label))["objective"].mean()
        axes.scatter([position[label] for label in means.index], means.values, marker="_", s=160, color="tab:red")
        axes.set_xticks(range(len(labels)), labels, rotation=45, fontsize=6)
        axes.set_xlim(-0.6, max(len(labels) - 0.4, 0.6))
        axes.set_title(knob.removeprefix("param_"), fontsize=7)
        axes.tick_params(axis="y", labelsize=6)
    for axes in list(grid.flat)[len(knobs):]:
        axes.axis("off")
    figure.suptitle(f"proxy {data.objective} over each knob's values (red: mean)", fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=72)
    plt.close(figure)
    return path


def varied_knobs(data: RunData) -> list[str]:
    """Knobs that took at least two values among the scored trials (one value says nothing)."""
    scored = data.trials[data.trials["objective"].notna()]
    return [k for k in data.knobs if scored[k].dropna().map(_label).nunique() >= 2]


def importances(values: dict[str, dict[str, float]], path: Path) -> Path | None:
    """Horizontal bars of optuna's parameter importances, one panel per target."""
    targets = [t for t, v in values.items() if v]
    if not targets:
        return None
    height = max(2.5, 0.25 * max(len(values[t]) for t in targets))
    figure, grid = plt.subplots(1, len(targets), figsize=(5.5 * len(targets), height), squeeze=False)
    for axes, target in zip(grid.flat, targets):
        items = sorted(values[target].items(), key=lambda kv: kv[1])
        axes.barh([k for k, _ in items], [v for _, v in items], color="tab:cyan")
        axes.set_title(f"importance for {target}", fontsize=9)
        axes.tick_params(labelsize=7)
    figure.tight_layout()
    return _save(figure, path)


def _floor(data: RunData) -> float:
    scored = pd.concat([data.trials["objective"], data.baselines["objective"]]).dropna()
    return min(0.0, float(scored.min())) if len(scored) else 0.0


def _nan(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _label(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sort_key(label: str):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)
