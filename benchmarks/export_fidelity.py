"""Does an exported net score what its run reported?  ONNX Runtime on the validation split.

For a finished run, exports each delivered front member (or the trials
given) to ONNX, scores the file with onnxruntime under the preprocessing in
its own metadata (:func:`search.export.verify.onnx_accuracy`), and sets that
beside the accuracy the export reports (the final protocol's seed closest to
the mean) and the final protocol's mean with its 95% interval.

    python -m benchmarks.export_fidelity results/default
    python -m benchmarks.export_fidelity results/default --trial 5 --trial 20
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import pandas as pd

from benchmarks._common import add_output_arguments, write_result


def delivered_members(run_dir: Path) -> list[str]:
    table = pd.read_csv(run_dir / "pareto.csv")
    return [str(int(n)) for n in table[table["pareto"].astype(bool)]["number"]]


def check_member(run_dir: Path, trial: str, options: dict[str, str], folder: Path) -> dict:
    from search.export import export_net
    from search.export.verify import onnx_accuracy

    path = export_net(run_dir, trial, "onnx", folder / f"trial{trial}.onnx")
    measured, meta = onnx_accuracy(path, options)
    reported = meta["weights"]["accuracy"]
    row = pd.read_csv(run_dir / "trials.csv").set_index("number").loc[int(trial)]
    return {"trial": int(trial), "onnxruntime_accuracy": measured, "reported_accuracy": reported,
            "difference": measured - reported, "final_mean": float(row["final_accuracy"]),
            "final_ci95": [float(row["final_ci_low"]), float(row["final_ci_high"])]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--trial", action="append", help="trial number (repeatable; default: the delivered front)")
    add_output_arguments(parser, "export_fidelity")
    args = parser.parse_args()
    options = json.loads((args.run_dir / "run.json").read_text())["config"]["dataset_options"]
    with tempfile.TemporaryDirectory() as folder:
        rows = [check_member(args.run_dir, trial, options, Path(folder)) for trial in args.trial or delivered_members(args.run_dir)]
    for row in rows:
        print(f"#{row['trial']:<4} onnxruntime {row['onnxruntime_accuracy']:.4f}  reported {row['reported_accuracy']:.4f}  "
              f"difference {row['difference']:+.4f}  final mean {row['final_mean']:.4f} "
              f"[{row['final_ci95'][0]:.4f}, {row['final_ci95'][1]:.4f}]")
    path = write_result("export_fidelity", {"run": str(args.run_dir), "members": rows}, output=args.output, overwrite=args.overwrite)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
