"""Harder-set pilot: which dataset makes the long-training reference spread nets over 20 points?

Issue 13 asks for a second fidelity dataset on which the reference accuracies
of the benchmark's nets spread over at least 20 points (digits spreads 6.4).
Training all 51 nets twice at ten times the default proxy's steps costs hours
of the two cores, so this pilot first trains five nets that span digits'
reference (its worst and best random nets, the weakest and the strongest known
net of the budget, and MobileNetV2) under each candidate dataset, once at the
reference length (:data:`~benchmarks.fidelity.variants.REFERENCE_LONG`, or the
one ``--reference`` names) and once under the default proxy of the time
(``e4_b32_noaug``), and reports the reference's spread, how many nets it fitted
(final loss near the floor, so the spread is not just how fast nets fit), the
proxy's accuracies beside it, and seconds per net.

Jobs are logged as they finish (``<--output-dir>/harder_set_pilot.jsonl``),
so an interrupted pilot resumes.  Candidates are ``DATASET[:KEY=VALUE,...]``::

    python -m benchmarks.harder_set_pilot
    python -m benchmarks.harder_set_pilot --candidate shapes:size=1500,difficulty=0.1 --candidate mnist5k
    python -m benchmarks.harder_set_pilot --reference reference_long_adamw_4x --device cuda --workers 12 \
        --candidate shapes:size=1500,difficulty=0.25
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks._common import RESULTS_DIR, add_output_arguments, environment, output_path, write_json
from benchmarks.fidelity.analysis import is_fitted
from benchmarks.fidelity.jobs import Job, read_log, run_all, start_method, usable_device
from benchmarks.fidelity.variants import BY_NAME, DEVICE, REFERENCE_LONG, REFERENCES

PILOT_PROXY = "e4_b32_noaug"  # the product's default proxy when the pilot ran (2026-12-02)
# Digits' reference order, low to high (results/benchmarks/proxy_fidelity_digits.json): its worst random
# net, its weakest known net (ShuffleNetV2 1.0), MobileNetV2, its best known net and its best random net.
PILOT_NETS = ("random-12", "shufflenet_v2_x1_0", "mobilenet_v2", "resnet18", "random-17")
# Shapes at the size of digits' training split, so the reference costs what digits' does; two nuisance levels.
CANDIDATES = ("shapes:size=1500,difficulty=0.0", "shapes:size=1500,difficulty=0.25")
SPREAD_WANTED = 20.0  # points, the bar
# The references a pilot can train: those with steps of their own (a best-of reference trains nothing).
TRAINED_REFERENCES = tuple(variant.name for variant in REFERENCES if variant.times_steps_of is not None and not variant.best_of)


def parse_candidate(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    name, _, rest = text.partition(":")
    options = tuple(sorted(tuple(item.split("=", 1)) for item in rest.split(",") if item))
    if any(len(option) != 2 for option in options):
        raise SystemExit(f"--candidate {text!r}: options are KEY=VALUE, separated by commas")
    return name, options


def pilot_jobs(candidates: list[str], nets: list[dict], resolution_of, reference: str = REFERENCE_LONG.name,
               device: str = DEVICE) -> list[Job]:
    """Reference jobs first (the longest), so two workers finish together."""
    jobs = []
    for variant in (reference, PILOT_PROXY):
        for text in candidates:
            dataset, options = parse_candidate(text)
            for net in nets:
                jobs.append(Job(dataset, options, resolution_of(dataset), f"{text}|{net['label']}", net["spec_string"], variant, 0, device))
    return jobs


def _net_row(rows: dict, label: str, reference: str) -> dict:
    trained, proxy = rows.get(f"{label}|{reference}|0", {}), rows.get(f"{label}|{PILOT_PROXY}|0", {})
    return {reference: trained.get("accuracy"), PILOT_PROXY: proxy.get("accuracy"), "reference_final_loss": trained.get("final_loss"),
            "proxy_tse": proxy.get("tse"), "proxy_seconds": proxy.get("seconds"), "reference_seconds": trained.get("seconds")}


def summarise(rows: dict, candidates: list[str], nets: list[dict], reference: str = REFERENCE_LONG.name) -> dict:
    from scipy.stats import spearmanr

    summary = {}
    for text in candidates:
        table = {net["label"]: _net_row(rows, f"{text}|{net['label']}", reference) for net in nets}
        accuracies = [row[reference] for row in table.values() if row[reference] is not None]
        both = [(row[reference], row[PILOT_PROXY], -row["proxy_tse"]) for row in table.values()
                if None not in (row[reference], row[PILOT_PROXY], row["proxy_tse"])]
        entry = {"nets": table, "reference_done": len(accuracies),
                 # A spread among nets the reference left underfitting measures how fast they fit, not how good they get.
                 "reference_fitted": sum(is_fitted(row["reference_final_loss"]) for row in table.values()
                                         if row["reference_final_loss"] is not None)}
        if accuracies:
            spread = round(100 * (max(accuracies) - min(accuracies)), 1)
            entry.update(reference_min=min(accuracies), reference_max=max(accuracies), spread_points=spread,
                         spread_reaches_20=spread >= SPREAD_WANTED)
        if len(both) >= 3:  # five nets: a sign of the order, not a measurement of fidelity
            ordered, accuracy, tse = zip(*both)
            entry["proxy_spearman_pilot"] = {"accuracy": round(float(spearmanr(ordered, accuracy).statistic), 2),
                                             "tse": round(float(spearmanr(ordered, tse).statistic), 2)}
        summary[text] = entry
    return summary


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def print_summary(summary: dict, nets: int, reference: str) -> None:
    for text, entry in summary.items():
        print(f"{text}: reference {entry.get('reference_min')}-{entry.get('reference_max')} "
              f"({entry.get('spread_points')} points, {entry['reference_done']}/{nets} nets, {entry['reference_fitted']} fitted); "
              f"proxy Spearman over the pilot nets {entry.get('proxy_spearman_pilot')}")
        for label, row in entry["nets"].items():
            print(f"  {label:20s} reference {row[reference]} (final loss {_rounded(row['reference_final_loss'])}, {row['reference_seconds']} s)  "
                  f"proxy {row[PILOT_PROXY]}, TSE {row['proxy_tse']} ({row['proxy_seconds']} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidate", action="append", help=f"DATASET[:KEY=VALUE,...] (default: {', '.join(CANDIDATES)})")
    parser.add_argument("--reference", choices=TRAINED_REFERENCES, default=REFERENCE_LONG.name,
                        help=f"the reference to train (default {REFERENCE_LONG.name}; a longer one shows whether a spread survives the plateau)")
    parser.add_argument("--net", action="append", metavar="LABEL",
                        help=f"train these of digits' benchmark nets instead (repeatable; default: {', '.join(PILOT_NETS)})")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--device", default=DEVICE, help=f"where the trainings run (default {DEVICE})")
    parser.add_argument("--analyse-only", action="store_true", help="summarise what the log holds; train nothing")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR, help="where the job log is kept")
    add_output_arguments(parser, "harder_set_pilot")
    args = parser.parse_args()
    candidates = args.candidate or list(CANDIDATES)
    for text in candidates:
        parse_candidate(text)
    args.device = usable_device(parser, args.device)

    from search.run.resources import default_proxy_resolution

    chosen = {net["label"]: net for net in json.loads((RESULTS_DIR / "proxy_fidelity_digits_nets.json").read_text())["nets"]}
    labels = args.net or list(PILOT_NETS)
    unknown = sorted(set(labels) - set(chosen))
    if unknown:
        parser.error(f"--net: no such net in digits' benchmark: {', '.join(unknown)}")
    nets = [chosen[label] for label in labels]
    jobs = pilot_jobs(candidates, nets, lambda dataset: default_proxy_resolution(dataset) or 32, args.reference, args.device)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    log = args.output_dir / "harder_set_pilot.jsonl"
    rows = read_log(log) if args.analyse_only else run_all(jobs, log, args.workers, start=start_method(args.device))
    summary = summarise(rows, candidates, nets, args.reference)
    print_summary(summary, len(nets), args.reference)
    default = args.reference == REFERENCE_LONG.name
    payload = {"benchmark": "harder_set_pilot", "environment": environment(), "candidates": candidates,
               "reference": BY_NAME[args.reference].what, "proxy": BY_NAME[PILOT_PROXY].what, "nets": labels,
               "command": "python -m benchmarks.harder_set_pilot" + ("" if default else f" --reference {args.reference}")
               + "".join(f" --candidate {c}" for c in args.candidate or ()) + "".join(f" --net {label}" for label in args.net or ()),
               "summary": summary}
    name = "harder_set_pilot" if default else f"harder_set_pilot_{args.reference}"
    path = write_json(output_path(name, args.output, overwrite=args.overwrite), payload)
    print(f"written to {path} (raw rows: {log})")


if __name__ == "__main__":
    main()
