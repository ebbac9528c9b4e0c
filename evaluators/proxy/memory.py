"""Peak device memory of a training, as reported in ``ProxyResult.peak_memory_mb``."""

from __future__ import annotations

import torch


class PeakMemory:
    """CUDA memory the candidate needed beyond a baseline; ``None`` on a CPU.

    ``set_baseline`` is called once the dataset is resident, so the figure
    covers what differs between candidates: weights, gradients, optimizer
    state, activations and workspace.  ``start_peak`` resets PyTorch's peak
    counter (per process and device: concurrent trainings in one process
    would share it) after regime probing, whose snapshot copies are not part
    of training.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.baseline = 0

    def set_baseline(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.baseline = torch.cuda.memory_allocated(self.device)

    def start_peak(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)

    def peak_mb(self) -> float | None:
        if self.device.type != "cuda":
            return None
        torch.cuda.synchronize(self.device)
        return max(0, torch.cuda.max_memory_allocated(self.device) - self.baseline) / 2**20
