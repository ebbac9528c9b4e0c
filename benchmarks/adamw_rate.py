"""Which optimizer trains the known nets without batch norm: the rate sweep behind ProxySettings' AdamW defaults.

LeNet-5 (tanh, no normalisation, fan-ins of 25-400) and AlexNet (ReLU, no
normalisation, fully connected fan-ins of 4,096 and 9,216) pull AdamW's rate in
opposite directions, and Swin-T (layer norms, attention) cannot take a high one, so each is trained as the default job trains a known net
(digits at the proxy's 32 px, or the smallest size the net builds at; 4 epochs
at batch 32, no augmentation; :data:`benchmarks.fidelity.variants.BY_NAME`'s
``e4_b32_noaug``), once per recipe below, one thread per job::

    python -m benchmarks.adamw_rate                      # every recipe, seed 0; LeNet-5 also seeds 1 and 2; NARROW_NETS; Swin-T last
    python -m benchmarks.adamw_rate --analyse-only       # summarise the log so far

Rows go to ``results/benchmarks/adamw_rate.jsonl`` as they finish, so a rerun
skips what is done; the summary is ``adamw_rate.json``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

from benchmarks._common import RESULTS_DIR, add_output_arguments, environment, output_path, write_json
from benchmarks.fidelity.jobs import read_log, run_all
from benchmarks.fidelity.variants import BY_NAME, COMMON, CONV_BOOST, DEVICE

NETS = ("lenet5", "alexnet")
BASE_PROXY = "e4_b32_noaug"
# name -> ProxySettings fields on top of BASE_PROXY's (the default proxy when this was measured).
RECIPES: dict[str, dict[str, Any]] = {
    "sgd": {"optimizer": "sgd"},
    "adamw_5e-4_unscaled": {"optimizer": "adamw", "adamw_lr": 5e-4, "adamw_reference_fan_in": None},
    "adamw_1e-3_unscaled": {"optimizer": "adamw", "adamw_lr": 1e-3, "adamw_reference_fan_in": None},
    "adamw_2e-3_unscaled": {"optimizer": "adamw", "adamw_lr": 2e-3, "adamw_reference_fan_in": None},
    "adamw_3e-3_unscaled": {"optimizer": "adamw", "adamw_lr": 3e-3, "adamw_reference_fan_in": None},
    "adamw_1e-3": {"optimizer": "adamw", "adamw_lr": 1e-3},  # with the default fan-in scaling
    "adamw_2e-3": {"optimizer": "adamw", "adamw_lr": 2e-3},
    "default": {},  # optimizer="auto": AdamW at ProxySettings.adamw_lr, wide layers scaled by 512 / fan-in
}
SCALED_ONLY = ("adamw_1e-3", "adamw_2e-3", "default")
# AdamW for every net (issue 13: it ranks the harder set better) left the batch-norm nets built of narrow layers
# behind SGD: ShuffleNetV2 x0.5 0.76, RegNetX-400MF 0.91.  Adam moves each weight by about its rate, so a
# depthwise 3x3 kernel (fan-in 9, weights of ~sqrt(2 / 9)) changes by a far smaller fraction per step than a wide
# one; rates that grow as fan-in shrinks, (512 / fan-in) ** power up to a ceiling, are tried on the nets AdamW
# trained worst and on a few it trained well (LeNet-5, AlexNet and ViT-Ti, which a rate too high breaks).
NARROW_NETS = ("shufflenet_v2_x0_5", "regnet_x_400mf", "shufflenet_v2_x1_0", "mobilenetv1_100", "mnasnet0_5",
               "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "resnet18", "lenet5", "alexnet",
               "vit_tiny_patch16_224")
NARROW_RECIPES: dict[str, dict[str, Any]] = {
    "adamw": {"optimizer": "adamw"},  # the rule so far: rates only ever shrink, by 512 / fan-in
    "adamw_sqrt_max8": {"optimizer": "adamw", "adamw_fan_in_power": 0.5, "adamw_max_rate_scale": 8.0},
    "adamw_sqrt_max3": {"optimizer": "adamw", **CONV_BOOST},  # the rule the fidelity variant e4_b32_noaug_adamw_conv uses
    "adamw_linear_max3": {"optimizer": "adamw", "adamw_fan_in_power": 1.0, "adamw_max_rate_scale": 3.0},
}
EXTRA_SEEDS = {"lenet5": (1, 2)}  # LeNet-5 trains in seconds: its seed noise is cheap to show
# Swin-T (LayerNorm, attention) takes minutes per training: only the scaled rates, two seeds; it died at 2e-3 on seed 1.
TRANSFORMER_JOBS = tuple(("swin_t", recipe, seed) for recipe in SCALED_ONLY for seed in (0, 1))

ALL_RECIPES = {**RECIPES, **NARROW_RECIPES}


@dataclass(frozen=True)
class Training:
    net: str
    recipe: str
    seed: int

    @property
    def key(self) -> str:
        return f"{self.net}|{self.recipe}|{self.seed}"


def trainings() -> list[Training]:
    jobs = [Training(net, recipe, 0) for net in NETS for recipe in RECIPES]
    jobs += [Training(net, recipe, seed) for net, seeds in EXTRA_SEEDS.items() for seed in seeds for recipe in RECIPES]
    jobs += [Training(net, recipe, 0) for recipe in NARROW_RECIPES for net in NARROW_NETS]
    return jobs + [Training(*job) for job in TRANSFORMER_JOBS]  # last: minutes each


def train_one(job: Training) -> dict[str, Any]:
    import torch

    from benchmarks.known_nets_learn import RESOLUTION, digits
    from evaluators.proxy import ProxySettings, TrainingFailure, train
    from searchspace import zoo
    from searchspace.scaling import smallest_buildable

    torch.set_num_threads(1)
    net = zoo.get(job.net)
    resolution = smallest_buildable(net, RESOLUTION)
    settings = ProxySettings(resolution=resolution, seed=job.seed,
                             **{**COMMON, **BY_NAME[BASE_PROXY].train_kwargs, **ALL_RECIPES[job.recipe]})
    started = time.perf_counter()
    outcome = train(net, digits(), settings, device=DEVICE)  # loaded once per worker, as known_nets_learn does
    row = {"key": job.key, "net": job.net, "recipe": job.recipe, "seed": job.seed, "resolution": resolution,
           "seconds": round(time.perf_counter() - started, 1)}
    if isinstance(outcome, TrainingFailure):
        return row | {"failure": outcome.reason}
    return row | {"accuracy": round(outcome.accuracy, 4), "final_loss": round(outcome.train_loss, 3),
                  "optimizer": outcome.optimizer}


def summarise(rows: dict[str, dict]) -> dict[str, dict[str, list[float]]]:
    """net -> recipe -> accuracies by seed (0, 1, ...), of the rows present."""
    table: dict[str, dict[str, list[float]]] = {}
    for job in trainings():
        row = rows.get(job.key)
        if row is not None:
            table.setdefault(job.net, {}).setdefault(job.recipe, []).append(row.get("accuracy", 0.0))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--analyse-only", action="store_true", help="summarise what the log holds; train nothing")
    add_output_arguments(parser, "adamw_rate")
    args = parser.parse_args()
    log = RESULTS_DIR / "adamw_rate.jsonl"
    rows = read_log(log) if args.analyse_only else run_all(trainings(), log, args.workers, run=train_one)
    table = summarise(rows)
    for net, recipes in table.items():
        for recipe, accuracies in recipes.items():
            print(f"{net:8s} {recipe:22s} " + " ".join(f"{value:.3f}" for value in accuracies))
    payload = {"benchmark": "adamw_rate", "environment": environment(), "proxy": BY_NAME[BASE_PROXY].what,
               "recipes": ALL_RECIPES, "command": "python -m benchmarks.adamw_rate", "accuracy_by_seed": table}
    print(f"written to {write_json(output_path('adamw_rate', args.output, overwrite=args.overwrite), payload)}")


if __name__ == "__main__":
    main()
