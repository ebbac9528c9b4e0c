"""Building the reference implementations (torchvision, timm) that zoo entries claim to equal."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import torch
from torch import nn

from searchspace.zoo import ZooEntry


@contextlib.contextmanager
def _regnet_generator_on_cpu() -> Iterator[None]:
    """torchvision's RegNet generator computes widths with tensors, which fail on the meta device."""
    from torchvision.models.regnet import BlockParams

    original = BlockParams.__dict__["from_init_params"]

    def on_cpu(cls, *args, **kwargs):
        with torch.device("cpu"):
            return original.__func__(cls, *args, **kwargs)

    BlockParams.from_init_params = classmethod(on_cpu)
    try:
        yield
    finally:
        BlockParams.from_init_params = original


def reference_model(entry: ZooEntry, **options) -> nn.Module:
    """The reference net on the meta device (shapes only), built with the entry's arguments."""
    kwargs = {**entry.reference.kwargs, **options}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchvision's FutureWarnings about init defaults
        if entry.reference.library == "torchvision":
            import torchvision

            with _regnet_generator_on_cpu(), torch.device("meta"):
                return torchvision.models.get_model(entry.reference.name, weights=None, **kwargs).eval()
        if entry.reference.library == "timm":
            import timm

            with torch.device("meta"):
                return timm.create_model(entry.reference.name, pretrained=False, **kwargs).eval()
    raise ValueError(f"{entry.name}: no buildable reference ({entry.reference.library})")


def reference_resolution(entry: ZooEntry) -> int:
    """The resolution the reference publishes its MACs at, asked of the reference library itself."""
    if entry.reference.library == "torchvision":
        from torchvision.models import get_model_weights

        return get_model_weights(entry.reference.name).DEFAULT.transforms().crop_size[0]
    import timm

    return timm.get_pretrained_cfg(entry.reference.name).input_size[-1]


def randomize_(model: nn.Module, seed: int = 0) -> nn.Module:
    """Materialise a meta model on the CPU with random weights *and* random norm statistics.

    Random running means and variances make a wrong mapping of batch-norm
    buffers visible in the outputs; the scales keep activations of order one
    through deep nets so that a relative tolerance means something.
    """
    model.to_empty(device="cpu")
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            for name, tensor in list(module.named_parameters(recurse=False)) + list(module.named_buffers(recurse=False)):
                if tensor.dtype == torch.long:  # num_batches_tracked
                    tensor.zero_()
                elif name == "running_var":
                    tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
                elif isinstance(module, nn.modules.batchnorm._NormBase) and name == "weight":
                    tensor.copy_(torch.rand(tensor.shape, generator=generator) * 0.5 + 0.75)
                elif tensor.dim() >= 2:
                    fan_in = tensor[0].numel()
                    tensor.copy_(torch.randn(tensor.shape, generator=generator) * (1.0 / fan_in) ** 0.5)
                else:  # biases, norm shifts, running means
                    tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.1)
    return model
