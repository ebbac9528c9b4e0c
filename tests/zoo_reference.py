"""Building the reference implementations (torchvision, timm) that zoo entries claim to equal."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from searchspace import build, zoo
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


@contextlib.contextmanager
def _gather_excite_constructible() -> Iterator[None]:
    """timm 1.0.31's ``GatherExcite`` passes ``*dd`` (the dict's keys) to ``ConvMlp``, which then fails.

    The stray positional ``"device", "dtype"`` are dropped, and nothing else
    changes: the module timm builds and runs is its own.
    """
    from timm.layers import gather_excite

    original = gather_excite.ConvMlp

    def conv_mlp(in_features, hidden_features, *stray, **kwargs):
        if stray not in ((), ("device", "dtype")):
            raise TypeError(f"unexpected positional arguments {stray!r}")
        return original(in_features, hidden_features, **kwargs)

    gather_excite.ConvMlp = conv_mlp
    try:
        yield
    finally:
        gather_excite.ConvMlp = original


def _mnasnet_at_width(entry: ZooEntry, kwargs: dict) -> nn.Module:
    """torchvision's mnasnet0_5 ... mnasnet1_3 each fix alpha; another width needs the MNASNet class."""
    from torchvision.models import MNASNet

    alpha = kwargs.pop("width_mult", entry.options["width_mult"])
    return MNASNet(alpha=alpha, **kwargs)


# Families whose zoo options the named torchvision constructor does not take as they are:
# with options, the reference is built by this function of (entry, constructor arguments).
_TORCHVISION_WITH_OPTIONS = {"mnasnet": _mnasnet_at_width}


def _torchvision_model(entry: ZooEntry, options: dict) -> nn.Module:
    import torchvision

    kwargs = {**entry.reference.kwargs, **options}
    if options and entry.family in _TORCHVISION_WITH_OPTIONS:
        return _TORCHVISION_WITH_OPTIONS[entry.family](entry, kwargs)
    return torchvision.models.get_model(entry.reference.name, weights=None, **kwargs)


def reference_model(entry: ZooEntry, **options) -> nn.Module:
    """The reference net on the meta device (shapes only), built with the entry's arguments and ``options``."""
    kwargs = {**entry.reference.kwargs, **options}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchvision's FutureWarnings about init defaults
        if entry.reference.library == "torchvision":
            with _regnet_generator_on_cpu(), torch.device("meta"):
                return _torchvision_model(entry, options).eval()
        if entry.reference.library == "timm":
            import timm

            with _gather_excite_constructible(), torch.device("meta"):
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
    _recompute_derived_buffers(model)
    return model


def _recompute_derived_buffers(model: nn.Module) -> None:
    """Buffers a reference computes from its settings when built (torchvision Swin's relative position tables).

    They are not weights: random values in them would make the reference compute something else.
    """
    from torchvision.models.swin_transformer import ShiftedWindowAttention, ShiftedWindowAttentionV2

    for module in model.modules():
        if isinstance(module, ShiftedWindowAttentionV2):
            module.define_relative_position_bias_table()  # V2's registers the coordinate table, no parameter
        if isinstance(module, ShiftedWindowAttention):
            module.define_relative_position_index()


def meta_macs(model: nn.Module, resolution: int, channels: int = 3) -> int:
    """MACs of one forward pass as torch counts them (FLOPs / 2), on the meta device."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.empty(1, channels, resolution, resolution, device="meta"))
    return counter.get_total_flops() // 2


def converted_zoo_net(name: str, reference: nn.Module, resolution: int, **options) -> nn.Module:
    """The zoo net at ``resolution``, in eval mode, holding ``reference``'s weights through the converter."""
    with torch.device("meta"):
        ours = build(zoo.get(name, resolution=resolution, **options)).eval()
    ours.load_state_dict(zoo.convert_state_dict(name, reference.state_dict(), **options), strict=True, assign=True)
    return ours


def random_images(resolution: int, batch: int = 2) -> torch.Tensor:
    return torch.randn(batch, 3, resolution, resolution, generator=torch.Generator().manual_seed(1))


def assert_logits_close(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """Equal up to float rounding, relative to the largest logit (random nets have no natural scale)."""
    scale = expected.abs().max()
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4 * float(scale))


def assert_outputs_equal_reference(name: str, resolution: int, **options) -> None:
    """The zoo net, given the reference's random weights through the converter, computes the reference's logits."""
    reference = randomize_(reference_model(zoo.info(name), **options))
    ours = converted_zoo_net(name, reference, resolution, **options)
    images = random_images(resolution)
    with torch.no_grad():
        assert_logits_close(ours(images), reference(images))
