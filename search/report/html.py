"""The report page: one self-contained HTML file (PNG figures inline as data URIs, no network)."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

from search.report.data import RunData, pretty_json
from search.report.recommend import RULE, Recommendation

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85em; max-width: 100%; } td, th { border: 1px solid #ddd; padding: 3px 6px; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; white-space: nowrap; } td { overflow-wrap: anywhere; }
code, pre { font-size: 0.85em; background: #f7f7f7; } pre { padding: 0.6em; white-space: pre-wrap; overflow-wrap: anywhere; }
td code { word-break: break-all; }
img { max-width: 100%; border: 1px solid #eee; } .figure svg { width: 100%; height: auto; } .note { color: #8a5a00; }
#recommendation { background: #eef7ee; border: 1px solid #9c9; padding: 0.2em 1em; } .rule { color: #555; font-size: 0.9em; }
"""


def image(path: Path, alt: str) -> str:
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<p><img src="data:image/png;base64,{encoded}" alt="{html.escape(alt)}"></p>'


def inline_svg(path: Path) -> str:
    """An SVG figure written into the page itself, so a browser (and its test) sees its text elements."""
    text = path.read_text(encoding="utf-8")
    return f'<div class="figure">{text[text.index("<svg"):]}</div>'


def build_line(spec: str) -> str:
    """The one line of Python that builds a net from its spec string."""
    return f"build(decode({spec!r}))"


def front_table(data: RunData) -> str:
    if data.front.empty:
        return '<p class="note">No net is on the front: no trial was feasible.</p>'
    head = ("#", "spec", "params", "MACs", "search latency (ms)", "re-measured (ms)", "spread (ms)", f"proxy {data.objective}",
            "final accuracy [95% CI]", "build it")
    rows = []
    for _, row in data.front.iterrows():
        busy = " (busy machine)" if str(row.get("latency_contended")) == "True" else ""  # NaN, numpy or Python bool
        cells = [
            f'<td class="num">{int(row["number"])}</td>', f"<td><code>{html.escape(str(row['spec']))}</code></td>",
            _number(row["params"], "{:,.0f}"), _number(row["macs"], "{:,.0f}"), _number(row["latency_ms"], "{:.3f}"),
            _number(row.get("remeasured_latency_ms"), "{:.3f}" + busy), _number(row.get("remeasured_spread_ms"), "{:.3f}"),
            _number(row["objective"], "{:.4f}"), _interval(row), f"<td><code>{html.escape(build_line(str(row['spec'])))}</code></td>",
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return (f'<table id="front"><tr>{header}</tr>{"".join(rows)}</table>'
            "<p>Imports for the last column: <code>from searchspace import build, decode</code>. "
            "Export one with <code>search export RUN_DIR --trial N --format pt|onnx|torchscript|python</code>.</p>")


def _interval(row) -> str:
    mean, low, high = (row.get(k) for k in ("final_accuracy", "final_ci_low", "final_ci_high"))
    if _missing(mean):
        return '<td class="num">-</td>'
    interval = "" if _missing(low) or _missing(high) else f" [{low:.4f}, {high:.4f}]"
    return f'<td class="num">{mean:.4f}{interval}</td>'


def left_table(data: RunData) -> str:
    """The nets that were on the search's front and left it, with the reason."""
    if data.left.empty:
        return '<p>No net left the front after re-measurement or the final protocol.</p>'
    rows = "".join(f'<tr><td class="num">{int(row["number"])}</td><td>{html.escape(str(row["left_front"]))}</td></tr>'
                   for _, row in data.left.iterrows())
    return f'<table id="left-front"><tr><th>#</th><th>why it left the front</th></tr>{rows}</table>'


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value, pattern: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return '<td class="num">-</td>'
    return f'<td class="num">{pattern.format(value)}</td>'


def environment_table(data: RunData) -> str:
    config, environment = data.config, data.run_file.get("environment", {})
    packages = environment.get("packages", {})
    facts = [
        ("latency device", environment.get("latency_device")), ("train device", environment.get("train_device")),
        ("latency threads", environment.get("latency_threads")), ("CPU count", environment.get("cpu_count")),
        ("seed", config.seed), ("dataset", config.dataset), ("space", config.space), ("searcher", config.searcher),
        ("budget", f"{config.budget_ms:g} ms" if config.budget_ms is not None else "none"),
        ("proxy", f"{config.proxy}, {config.proxy_epochs} epochs" if config.proxy == "training" else config.proxy),
        ("python", environment.get("python")), ("platform", environment.get("platform")),
        *((name, version) for name, version in sorted(packages.items())),
        ("started", data.run_file.get("started")),
    ]
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts)
    return f'<table id="environment">{rows}</table>'


def page(data: RunData, sections: list[tuple[str, str]], summary: str) -> str:
    title = f"Search run {data.config.name}"
    body = "".join(f"<h2>{html.escape(heading)}</h2>{content}" for heading, content in sections)
    trials = data.trials["state"].value_counts().to_dict()
    counts = ", ".join(f"{n} {state}" for state, n in sorted(trials.items()))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{STYLE}</style></head>
<body><h1>{html.escape(title)}</h1>
<p>{len(data.trials)} trials ({html.escape(counts)}), {len(data.baselines)} known nets, {len(data.front)} on the Pareto front.</p>
<pre id="summary">{html.escape(summary)}</pre>
{body}
<h2>Configuration (run.json)</h2><pre>{html.escape(pretty_json(data.run_file.get("config", {})))}</pre>
</body></html>
"""


def note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def recommendation_block(choice: Recommendation, objective: str) -> str:
    """The net to pick, its figures with the 95% interval, why, and the rule that chose it."""
    rule = f'<p class="rule">Rule: {html.escape(RULE)}</p>'
    if choice.number is None:
        return f'<div id="recommendation"><p><strong>No net to recommend</strong>: {html.escape(choice.reason)}.</p>{rule}</div>'
    return (f'<div id="recommendation"><p><strong>Pick {html.escape(choice.headline(objective))}</strong>.</p>'
            f"<p>Why: {html.escape(choice.reason)}.</p>"
            f"<p><code>{html.escape(build_line(choice.spec))}</code></p>{rule}</div>")
