"""Device names as users type them (``cpu``, ``cuda``, ``cuda:N``) and what they mean here.

Every entry point that takes a device validates it with :func:`resolve_device`
before doing any work, so an unknown or absent device is one clear error and
not a CUDA traceback halfway through a search.
"""

from __future__ import annotations

import contextlib
import platform
import re
from collections.abc import Iterator

import torch

from evaluators.errors import DeviceError


_DEVICE_PATTERN = re.compile(r"^(cpu|cuda)(?::(\d+))?$")


def resolve_device(text: str | torch.device) -> torch.device:
    """Parse and check a device string; raise :class:`DeviceError` if unusable."""
    raw = str(text).strip().lower()
    match = _DEVICE_PATTERN.match(raw)
    if match is None:
        raise DeviceError(f"device {str(text)!r} is not recognised (allowed: cpu, cuda, cuda:N)")
    kind, index = match.group(1), match.group(2)
    if kind == "cpu":
        if index is not None:
            raise DeviceError(f"device {str(text)!r} is not recognised (allowed: cpu, cuda, cuda:N)")
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise DeviceError(f"device {raw!r} is not available: torch.cuda.is_available() is False on this machine")
    count = torch.cuda.device_count()
    ordinal = int(index) if index is not None else torch.cuda.current_device()
    if ordinal >= count:
        raise DeviceError(f"device {raw!r} does not exist: this machine has {count} CUDA device(s), cuda:0..cuda:{count - 1}")
    return torch.device("cuda", ordinal)


def device_name(device: str | torch.device) -> str:
    """A human-readable, stable name of the hardware behind ``device``.

    Used in cache keys and run metadata: two machines with the same CPU model
    share latency measurements only if their names agree.
    """
    dev = resolve_device(device)
    if dev.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(dev)}"
    return f"cpu:{_cpu_model()}"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


@contextlib.contextmanager
def cudnn_autotuned(device: torch.device) -> Iterator[None]:
    """On CUDA, let cuDNN benchmark its kernels for the shapes in use; restore the flag afterwards.

    Both timing and training run one fixed shape many times (latency at batch
    1, training with partial batches dropped), so the one-off tuning in the
    first runs is repaid by all the others, and a deployed model runs with
    tuned kernels too.  Elsewhere this does nothing.
    """
    if device.type != "cuda":
        yield
        return
    previous = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = previous
