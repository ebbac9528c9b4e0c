"""The report's figures, drawn with matplotlib (Agg) and saved as PNG files in ``plots/``."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: reports are written on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from search.report.data import RunData  # noqa: E402
from search.report.labels import Label, place_labels  # noqa: E402
from search.run.pareto import pareto_indices  # noqa: E402

DPI = 110
# How each state is drawn: found nets in colour, nets that were never scored in grey and red at the bottom.
STYLES = {
    "complete": dict(marker="o", color="tab:blue", alpha=0.7, label="feasible trial"),
    "infeasible": dict(marker="x", color="tab:gray", alpha=0.8, label="infeasible (over a limit)"),
    "pruned": dict(marker="s", color="tab:orange", alpha=0.5, label="pruned (stopped early, partial training)"),
    "failed": dict(marker="v", color="tab:red", alpha=0.8, label="failed"),
}
TOP_IMPORTANCES = 20  # bars per importance panel
ZOOM_MARGIN = 1.25  # factor of latency (log axis) around the front and the known nets in the zoomed view
AXES = {"latency_ms": "measured latency (ms)", "macs": "MACs", "params": "parameters"}


def _save(figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return path


def tradeoff(data: RunData, x: str, path: Path, zoom: bool = False) -> Path:
    """Quality against ``x`` for every trial, the front as a line, the budget, the known nets by name.

    Latency and sizes span orders of magnitude, so every axis is logarithmic.  ``zoom``
    narrows the view to the front and the known nets (trials outside it are cut off).
    """
    figure, axes = plt.subplots(figsize=(7.5, 4.8), dpi=DPI)
    _draw_trials(axes, data, x)
    labels = _draw_front(axes, data, x) + _draw_known_nets(axes, data, x)
    if x == "latency_ms" and data.config.budget_ms is not None:
        axes.axvline(data.config.budget_ms, color="black", ls="--", lw=1, label=f"budget {data.config.budget_ms:g} ms")
    limit = {"macs": data.config.max_macs, "params": data.config.max_params}.get(x)
    if limit:
        axes.axvline(limit, color="black", ls="--", lw=1, label=f"limit {limit:,}")
    axes.set_xscale("log")
    if zoom:
        _zoom_on_front(axes, data, x)
    axes.set_xlabel(AXES[x] + " (log scale)")
    axes.set_ylabel(f"proxy {data.objective}")
    axes.set_title(f"{data.objective} vs {AXES[x]}" + (", zoomed on the front" if zoom else ""))
    axes.grid(alpha=0.3, which="both")
    if axes.get_legend_handles_labels()[0]:  # a run with nothing to draw has no legend
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: never over a point or label
    place_labels(axes, labels)
    return _save(figure, path)


def _draw_trials(axes, data: RunData, x: str) -> None:
    trials, floor = data.trials, _floor(data)
    for state, style in STYLES.items():
        rows = trials[(trials["state"] == state) & trials[x].notna()]
        if len(rows):
            axes.scatter(rows[x], rows["objective"].fillna(floor), s=28, **style)  # unscored nets sit on the floor


def _draw_front(axes, data: RunData, x: str) -> list[Label]:
    """The delivered front on the latency panel; on a size panel, that panel's own front over the trials.

    The delivered front is chosen on latency: drawn over MACs it is no front at all
    (a member can have more MACs and less accuracy than another), so each size panel
    draws the trials no other trial beats on both quality and that size.
    """
    if x == "latency_ms":
        front, name = data.front[data.front[x].notna()], "Pareto front (delivered)"
    else:
        front, name = panel_front(data.trials, x), f"Pareto front over {AXES[x]} (this panel)"
    if front.empty:
        return []
    front = front.sort_values(x)
    axes.step(front[x], front["objective"], where="post", color="tab:green", lw=1.5, zorder=3)
    axes.scatter(front[x], front["objective"], marker="*", s=140, color="tab:green", zorder=4, label=name)
    return [Label(row[x], row["objective"], f"#{int(row['number'])}", style=dict(fontsize=7)) for _, row in front.iterrows()]


def panel_front(trials: pd.DataFrame, x: str) -> pd.DataFrame:
    """Scored, feasible trials that no other beats on both quality (up) and ``x`` (down)."""
    scored = trials[(trials["state"] == "complete") & trials["objective"].notna() & trials[x].notna()]
    kept = pareto_indices(list(zip(scored["objective"].astype(float), scored[x].astype(float))))
    return scored.iloc[kept]


def _draw_known_nets(axes, data: RunData, x: str) -> list[Label]:
    known = data.baselines[data.baselines[x].notna()]
    if known.empty:
        return []
    quality = known["objective"].fillna(_floor(data))
    axes.scatter(known[x], quality, marker="D", s=50, color="tab:orange", zorder=4, label="known nets")
    return [Label(x_value, y_value, str(name), gid=f"known-net-label-{index}", style=dict(fontsize=8, color="tab:orange"))
            for index, (x_value, y_value, name) in enumerate(zip(known[x], quality, known["baseline"]))]


def zoom_box(data: RunData, x: str) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The zoomed view: x around the front, the known nets and the budget; y over every scored net in that x range."""
    xs = pd.concat([data.front[x], data.baselines[x]]).dropna()
    if x == "latency_ms" and data.config.budget_ms is not None:
        xs = pd.concat([xs, pd.Series([data.config.budget_ms])])
    if xs.empty:
        return None
    x0, x1 = float(xs.min()) / ZOOM_MARGIN, float(xs.max()) * ZOOM_MARGIN
    known = data.baselines.assign(objective=data.baselines["objective"].fillna(_floor(data)))  # drawn on the floor
    nets = pd.concat([data.front, known, data.trials[data.trials[x].between(x0, x1)]])
    ys = nets["objective"].dropna()
    if ys.empty:
        return None
    pad = max(0.1 * float(ys.max() - ys.min()), 0.02)
    return (x0, x1), (float(ys.min()) - pad, float(ys.max()) + 2 * pad)  # more room above: labels go up first


def _zoom_on_front(axes, data: RunData, x: str) -> None:
    box = zoom_box(data, x)
    if box is not None:
        axes.set_xlim(*box[0])
        axes.set_ylim(*box[1])


def outside_zoom(data: RunData, x: str) -> int:
    """How many trials the zoomed view cuts off (the caption says so)."""
    box = zoom_box(data, x)
    if box is None:
        return 0
    (x0, x1), (y0, y1) = box
    shown = data.trials[data.trials[x].notna()]
    quality = shown["objective"].fillna(_floor(data))
    return int((~shown[x].between(x0, x1) | ~quality.between(y0, y1)).sum())


def hypervolume_curve(numbers: list[int], values: list[float], reference: tuple[float, float], objective: str, path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(7.5, 3.6))
    axes.step(numbers, values, where="post", color="tab:purple")
    axes.scatter(numbers, values, s=12, color="tab:purple")
    axes.set_xlabel("trial number")
    axes.set_ylabel(f"hypervolume ({objective} x ms)")
    axes.set_title(f"hypervolume of the front (reference: {objective} {reference[0]:g}, {reference[1]:g} ms)")
    axes.grid(alpha=0.3)
    return _save(figure, path)


def knob_distributions(data: RunData, knobs: list[str], path: Path) -> Path | None:
    """One panel per knob in ``knobs`` (the page passes the dozen that matter most): the quality of
    each scored trial at the knob's value, and the mean per value."""
    scored = data.trials[data.trials["objective"].notna()]
    if not knobs:
        return None
    columns = min(4, len(knobs))
    rows = math.ceil(len(knobs) / columns)
    figure, grid = plt.subplots(rows, columns, figsize=(3.3 * columns, 2.5 * rows), squeeze=False)
    figure.subplots_adjust(hspace=0.95, wspace=0.3, top=1 - 0.55 / (2.5 * rows))
    for axes, knob in zip(grid.flat, knobs):
        values = scored[[knob, "objective"]].dropna()
        labels = sorted({_label(v) for v in values[knob]}, key=_sort_key)
        position = {label: index for index, label in enumerate(labels)}
        x = [position[_label(v)] for v in values[knob]]
        axes.scatter(x, values["objective"], s=12, color="tab:blue", alpha=0.6)
        means = values.groupby(values[knob].map(_label))["objective"].mean()
        axes.scatter([position[label] for label in means.index], means.values, marker="_", s=200, color="tab:red")
        axes.set_xticks(range(len(labels)), labels, rotation=30, fontsize=8)
        axes.set_xlim(-0.6, max(len(labels) - 0.4, 0.6))
        axes.set_title(knob.removeprefix("param_"), fontsize=9)
        axes.tick_params(axis="y", labelsize=8)
    for axes in list(grid.flat)[len(knobs):]:
        axes.axis("off")
    figure.suptitle(f"proxy {data.objective} over each knob's values (red: mean)", fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI)
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
    values = {t: dict(sorted(v.items(), key=lambda kv: -kv[1])[:TOP_IMPORTANCES]) for t, v in values.items()}
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


def _label(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sort_key(label: str):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)
