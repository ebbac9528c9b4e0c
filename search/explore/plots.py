"""The exploration's figures as PNG files (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from search.explore import statistics


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    _pyplot().close(figure)
    return path


def error_grid(errors: dict[str, np.ndarray]) -> np.ndarray:
    values = np.concatenate(list(errors.values()))
    low, high = values.min(), values.max()
    pad = 0.02 * (high - low or 1.0)
    return np.linspace(low - pad, high + pad, 200)


def edf_plot(path: Path, errors: dict[str, np.ndarray], metric: str, weights: dict[str, np.ndarray] | None = None,
             resamples: int = 1000, seed: int = 0) -> Path:
    """Each space's EDF with its bootstrap 95% band; weighted (normalized EDF) when weights are given."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    grid = error_grid(errors)
    for name, errs in errors.items():
        w = None if weights is None else weights[name]
        if w is not None and w.sum() == 0:
            continue
        curve = statistics.edf(errs, grid, w)
        low, high = statistics.edf_band(errs, grid, w, resamples=resamples, seed=seed)
        line, = axes.step(grid, curve, where="post", label=f"{name} (n={len(errs)})")
        axes.fill_between(grid, low, high, step="post", alpha=0.2, color=line.get_color())
    _wide_axis(axes, grid)
    axes.set_xlabel(metric)
    axes.set_ylabel("cumulative probability")
    axes.set_title("normalized error EDF (complexity matched), 95% bands" if weights else "error EDF, 95% bootstrap bands")
    axes.set_ylim(0, 1)
    _legend(axes)
    return _save(figure, path)


def _legend(axes) -> None:
    if axes.get_legend_handles_labels()[0]:
        axes.legend()
    else:  # e.g. a normalized EDF when the spaces share no complexity bin
        axes.text(0.5, 0.5, "nothing to show", ha="center", va="center", transform=axes.transAxes)


def _wide_axis(axes, values: np.ndarray) -> None:
    """Scores of training-free proxies (synflow) span orders of magnitude: a symmetric log axis shows them."""
    magnitude = np.abs(values[values != 0])
    if magnitude.size and magnitude.max() / max(magnitude.min(), 1e-300) > 1e3:
        axes.set_xscale("symlog", linthresh=float(np.quantile(magnitude, 0.05)))


def best_of_k_plot(path: Path, curves: dict[str, dict[int, float]], metric: str) -> Path:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    for name, curve in curves.items():
        axes.plot(list(curve), list(curve.values()), marker="o", label=name)
    axes.set_xscale("log", base=2)
    axes.set_xlabel("k nets drawn")
    axes.set_ylabel(f"expected best {metric}")
    axes.set_title("best of k")
    _legend(axes)
    return _save(figure, path)


def trend_plot(path: Path, knob: str, trends: dict[str, list[statistics.TrendBin]], metric: str) -> Path:
    """Median error per knob value with the interquartile range, one line per space that has the knob."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    numeric = all(b.center is not None for bins in trends.values() for b in bins)
    labels: list[str] = []
    for name, bins in trends.items():
        if numeric:
            x = [b.center for b in bins]
        else:
            for b in bins:
                if b.label not in labels:
                    labels.append(b.label)
            x = [labels.index(b.label) for b in bins]
        median = [b.median for b in bins]
        axes.errorbar(x, median, yerr=[[m - b.q25 for m, b in zip(median, bins)], [b.q75 - m for m, b in zip(median, bins)]],
                      marker="o", capsize=3, label=name)
    if not numeric:
        axes.set_xticks(range(len(labels)), labels)
    axes.set_xlabel(knob)
    axes.set_ylabel(f"{metric} (median, quartiles)")
    axes.set_title(f"design trend: {knob}")
    _legend(axes)
    return _save(figure, path)


def trend_file_name(knob: str) -> str:
    return "trend_" + re.sub(r"[^A-Za-z0-9_.-]", "_", knob) + ".png"


def all_plots(folder: Path, analysis: dict[str, Any], metric: str, seed: int) -> list[Path]:
    """Write every figure of an analysis (see report.analyse) and return their paths."""
    errors, weights = analysis["errors"], analysis["weights"]
    paths = [edf_plot(folder / "edf.png", errors, metric, seed=seed)]
    if len(errors) > 1:
        paths.append(edf_plot(folder / "edf_normalized.png", errors, metric, weights, seed=seed))
    paths.append(best_of_k_plot(folder / "best_of_k.png", analysis["best_of_k"], metric))
    for knob, trends in analysis["trends"].items():
        paths.append(trend_plot(folder / trend_file_name(knob), knob, trends, metric))
    return paths
