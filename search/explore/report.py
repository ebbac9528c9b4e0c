"""From samples.csv rows to summary.json, the figures, explore.html and the terminal's verdict lines."""

from __future__ import annotations

import base64
import html
import itertools
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from search.explore import plots, statistics
from search.explore.config import ExploreConfig
from search.explore.folder import COMPLETE
from search.explore.sampling import Tally
from search.run.rundir import RunDir, write_atomic

BOOTSTRAP_RESAMPLES = 1000
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def analyse(rows: list[dict[str, Any]], config: ExploreConfig, labels: list[str]) -> dict[str, Any]:
    """Errors, normalization weights, best-of-k, knob trends and verdicts of the scored nets of each space."""
    done = {label: [r for r in rows if r["space"] == label and r["state"] == COMPLETE] for label in labels}
    scored = [label for label in labels if len(done[label]) > 0]
    errors = {label: np.array([float(r["error"]) for r in done[label]]) for label in scored}
    complexity_column = "macs" if config.macs is not None else "params"
    weights = {}
    if scored:
        computed = statistics.complexity_weights([[float(r[complexity_column]) for r in done[label]] for label in scored])
        weights = dict(zip(scored, computed))
    trends = knob_trends(done, scored)
    verdicts = [
        statistics.compare(a, errors[a], b, errors[b], (weights[a], weights[b]))
        for a, b in itertools.combinations(scored, 2) if len(errors[a]) > 1 and len(errors[b]) > 1
    ]
    return {"errors": errors, "weights": weights, "complexity": complexity_column, "trends": trends, "verdicts": verdicts,
            "best_of_k": {label: statistics.best_of_k_curve(errs) for label, errs in errors.items()}, "rows": done}


# A per-block knob (the `mobile` space's ``stage3.block2.mbconv.kernel``) has its trend pooled over every block that
# has it (``blocks.mbconv.kernel``): one position alone is asked of few nets, and a figure per position and kind
# would be hundreds of figures of noise.
_PER_BLOCK = re.compile(r"^knob_stage\d+\.block\d+\.")


def trend_name(column: str) -> str:
    return _PER_BLOCK.sub("blocks.", column).removeprefix("knob_")


def knob_trends(done: dict[str, list[dict[str, Any]]], scored: list[str]) -> dict[str, dict[str, list[statistics.TrendBin]]]:
    """Each knob's error per value, per space (per-block knobs pooled over their blocks)."""
    columns = sorted({key for label in scored for r in done[label] for key, v in r.items() if key.startswith("knob_") and v is not None})
    pooled: dict[str, list[str]] = {}
    for column in columns:
        pooled.setdefault(trend_name(column), []).append(column)
    trends: dict[str, dict[str, list[statistics.TrendBin]]] = {}
    for name, group in pooled.items():
        per_space = {}
        for label in scored:
            pairs = [(r.get(column), float(r["error"])) for column in group for r in done[label]]
            if any(value is not None for value, _ in pairs):
                per_space[label] = statistics.knob_trend([v for v, _ in pairs], [e for _, e in pairs])
        trends[name] = per_space
    return trends


def summary(analysis: dict[str, Any], config: ExploreConfig, labels: list[str], tallies: dict[str, Tally],
            rows: list[dict[str, Any]]) -> dict[str, Any]:
    spaces = {}
    for label in labels:
        errs = analysis["errors"].get(label, np.array([]))
        entry: dict[str, Any] = {
            "samples": sum(r["space"] == label for r in rows),
            "complete": len(errs),
            "failed": sum(r["space"] == label and r["state"] == "failed" for r in rows),
            "sampling": tallies[label].to_dict() if label in tallies else None,
        }
        if len(errs):
            best = analysis["rows"][label][int(np.argmin(errs))]
            entry.update(mean=float(errs.mean()), best={"error": float(errs.min()), "spec": best["spec"], "index": int(best["index"])},
                         quantiles={str(q): float(np.quantile(errs, q)) for q in QUANTILES},
                         best_of_k={str(k): v for k, v in analysis["best_of_k"][label].items()})
        spaces[label] = entry
    return {
        "metric": config.metric, "lower_is_better": True, "normalized_by": analysis["complexity"],
        "filter": {"macs": config.macs, "params": config.params, "latency_ms": config.latency_ms},
        "sampling": config.sampling, "spaces": spaces,
        "verdicts": [v.to_dict() for v in analysis["verdicts"]],
        "ks_note": "p_value: scipy.stats.ks_2samp on the raw EDFs; normalized_p_value: weighted KS on the complexity-"
                   "normalized EDFs, asymptotic, with effective sample sizes (sum w)^2 / sum w^2",
    }


def write_report(rundir: RunDir, rows: list[dict[str, Any]], config: ExploreConfig, labels: list[str],
                 tallies: dict[str, Tally]) -> dict[str, Any]:
    """summary.json, the PNGs and explore.html; returns the summary."""
    analysis = analyse(rows, config, labels)
    result = summary(analysis, config, labels, tallies, rows)
    write_atomic(rundir.path / "summary.json", json.dumps(result, indent=2, default=_plain) + "\n")
    figures = plots.all_plots(rundir.path, analysis, config.metric, config.seed) if analysis["errors"] else []
    write_atomic(rundir.path / "explore.html", page(result, figures))
    return result


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def page(result: dict[str, Any], figures: list[Path]) -> str:
    """A self-contained page: tables of the summary, the figures inline as base64 data URIs."""
    e = html.escape
    rows = []
    for label, s in result["spaces"].items():
        sampling = s.get("sampling") or {}
        q = s.get("quantiles", {})
        rows.append("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in (
            label, s["complete"], s["failed"], f"{sampling.get('acceptance_rate', 0):.3%}", _number(s.get("best", {}).get("error")),
            _number(q.get("0.25")), _number(q.get("0.5")), _number(q.get("0.75")), _number(s.get("mean")))) + "</tr>")
    verdicts = "".join(f"<li>{e(v['line'])}</li>" for v in result["verdicts"]) or "<li>one space: nothing to compare</li>"
    images = "".join(
        f'<figure><img alt="{e(f.stem)}" src="data:image/png;base64,{base64.b64encode(f.read_bytes()).decode()}">'
        f"<figcaption>{e(f.name)}</figcaption></figure>" for f in figures
    )
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>design-space exploration</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:auto}} td,th{{padding:2px 8px;text-align:right}}
figure{{display:inline-block;margin:4px}} img{{max-width:480px}}</style></head><body>
<h1>Design-space exploration</h1>
<p>Metric: {e(result['metric'])} (lower is better); normalized EDFs match the {e(result['normalized_by'])} distributions;
filter {e(json.dumps(result['filter']))}; sampling {e(result['sampling'])}.</p>
<h2>Verdicts</h2><ul>{verdicts}</ul><p><small>{e(result['ks_note'])}</small></p>
<h2>Spaces</h2><table><tr><th>space</th><th>scored</th><th>failed</th><th>acceptance</th><th>best</th><th>q25</th>
<th>median</th><th>q75</th><th>mean</th></tr>{''.join(rows)}</table>
<h2>Figures</h2>{images}
</body></html>
"""


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:.4g}"
