"""Training throughput of the proxy trainer's numeric regimes on reference CNNs.

For a CIFAR-style ResNet-18 (3x3 stride-1 stem, no max-pool), MobileNetV2,
EfficientNet-B0 and RegNetY-400MF (this toolkit's zoo builds, identical to
torchvision's; 10 classes) at 32 px this
measures training images per second in each regime (fp32 NCHW, bf16
channels-last, ``torch.compile`` on the faster of the two), asks the trainer's
``auto`` rule which regime it would pick, and checks that pick against the
best regime for a nominal proxy workload (compile time included).  It then
compares the aggregate throughput of 4 small trials sharing the device (4
processes, each calling ``evaluators.proxy.train``) with running them one at
a time.

Timing: the loop timed is the trainer's own (``TrainStep`` and
``BatchAugmenter`` on a device-resident ``uint8`` dataset).  Each regime gets
warm-up steps first (cuDNN autotuning, allocator growth, compilation), then
several repeats of a fixed number of steps between device synchronisations;
the median repeat is reported.  Compile time is reported separately:
time of the first compiled steps minus the same number of steady-state steps.

    python benchmarks/proxy_throughput.py              # the real run, on cuda (~5-8 min on an H100)
    python benchmarks/proxy_throughput.py --quick      # smoke run on cpu: few steps, small batch, fp32

Results: results/benchmarks/proxy_throughput.json (``--quick``:
proxy_throughput_quick.json, so a smoke run never overwrites real numbers).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout without installing
    sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402
import torchvision  # noqa: E402
from torch import nn  # noqa: E402

from benchmarks._common import add_output_arguments, output_path, write_json  # noqa: E402

from evaluators.data.base import ImageDataset  # noqa: E402
from evaluators.devices import (  # noqa: E402
    cudnn_autotuned,  # noqa: E402
    device_name,
    resolve_device,
)
from evaluators.proxy import ProxySettings, train  # noqa: E402
from evaluators.proxy.augment import BatchAugmenter, Normaliser, translation_for  # noqa: E402
from evaluators.proxy.regime.cache import RegimeCache, regime_cache_key  # noqa: E402
from evaluators.proxy.regime.choice import RegimeTimings, best_eager  # noqa: E402
from evaluators.proxy.regime.probe import DeviceRegimeProbe  # noqa: E402
from evaluators.proxy.regime.select import SelectionContext, select_regime  # noqa: E402
from evaluators.proxy.regime.modes import BF16_CL, FP32, prepare_model, regime_label  # noqa: E402
from evaluators.proxy.step import (  # noqa: E402
    TrainStep,
    OptimizerSettings,
    make_optimizer,
    synchronize,
    training_forward,
)

NUM_CLASSES = 10
CIFAR_MEAN = (0.491, 0.482, 0.447)
CIFAR_STD = (0.247, 0.243, 0.262)
WITHIN = 0.05  # "auto is within 5% of the best"


def sgd_settings(batch_size: int) -> OptimizerSettings:
    """The proxy's SGD at ``batch_size``: the rate scaled linearly from 0.1 per 128 images."""
    return OptimizerSettings(lr=0.1 * batch_size / 128, momentum=0.9, nesterov=True, weight_decay=5e-4)


def zoo_net(name: str, **options: Any) -> nn.Module:
    """A net built by this toolkit from its zoo spec (the same net as torchvision's, 10 classes, 32 px)."""
    from searchspace import build, zoo

    return build(zoo.get(name, num_classes=NUM_CLASSES, resolution=32, **options))


def cifar_resnet18() -> nn.Module:
    """ResNet-18 with the CIFAR stem: one 3x3 stride-1 convolution and no max-pool.

    At 32 px the ImageNet stem (7x7 stride 2 plus max-pool) would shrink the
    image to 8x8 before the first block.
    """
    from dataclasses import replace

    from searchspace import ConvSpec, Stage, build, zoo

    spec = zoo.get("resnet18", num_classes=NUM_CLASSES, resolution=32)
    return build(replace(spec, stem=(Stage(block=ConvSpec(out_channels=64)),)))


MODELS: dict[str, Callable[[], nn.Module]] = {
    "resnet18_cifar": cifar_resnet18,
    "mobilenet_v2": lambda: zoo_net("mobilenet_v2"),
    "efficientnet_b0": lambda: zoo_net("efficientnet_b0"),
    "regnet_y_400mf": lambda: zoo_net("regnet_y_400mf"),
}


@dataclass(frozen=True)
class BenchConfig:
    device: str
    batch_size: int
    resolution: int
    warmup_steps: int
    timed_steps: int
    repeats: int
    regimes: tuple[str, ...]  # of "fp32", "bf16_cl", "compiled"
    workload_steps: int  # the nominal proxy training auto is judged on
    dataset_images: int  # resident synthetic training images
    concurrent_trials: int
    trial_steps: int
    trial_batch_size: int
    trial_regime: str
    threads_per_trial: int | None  # cpu only: intra-op threads per process, so 4 trials do not oversubscribe


FULL = BenchConfig(
    device="cuda",
    batch_size=512,
    resolution=32,
    warmup_steps=10,
    timed_steps=20,
    repeats=5,
    regimes=("fp32", "bf16_cl", "compiled"),
    workload_steps=5 * (50_000 // 512),  # 5 epochs of CIFAR-10 at batch 512
    dataset_images=8192,
    concurrent_trials=4,
    trial_steps=500,
    trial_batch_size=128,
    trial_regime="fp32",
    threads_per_trial=None,
)

QUICK = BenchConfig(
    device="cpu",
    batch_size=8,
    resolution=32,
    warmup_steps=1,
    timed_steps=2,
    repeats=2,
    regimes=("fp32",),
    workload_steps=5 * (50_000 // 8),
    dataset_images=64,
    concurrent_trials=4,
    trial_steps=4,
    trial_batch_size=8,
    trial_regime="fp32",
    threads_per_trial=1,
)


@dataclass
class RegimeMeasurement:
    regime: str  # as the trainer labels it: fp32, bf16_cl, compiled:<base>
    step_ms: float | None = None
    images_per_second: float | None = None
    spread: float | None = None  # (slowest - fastest repeat) / median
    compile_seconds: float | None = None
    error: str | None = None


@dataclass
class ModelReport:
    model: str
    parameters_m: float
    measurements: list[RegimeMeasurement] = field(default_factory=list)
    auto_pick: str | None = None
    auto_reason: str | None = None
    best_steady_state: str | None = None
    best_for_workload: str | None = None
    auto_vs_best_for_workload: float | None = None  # auto's effective throughput / the best's
    auto_within_5pct: bool | None = None


def synthetic_images(count: int, resolution: int, device: torch.device, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (count, 3, resolution, resolution), generator=generator, dtype=torch.uint8)
    labels = torch.randint(0, NUM_CLASSES, (count,), generator=generator)
    return images.to(device), labels.to(device)


class TrainerLoop:
    """The proxy trainer's per-step work for one model and regime, steppable on demand."""

    def __init__(self, model: nn.Module, regime: str, compiled: bool, config: BenchConfig, device: torch.device) -> None:
        self.device = device
        self.batch_size = config.batch_size
        self.images, self.labels = synthetic_images(config.dataset_images, config.resolution, device)
        generator = torch.Generator(device=device)
        generator.manual_seed(0)
        self.generator = generator
        self.augmenter = BatchAugmenter(
            Normaliser(CIFAR_MEAN, CIFAR_STD, device), max_shift=translation_for(config.resolution), flip=True, generator=generator
        )
        prepare_model(model, regime)
        optimizer = make_optimizer(model, sgd_settings(config.batch_size))
        self.step = TrainStep(
            training_forward(model, compiled=compiled), optimizer, regime=regime, device=device, num_classes=NUM_CLASSES, label_smoothing=0.1
        )

    def run(self, steps: int) -> float:
        """Seconds for ``steps`` steps, device work included."""
        synchronize(self.device)
        started = time.perf_counter()
        for _ in range(steps):
            chosen = torch.randint(0, self.images.shape[0], (self.batch_size,), generator=self.generator, device=self.device)
            self.step(self.augmenter(self.images[chosen]), self.labels[chosen])
        synchronize(self.device)
        return time.perf_counter() - started


def measure_regime(factory: Callable[[], nn.Module], base: str, compiled: bool, config: BenchConfig, device: torch.device) -> RegimeMeasurement:
    label = regime_label(base, compiled)
    try:
        torch.manual_seed(0)
        model = factory().to(device).train()
        loop = TrainerLoop(model, base, compiled, config, device)
        warmup_s = loop.run(config.warmup_steps)
        repeats = [loop.run(config.timed_steps) / config.timed_steps for _ in range(config.repeats)]
    except Exception as exc:  # report and go on: one regime failing must not lose the others' numbers
        return RegimeMeasurement(label, error=f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
    finally:
        release(device, compiled)
    step_s = statistics.median(repeats)
    return RegimeMeasurement(
        regime=label,
        step_ms=step_s * 1e3,
        images_per_second=config.batch_size / step_s,
        spread=(max(repeats) - min(repeats)) / step_s,
        compile_seconds=max(0.0, warmup_s - config.warmup_steps * step_s) if compiled else None,
    )


def release(device: torch.device, compiled: bool) -> None:
    if compiled:
        torch._dynamo.reset()  # drop compiled graphs (and their memory) before the next model
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def auto_choice(factory: Callable[[], nn.Module], config: BenchConfig, device: torch.device) -> tuple[str, str]:
    """What ``regime="auto"`` picks for this model, through the trainer's own probe and rule.

    A fresh cache file, so the pick is what a first-time user gets (no
    earlier timings, compile cost judged by the prior).
    """
    torch.manual_seed(0)
    model = factory().to(device).train()
    images, labels = synthetic_images(config.batch_size, config.resolution, device, seed=1)
    probe = DeviceRegimeProbe(
        model,
        Normaliser(CIFAR_MEAN, CIFAR_STD, device)(images),
        labels,
        device=device,
        num_classes=NUM_CLASSES,
        label_smoothing=0.1,
        optimizer=sgd_settings(config.batch_size),
    )
    label = device_name(device)
    with tempfile.TemporaryDirectory() as scratch:
        context = SelectionContext(
            device=device,
            device_label=label,
            cache_key=regime_cache_key("benchmark", label, config.batch_size, config.resolution),
            planned_steps=config.workload_steps,
        )
        decision = select_regime("auto", context, probe, RegimeCache(Path(scratch) / "regimes.json")).decision
    del model, probe
    release(device, decision.compiled)
    return decision.label, decision.reason


def effective_images_per_second(measurement: RegimeMeasurement, steps: int, batch_size: int) -> float | None:
    """Throughput over a whole training of ``steps`` steps, one-off compile time included."""
    if measurement.step_ms is None:
        return None
    seconds = steps * measurement.step_ms / 1e3 + (measurement.compile_seconds or 0.0)
    return steps * batch_size / seconds


def judge_auto(report: ModelReport, steps: int, batch_size: int) -> None:
    """Fill in the best regimes and whether auto's pick is within 5% of the best for the workload."""
    usable = [m for m in report.measurements if m.images_per_second is not None]
    if not usable:
        return
    report.best_steady_state = max(usable, key=lambda m: m.images_per_second or 0.0).regime
    effective = {m.regime: effective_images_per_second(m, steps, batch_size) or 0.0 for m in usable}
    report.best_for_workload = max(effective, key=effective.__getitem__)
    if report.auto_pick in effective:
        report.auto_vs_best_for_workload = effective[report.auto_pick] / effective[report.best_for_workload]
        report.auto_within_5pct = report.auto_vs_best_for_workload >= 1.0 - WITHIN


def benchmark_model(name: str, config: BenchConfig, device: torch.device) -> ModelReport:
    factory = MODELS[name]
    report = ModelReport(name, parameters_m=sum(p.numel() for p in factory().parameters()) / 1e6)
    eager = {}
    for base in (FP32, BF16_CL):
        if base in config.regimes:
            eager[base] = measure_regime(factory, base, False, config, device)
            report.measurements.append(eager[base])
            print(f"  {name:16s} {base:18s} {describe(eager[base])}", flush=True)
    if "compiled" in config.regimes:
        timings = RegimeTimings(fp32_step_s=step_seconds(eager.get(FP32)), bf16_cl_step_s=step_seconds(eager.get(BF16_CL)))
        base = best_eager(timings) if timings.fp32_step_s is not None or timings.bf16_cl_step_s is not None else FP32
        compiled = measure_regime(factory, base, True, config, device)
        report.measurements.append(compiled)
        print(f"  {name:16s} {compiled.regime:18s} {describe(compiled)}", flush=True)
    report.auto_pick, report.auto_reason = auto_choice(factory, config, device)
    judge_auto(report, config.workload_steps, config.batch_size)
    return report


def step_seconds(measurement: RegimeMeasurement | None) -> float | None:
    return None if measurement is None or measurement.step_ms is None else measurement.step_ms / 1e3


def describe(measurement: RegimeMeasurement) -> str:
    if measurement.error is not None:
        return f"failed: {measurement.error}"
    text = f"{measurement.images_per_second:10.0f} img/s  ({measurement.step_ms:.2f} ms/step, spread {measurement.spread:.1%})"
    if measurement.compile_seconds is not None:
        text += f", compile {measurement.compile_seconds:.1f} s"
    return text


# --- concurrent trials ------------------------------------------------------------------


def trial_dataset(config: BenchConfig) -> ImageDataset:
    images, labels = synthetic_images(config.trial_batch_size * config.trial_steps, config.resolution, torch.device("cpu"))
    val_images, val_labels = synthetic_images(256, config.resolution, torch.device("cpu"), seed=1)
    return ImageDataset("synthetic32", images, labels, val_images, val_labels, NUM_CLASSES, CIFAR_MEAN, CIFAR_STD, synthetic=True)


def small_trial_model() -> nn.Module:
    """A small candidate, the kind that leaves a big GPU idle when trained alone."""
    return zoo_net("mobilenet_v2", width_mult=0.5)


def trial_worker(config: BenchConfig, index: int, barrier: Any, results: Any) -> None:
    """One trial process: warm up, wait for the others, train, report wall-clock start and end.

    Always reports, even on an exception, so the parent never waits for a
    result that will not come.
    """
    try:
        results.put(run_trial(config, index, barrier))
    except Exception as exc:
        if barrier is not None:
            barrier.abort()  # release the others instead of leaving them waiting
        now = time.time()
        results.put({"index": index, "started": now, "finished": now, "images": 0, "ok": False, "error": f"{type(exc).__name__}: {exc}"})


def run_trial(config: BenchConfig, index: int, barrier: Any) -> dict[str, Any]:
    if config.threads_per_trial is not None:
        torch.set_num_threads(config.threads_per_trial)
    dataset = trial_dataset(config)
    common = ProxySettings(epochs=1, batch_size=config.trial_batch_size, regime=config.trial_regime)
    warm_up = dataclasses.replace(common, max_steps_per_epoch=2)
    train(small_trial_model(), dataset, warm_up, device=config.device)  # CUDA context, kernels, cuDNN autotuning
    if barrier is not None:
        barrier.wait()
    started = time.time()
    settings = dataclasses.replace(common, max_steps_per_epoch=config.trial_steps, seed=index)
    outcome = train(small_trial_model(), dataset, settings, device=config.device)
    finished = time.time()
    images = outcome.epochs_run * config.trial_steps * config.trial_batch_size if outcome.ok else 0
    error = None if outcome.ok else f"{outcome.reason}: {outcome.message}"
    return {"index": index, "started": started, "finished": finished, "images": images, "ok": outcome.ok, "error": error}


def run_trials(config: BenchConfig, concurrent: bool) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")  # CUDA cannot be used in forked children
    results = context.Queue()
    count = config.concurrent_trials
    barrier = context.Barrier(count) if concurrent else None
    processes = [context.Process(target=trial_worker, args=(config, index, barrier, results)) for index in range(count)]
    reports = []
    if concurrent:
        for process in processes:
            process.start()
        reports = [results.get(timeout=600) for _ in processes]
        for process in processes:
            process.join()
    else:
        for process in processes:
            process.start()
            reports.append(results.get(timeout=600))
            process.join()
    images = sum(report["images"] for report in reports)
    if concurrent:
        seconds = max(r["finished"] for r in reports) - min(r["started"] for r in reports)
    else:
        seconds = sum(r["finished"] - r["started"] for r in reports)
    return {
        "trials": count,
        "all_ok": all(report["ok"] for report in reports),
        "errors": [report["error"] for report in reports if report.get("error")],
        "images": images,
        "seconds": seconds,
        "images_per_second": images / seconds if seconds > 0 else None,
    }


def benchmark_concurrency(config: BenchConfig) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        # The trials share one lock and cache folder, not the user's.
        previous = os.environ.get("CONVSPACE_CACHE")
        os.environ["CONVSPACE_CACHE"] = scratch
        try:
            one_at_a_time = run_trials(config, concurrent=False)
            together = run_trials(config, concurrent=True)
        finally:
            if previous is None:
                os.environ.pop("CONVSPACE_CACHE", None)
            else:
                os.environ["CONVSPACE_CACHE"] = previous
    speedup = None
    if one_at_a_time["images_per_second"] and together["images_per_second"]:
        speedup = together["images_per_second"] / one_at_a_time["images_per_second"]
    return {
        "model": "mobilenet_v2 (width 0.5)",
        "regime": config.trial_regime,
        "batch_size": config.trial_batch_size,
        "steps_per_trial": config.trial_steps,
        "one_at_a_time": one_at_a_time,
        "concurrent": together,
        "aggregate_speedup": speedup,
    }


# --- report -------------------------------------------------------------------------------


def describe_concurrency(concurrency: dict[str, Any]) -> str:
    alone, together = concurrency["one_at_a_time"], concurrency["concurrent"]
    heading = (
        f"{alone['trials']} small trials ({concurrency['model']}, batch {concurrency['batch_size']}, "
        f"{concurrency['steps_per_trial']} steps each)"
    )
    if concurrency["aggregate_speedup"] is None or not (alone["all_ok"] and together["all_ok"]):
        return f"{heading}: failed: {'; '.join(alone['errors'] + together['errors'])}"
    return (
        f"{heading}: one at a time {alone['images_per_second']:.0f} img/s, "
        f"concurrently {together['images_per_second']:.0f} img/s (x{concurrency['aggregate_speedup']:.2f})"
    )


def print_table(reports: list[ModelReport], regimes: tuple[str, ...]) -> None:
    columns = [regime for regime in ("fp32", "bf16_cl") if regime in regimes] + (["compiled"] if "compiled" in regimes else [])
    header = f"{'model':16s} {'params':>7s} " + " ".join(f"{column + ' img/s':>17s}" for column in columns)
    header += f" {'compile s':>9s} {'auto pick':>17s} {'auto/best':>9s}"
    print(header)
    print("-" * len(header))
    for report in reports:
        by_kind = {m.regime.split(":")[0]: m for m in report.measurements}
        cells = []
        for column in columns:
            measurement = by_kind.get(column)
            if measurement is None or measurement.images_per_second is None:
                cells.append(f"{'failed':>17s}")
            elif column == "compiled":
                base = measurement.regime.split(":")[1]
                cells.append(f"{measurement.images_per_second:>8.0f} {'(' + base + ')':>8s}")
            else:
                cells.append(f"{measurement.images_per_second:>17.0f}")
        compiled = by_kind.get("compiled")
        compile_s = f"{compiled.compile_seconds:9.1f}" if compiled and compiled.compile_seconds is not None else f"{'-':>9s}"
        ratio = f"{report.auto_vs_best_for_workload:9.1%}" if report.auto_vs_best_for_workload is not None else f"{'-':>9s}"
        mark = "" if report.auto_within_5pct is None else (" ok" if report.auto_within_5pct else " SLOW")
        print(f"{report.model:16s} {report.parameters_m:6.1f}M " + " ".join(cells) + f" {compile_s} {report.auto_pick or '-':>17s} {ratio}{mark}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny cpu smoke run: few steps, small batch, fp32 only")
    parser.add_argument("--device", help="override the device (default: cuda, or cpu with --quick)")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), help="subset of models")
    parser.add_argument("--regimes", nargs="+", choices=["fp32", "bf16_cl", "compiled"], help="subset of regimes")
    parser.add_argument("--skip-concurrency", action="store_true", help="skip the 4-trial sharing measurement")
    add_output_arguments(parser, "proxy_throughput", "; *_quick.json with --quick")
    args = parser.parse_args(argv)

    config = QUICK if args.quick else FULL
    if args.device:
        config = dataclasses.replace(config, device=args.device)
    if args.regimes:
        config = dataclasses.replace(config, regimes=tuple(args.regimes))
    device = resolve_device(config.device)
    if device.type == "cpu" and config.threads_per_trial is not None:
        # A smoke run on a shared CPU: one thread per process avoids the
        # spinning thread pools that slow small tensors down tenfold.
        torch.set_num_threads(config.threads_per_trial)
    output = output_path("proxy_throughput_quick" if args.quick else "proxy_throughput", args.output, overwrite=args.overwrite)

    started = time.time()
    print(f"device: {device_name(device)}  batch {config.batch_size}  {config.resolution} px  regimes {', '.join(config.regimes)}", flush=True)
    with cudnn_autotuned(device):  # as the trainer runs
        reports = [benchmark_model(name, config, device) for name in (args.models or list(MODELS))]
    concurrency = None if args.skip_concurrency else benchmark_concurrency(config)
    print()
    print_table(reports, config.regimes)
    if concurrency is not None:
        print("\n" + describe_concurrency(concurrency))
    record = {
        "benchmark": "proxy_throughput",
        "quick": args.quick,
        "device": device_name(device),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "python": platform.python_version(),
        "config": dataclasses.asdict(config),
        "models": [dataclasses.asdict(report) for report in reports],
        "concurrency": concurrency,
        "wall_seconds": time.time() - started,
    }
    write_json(output, record)
    print(f"\nwrote {output} ({record['wall_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
