"""Proxy fidelity: does the short proxy rank nets the way a long training does?

Protocol (issue 9, item 3):

1. Draw ``--specs`` random nets of the default space (``unified``) with
   ``RandomSuggest(numpy.random.default_rng([seed, i]))``, keeping those whose
   analytic MACs at 224 px are at most ``--max-macs`` (the nets a CPU search
   under a tight budget actually trains; the rest would be rejected before
   training).
2. Train each with the search's proxy (``evaluators.proxy.train``, the same
   defaults ``search run`` uses, at the dataset's proxy resolution) for
   ``--short-epochs`` and, from scratch with the same seed, for
   ``--long-factor`` times as many epochs: the "long schedule" reference.
3. Score each with every training-free method of ``evaluators.score``
   (synflow, NASWOT, grad_norm, snip, params, MACs).
4. Report the Spearman rank correlation of each proxy with the long
   schedule's accuracy, with a bootstrap 95% interval over nets.

Every finished net is written to the JSON as soon as it is done and a rerun
with the same arguments skips the nets already there, so an interrupted run
loses nothing.

Run from the repository root::

    python -m benchmarks.proxy_fidelity --dataset digits [--specs 30] [--short-epochs 4]
        [--long-factor 10] [--batch-size 128] [--max-macs 600M] [--dataset-option size=1500 ...]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr

from benchmarks._common import RESULTS_DIR, environment

TARGET_SPEARMAN = 0.85
PUBLISHED_MARKS = {"synflow_nasbench201_cifar10": 0.74, "reduced_training_nasbench201_cifar10": 0.61}


def parse_count(text: str) -> int:
    suffixes = {"K": 1e3, "M": 1e6, "G": 1e9}
    text = text.strip().upper()
    return int(float(text[:-1]) * suffixes[text[-1]]) if text[-1] in suffixes else int(text)


def draw_specs(count: int, seed: int, max_macs: int, dataset: Any) -> list[Any]:
    """``count`` distinct random nets of the default space under ``max_macs`` (at 224 px)."""
    from evaluators import cost
    from search.spaces import RandomSuggest, SpaceContext, load_space

    space = load_space("unified")
    context = SpaceContext(in_channels=dataset.in_channels, num_classes=dataset.num_classes, resolution=224)
    specs, seen, index = [], set(), 0
    while len(specs) < count:
        spec = space.sample(RandomSuggest(np.random.default_rng([seed, index])), context)
        index += 1
        if spec.digest() in seen or cost(spec).macs > max_macs:
            continue
        seen.add(spec.digest())
        specs.append(spec)
    return specs


def evaluate_spec(spec: Any, dataset: Any, args: argparse.Namespace, resolution: int | None) -> dict[str, Any]:
    from evaluators import cost, score
    from evaluators.proxy import TrainingFailure, train
    from evaluators.zero_cost import methods
    from searchspace import encode

    row: dict[str, Any] = {"spec": encode(spec), "digest": spec.digest(), "macs": cost(spec).macs}
    for label, epochs in (("short", args.short_epochs), ("long", args.short_epochs * args.long_factor)):
        started = time.perf_counter()
        outcome = train(spec, dataset, epochs=epochs, batch_size=args.batch_size, resolution=resolution, seed=args.seed)
        row[f"{label}_seconds"] = round(time.perf_counter() - started, 2)
        row[f"{label}_accuracy"] = None if isinstance(outcome, TrainingFailure) else outcome.accuracy
    for method in methods():
        try:
            row[method] = score(spec, method, dataset, resolution=resolution, seed=args.seed)
        except (RuntimeError, ValueError) as error:  # a proxy that cannot score a net counts as missing
            row[method] = None
            row[f"{method}_error"] = str(error)
    return row


def correlations(rows: list[dict[str, Any]], seed: int) -> dict[str, Any]:
    """Spearman of every proxy against the long schedule, with a bootstrap interval over nets."""
    from evaluators.zero_cost import methods

    rng = np.random.default_rng(seed)
    summary = {}
    for proxy in ["short_accuracy", *methods()]:
        pairs = np.array([(r[proxy], r["long_accuracy"]) for r in rows
                          if r.get(proxy) is not None and r.get("long_accuracy") is not None], dtype=float)
        if len(pairs) < 3:
            summary[proxy] = {"count": len(pairs), "spearman": None}
            continue
        rho = float(spearmanr(pairs[:, 0], pairs[:, 1]).statistic)
        boot = []
        for _ in range(1000):
            sample = pairs[rng.integers(0, len(pairs), len(pairs))]
            if np.ptp(sample[:, 0]) > 0 and np.ptp(sample[:, 1]) > 0:
                boot.append(spearmanr(sample[:, 0], sample[:, 1]).statistic)
        low, high = np.nanpercentile(boot, [2.5, 97.5]) if boot else (None, None)
        summary[proxy] = {"count": len(pairs), "spearman": rho, "ci95": [float(low), float(high)]}
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--specs", type=int, default=30)
    parser.add_argument("--short-epochs", type=int, default=4, help="the proxy's epochs (search run's default: 4)")
    parser.add_argument("--long-factor", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128, help="proxy batch size (search run's default: 128)")
    parser.add_argument("--max-macs", type=parse_count, default=parse_count("600M"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from evaluators.data import load_dataset
    from search.run.loop import default_proxy_resolution

    options = dict(option.split("=", 1) for option in args.dataset_option)
    dataset = load_dataset(args.dataset, seed=args.seed, **options)
    resolution = default_proxy_resolution(args.dataset)
    output = args.output or RESULTS_DIR / f"proxy_fidelity_{args.dataset}.json"
    settings = {key: value for key, value in vars(args).items() if key != "output"}
    previous = json.loads(output.read_text()) if output.exists() else {}
    rows = previous.get("nets", []) if previous.get("settings") == settings else []
    done = {row["digest"] for row in rows}

    for index, spec in enumerate(draw_specs(args.specs, args.seed, args.max_macs, dataset)):
        if spec.digest() in done:
            continue
        rows.append(evaluate_spec(spec, dataset, args, resolution))
        row = rows[-1]
        print(f"[{index + 1}/{args.specs}] short {row['short_accuracy']} long {row['long_accuracy']} "
              f"({row['short_seconds']}s + {row['long_seconds']}s)  {row['spec'][:90]}", flush=True)
        write(output, settings, dataset, resolution, rows, final=False)
    result = write(output, settings, dataset, resolution, rows, final=True)
    print(f"\nSpearman with the {args.short_epochs * args.long_factor}-epoch accuracy on {args.dataset} "
          f"({len(rows)} nets; target for the short proxy >= {TARGET_SPEARMAN}):")
    for proxy, figures in result["spearman_vs_long"].items():
        interval = figures.get("ci95")
        interval_text = f"  95% CI [{interval[0]:.2f}, {interval[1]:.2f}]" if interval else ""
        rho = figures["spearman"]
        print(f"  {proxy:15s} {rho if rho is None else f'{rho:+.3f}'}{interval_text}")
    print(f"written to {output}")


def write(output: Path, settings: dict[str, Any], dataset: Any, resolution: int | None,
          rows: list[dict[str, Any]], *, final: bool) -> dict[str, Any]:
    result = {
        "benchmark": "proxy_fidelity",
        "environment": environment(),
        "command": "python -m benchmarks.proxy_fidelity " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in settings.items() if k != "dataset_option")
        + "".join(f" --dataset-option {o}" for o in settings["dataset_option"]),
        "settings": settings,
        "dataset": dataset.describe(),
        "proxy_resolution": resolution,
        "complete": final,
        "target_spearman_short_proxy": TARGET_SPEARMAN,
        "published_marks": PUBLISHED_MARKS,
        "spearman_vs_long": correlations(rows, settings["seed"]) if final else None,
        "nets": rows,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
