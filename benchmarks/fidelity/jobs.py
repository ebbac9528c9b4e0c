"""One training (or training-free scoring) per job, run in worker processes.

Finished jobs are appended to a JSON-lines log as they end, so an interrupted
benchmark loses at most the jobs in flight and a rerun skips what is there.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._common import code_version
from benchmarks.fidelity.variants import BY_NAME, COMMON, DEVICE, JOB_FIELDS

ZERO_COST = "zero_cost"
_DATASETS: dict[tuple, Any] = {}  # per worker process: loading digits or shapes takes a second


@dataclass(frozen=True)
class Job:
    dataset: str
    dataset_options: tuple[tuple[str, str], ...]
    resolution: int
    label: str
    spec_string: str
    variant: str  # a variant name or ZERO_COST
    seed: int
    # Where a training runs (the training-free scores run on the CPU).  Not part of the key: a job's row stands
    # for its variant wherever it trained, and the row records the device.
    device: str = DEVICE

    @property
    def key(self) -> str:
        return f"{self.label}|{self.variant}|{self.seed}"


def _dataset(job: Job):
    from evaluators.data import load_dataset

    key = (job.dataset, job.dataset_options)
    if key not in _DATASETS:
        _DATASETS[key] = load_dataset(job.dataset, seed=0, **dict(job.dataset_options))
    return _DATASETS[key]


def first_per_class(dataset, count: int):
    """``dataset`` with only the first ``count`` training images of each class (the validation split whole), so that
    every variant trained on a subset is judged on the same images as the rest."""
    import dataclasses

    import torch

    keep = torch.cat([torch.nonzero(dataset.train_labels == label).flatten()[:count] for label in range(dataset.num_classes)])
    keep = keep.sort().values
    return dataclasses.replace(dataset, train_images=dataset.train_images[keep], train_labels=dataset.train_labels[keep])


def _train(job: Job, spec, dataset) -> dict[str, Any]:
    from evaluators.proxy import ProxySettings, TrainingFailure, train

    kwargs = BY_NAME[job.variant].train_kwargs_for(len(dataset))
    own = {name: kwargs.pop(name, default) for name, default in JOB_FIELDS.items()}
    resolution = max(8, round(job.resolution * own["resolution_scale"]))
    if own["train_per_class"] is not None:
        dataset = first_per_class(dataset, int(own["train_per_class"]))
    settings = ProxySettings(resolution=resolution, seed=job.seed, **{**COMMON, **kwargs})
    outcome = train(spec, dataset, settings, device=job.device)
    if isinstance(outcome, TrainingFailure):
        return {"failure": outcome.reason, "message": outcome.message, "device": job.device}
    return {"device": job.device, "accuracy": outcome.accuracy, "tse": outcome.tse, "steps": len(outcome.step_losses),
            "final_loss": outcome.train_loss, "val_loss": outcome.val_loss, "seconds": outcome.seconds}


def _zero_cost(job: Job, spec, dataset) -> dict[str, Any]:
    from evaluators import score
    from evaluators.zero_cost import methods

    row: dict[str, Any] = {}
    for method in methods():
        started = time.perf_counter()
        try:
            row[method] = score(spec, method, dataset, resolution=job.resolution, seed=job.seed)
        except (RuntimeError, ValueError) as error:  # a score that cannot rate a net counts as missing
            row[method] = None
            row[f"{method}_error"] = str(error)[:200]
        row[f"{method}_seconds"] = round(time.perf_counter() - started, 3)
    return row


def run_job(job: Job) -> dict[str, Any]:
    import torch

    from evaluators.devices import device_name
    from searchspace import decode

    code = code_version()  # read before training, and once per worker (cached): a commit made while it trains is not its code
    torch.set_num_threads(1)  # one job per core: parallel processes beat threads on small nets
    started = time.perf_counter()
    spec, dataset = decode(job.spec_string), _dataset(job)
    zero_cost = job.variant == ZERO_COST  # training-free scores always run on the CPU, whatever the job's device
    row = _zero_cost(job, spec, dataset) if zero_cost else _train(job, spec, dataset)
    # The hardware's model as well as the device: another CPU or GPU model gives the same seed another result.
    hardware = device_name("cpu" if zero_cost else job.device)
    return {"key": job.key, "label": job.label, "variant": job.variant, "seed": job.seed,
            "wall_seconds": round(time.perf_counter() - started, 2), "code": code, "hardware": hardware, **row}


def usable_device(parser, text: str) -> str:
    """``--device`` checked before anything is written: the canonical name ("cuda:0"), or the parser's error (exit 2)."""
    from evaluators.devices import DeviceError, resolve_device

    try:
        return str(resolve_device(text))
    except DeviceError as error:
        parser.error(str(error))


def start_method(device: str) -> str | None:
    """The workers' start method for ``device``: the platform's for the CPU, "spawn" for CUDA, which a forked
    worker cannot use once its parent has touched it (checking the device does)."""
    return None if device == "cpu" else "spawn"


def read_log_lines(path: Path) -> list[dict[str, Any]]:
    """Every row of the log in order, a job run again included (on another device, say)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def read_log(path: Path) -> dict[str, dict[str, Any]]:
    """Each job's last row."""
    return {row["key"]: row for row in read_log_lines(path)}


def jobs_without_rows(jobs: list[Job], rows: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Per variant and seed, how many of ``jobs`` the log has no row for (those with none missing are left out).

    A score whose trainings never ran is simply absent from a summary, which reads as though nobody asked for it.
    """
    missing: dict[str, int] = {}
    for job in jobs:
        if job.key not in rows:
            name = f"{job.variant} seed {job.seed}"
            missing[name] = missing.get(name, 0) + 1
    return missing


def _append(log_path: Path, row: dict[str, Any]) -> None:
    """Add one row, opening the log afresh: a run lasts hours, and a file replaced meanwhile (``git stash``,
    a checkout) must get the row, not the unlinked copy a handle held open all along would still write to."""
    with log_path.open("a") as log:
        log.write(json.dumps(row) + "\n")


def run_all(jobs: list, log_path: Path, workers: int, say=print, run=run_job, start: str | None = None,
            again: bool = False) -> dict[str, dict[str, Any]]:
    """Run the jobs not yet in the log (``again``: every job), ``workers`` at a time, in the order given.

    A job run again gets a second row; the newer one counts (:func:`read_log`), the older stays, so that how far
    two runs of one job land apart can be read (:func:`benchmarks.fidelity.analysis.rerun_agreement`).

    A job is anything with a ``key`` that ``run`` (a module-level function, for the worker processes) turns into
    a row holding that key; :class:`Job` and :func:`run_job` by default.  ``start`` is the workers' start method
    (:func:`start_method`; None: the platform's).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    done = read_log(log_path)
    todo = [job for job in jobs if again or job.key not in done]
    logged = sum(job.key in done for job in jobs)
    say(f"{logged} of {len(jobs)} jobs already done; running {'all of them again' if again else len(todo)} on {workers} workers")
    context = multiprocessing.get_context(start)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(run, job): job for job in todo}
        for count, future in enumerate(as_completed(futures), 1):
            row = future.result()
            done[row["key"]] = row
            _append(log_path, row)
            outcome = row.get("accuracy", row.get("failure", "scored"))
            say(f"[{count}/{len(todo)}] {row['key']}: {outcome} ({row.get('wall_seconds', row.get('seconds'))} s)")
    return done
