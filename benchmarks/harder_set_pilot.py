"""Harder-set pilot: which dataset makes the long-training reference spread nets over 20 points?

Issue 13 asks for a second fidelity dataset on which the reference accuracies
of the benchmark's nets spread over at least 20 points (digits spreads 6.4).
Training all 51 nets twice at ten times the default proxy's steps costs hours
of the two cores, so this pilot first trains five nets that span digits'
reference (its worst and best random nets, the weakest and the strongest known
net of the budget, and MobileNetV2) under each candidate dataset, once at the
reference length (:data:`~benchmarks.fidelity.variants.REFERENCE_LONG`) and
once under the default proxy of the time (``e4_b32_noaug``), and reports
the reference's spread, the proxy's accuracies beside it, and seconds per net.

Jobs are logged as they finish (``<--output-dir>/harder_set_pilot.jsonl``),
so an interrupted pilot resumes.  Candidates are ``DATASET[:KEY=VALUE,...]``::

    python -m benchmarks.harder_set_pilot
    python -m benchmarks.harder_set_pilot --candidate shapes:size=1500,difficulty=0.1 --candidate mnist5k
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks._common import RESULTS_DIR, add_output_arguments, environment, output_path, write_json
from benchmarks.fidelity.jobs import Job, read_log, run_all
from benchmarks.fidelity.variants import BY_NAME, REFERENCE_LONG

PILOT_PROXY = "e4_b32_noaug"  # the product's default proxy when the pilot ran (2026-12-02)
# Digits' reference order, low to high (results/benchmarks/proxy_fidelity_digits.json): its worst random
# net, its weakest known net (ShuffleNetV2 1.0), MobileNetV2, its best known net and its best random net.
PILOT_NETS = ("random-12", "shufflenet_v2_x1_0", "mobilenet_v2", "resnet18", "random-17")
# Shapes at the size of digits' training split, so the reference costs what digits' does; two nuisance levels.
CANDIDATES = ("shapes:size=1500,difficulty=0.0", "shapes:size=1500,difficulty=0.25")
SPREAD_WANTED = 20.0  # points, the bar


def parse_candidate(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    name, _, rest = text.partition(":")
    options = tuple(sorted(tuple(item.split("=", 1)) for item in rest.split(",") if item))
    if any(len(option) != 2 for option in options):
        raise SystemExit(f"--candidate {text!r}: options are KEY=VALUE, separated by commas")
    return name, options


def pilot_jobs(candidates: list[str], nets: list[dict], resolution_of) -> list[Job]:
    """Reference jobs first (the longest), so two workers finish together."""
    jobs = []
    for variant in (REFERENCE_LONG.name, PILOT_PROXY):
        for text in candidates:
            dataset, options = parse_candidate(text)
            for net in nets:
                jobs.append(Job(dataset, options, resolution_of(dataset), f"{text}|{net['label']}", net["spec_string"], variant, 0))
    return jobs


def summarise(rows: dict, candidates: list[str], nets: list[dict]) -> dict:
    from scipy.stats import spearmanr

    summary = {}
    for text in candidates:
        table = {}
        for net in nets:
            label = f"{text}|{net['label']}"
            table[net["label"]] = {variant: rows.get(f"{label}|{variant}|0", {}).get("accuracy")
                                   for variant in (REFERENCE_LONG.name, PILOT_PROXY)}
            proxy = rows.get(f"{label}|{PILOT_PROXY}|0", {})
            table[net["label"]].update(proxy_tse=proxy.get("tse"), proxy_seconds=proxy.get("seconds"),
                                       reference_seconds=rows.get(f"{label}|{REFERENCE_LONG.name}|0", {}).get("seconds"))
        reference = [row[REFERENCE_LONG.name] for row in table.values() if row[REFERENCE_LONG.name] is not None]
        both = [(row[REFERENCE_LONG.name], row[PILOT_PROXY], -row["proxy_tse"]) for row in table.values()
                if None not in (row[REFERENCE_LONG.name], row[PILOT_PROXY], row["proxy_tse"])]
        entry = {"nets": table, "reference_done": len(reference)}
        if reference:
            spread = round(100 * (max(reference) - min(reference)), 1)
            entry.update(reference_min=min(reference), reference_max=max(reference), spread_points=spread,
                         spread_reaches_20=spread >= SPREAD_WANTED)
        if len(both) >= 3:  # five nets: a sign of the order, not a measurement of fidelity
            reference, accuracy, tse = zip(*both)
            entry["proxy_spearman_pilot"] = {"accuracy": round(float(spearmanr(reference, accuracy).statistic), 2),
                                             "tse": round(float(spearmanr(reference, tse).statistic), 2)}
        summary[text] = entry
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidate", action="append", help=f"DATASET[:KEY=VALUE,...] (default: {', '.join(CANDIDATES)})")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--analyse-only", action="store_true", help="summarise what the log holds; train nothing")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR, help="where the job log is kept")
    add_output_arguments(parser, "harder_set_pilot")
    args = parser.parse_args()
    candidates = args.candidate or list(CANDIDATES)
    for text in candidates:
        parse_candidate(text)

    from search.run.resources import default_proxy_resolution

    chosen = json.loads((RESULTS_DIR / "proxy_fidelity_digits_nets.json").read_text())["nets"]
    nets = [next(net for net in chosen if net["label"] == label) for label in PILOT_NETS]
    jobs = pilot_jobs(candidates, nets, lambda dataset: default_proxy_resolution(dataset) or 32)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    log = args.output_dir / "harder_set_pilot.jsonl"
    rows = read_log(log) if args.analyse_only else run_all(jobs, log, args.workers)
    summary = summarise(rows, candidates, nets)
    for text, entry in summary.items():
        print(f"{text}: reference {entry.get('reference_min')}-{entry.get('reference_max')} "
              f"({entry.get('spread_points')} points, {entry['reference_done']}/{len(nets)} nets); "
              f"proxy Spearman over the pilot nets {entry.get('proxy_spearman_pilot')}")
        for label, row in entry["nets"].items():
            print(f"  {label:20s} reference {row[REFERENCE_LONG.name]} ({row['reference_seconds']} s)  "
                  f"proxy {row[PILOT_PROXY]}, TSE {row['proxy_tse']} ({row['proxy_seconds']} s)")
    payload = {"benchmark": "harder_set_pilot", "environment": environment(), "candidates": candidates,
               "reference": REFERENCE_LONG.what, "proxy": BY_NAME[PILOT_PROXY].what, "nets": list(PILOT_NETS),
               "command": "python -m benchmarks.harder_set_pilot" + "".join(f" --candidate {c}" for c in args.candidate or ()),
               "summary": summary}
    path = write_json(output_path("harder_set_pilot", args.output, overwrite=args.overwrite), payload)
    print(f"written to {path} (raw rows: {log})")


if __name__ == "__main__":
    main()
