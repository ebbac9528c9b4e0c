"""Load trained weights into a built net: its own state dicts, or a torchvision or timm model's.

A reference library's state dict goes through the zoo's converter, which checks
every tensor.  Two differences are adapted instead of refused, as timm does:
another number of classes (the classifier keeps its fresh initialisation, and
a warning says so) and another number of input channels (the first conv's
RGB filters are summed for one channel, or repeated and rescaled for more).
Everything else must fit exactly.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from os import PathLike
from pathlib import Path

import torch

from searchspace.build import Net
from searchspace.zoo import ZooError, convert_state_dict

log = logging.getLogger("searchspace.pretrained")

StateDictSource = Mapping[str, torch.Tensor] | str | PathLike

# Checkpoint files often wrap the state dict (this toolkit's `pt` export, training scripts).
_WRAPPER_KEYS = ("state_dict", "model", "model_state_dict")


def read_state_dict(source: StateDictSource) -> Mapping[str, torch.Tensor]:
    """A state dict given as a mapping or a file written by ``torch.save`` (tensors only, never code)."""
    if isinstance(source, (str, PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ZooError(f"pretrained = {str(source)!r} is not allowed: no such file (give a state dict or a path to one)")
        source = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(source, Mapping):
        raise ZooError(f"pretrained = {type(source).__name__} is not allowed: give a state dict or a path to one")
    for key in _WRAPPER_KEYS:
        if isinstance(source.get(key), Mapping):
            return source[key]
    return source


def _classes_and_channels(state_dict: Mapping[str, torch.Tensor]) -> tuple[int, int]:
    """The classes of the last linear weight and the input channels of the first conv weight."""
    weights = [(k, t) for k, t in state_dict.items() if k.endswith("weight") and isinstance(t, torch.Tensor)]
    linear = [t for _, t in weights if t.dim() == 2]
    convs = [t for _, t in weights if t.dim() == 4]
    if not linear or not convs:
        raise ZooError("pretrained: the state dict has no convolution or no classifier weights; is it a whole classifier's?")
    return linear[-1].shape[0], convs[0].shape[1]


def adapt_input_conv(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """RGB filters for another number of input channels, keeping the response to a grey image."""
    if in_channels == 1:
        return weight.sum(dim=1, keepdim=True)
    repeats = math.ceil(in_channels / weight.shape[1])
    return weight.repeat(1, repeats, 1, 1)[:, :in_channels] * (weight.shape[1] / in_channels)


def _in_reference_layout(net: Net, state_dict: Mapping[str, torch.Tensor], zoo_name: str | None) -> dict[str, torch.Tensor]:
    """The state dict with this net's keys: as it is if it has them, else through the zoo's converter."""
    if set(state_dict) == set(net.state_dict()):
        return dict(state_dict)
    if zoo_name is None:
        raise ZooError("pretrained: the state dict's keys are not this net's, and only a zoo net (given by name) "
                       "knows how another library's keys map onto it")
    classes, channels = _classes_and_channels(state_dict)
    return convert_state_dict(zoo_name, state_dict, num_classes=classes, in_channels=channels)


def _is_classifier(key: str) -> bool:
    """The last linear layer of the head or of an auxiliary head (``head.classifier.fc.weight``)."""
    return key.split(".")[-3:-1] == ["classifier", "fc"]


def load_pretrained(net: Net, source: StateDictSource, zoo_name: str | None = None) -> None:
    """Load ``source`` into ``net`` (in place); ``zoo_name`` lets a torchvision or timm state dict be converted."""
    tensors = _in_reference_layout(net, read_state_dict(source), zoo_name)
    own = net.state_dict()
    first_conv = next(k for k, t in own.items() if k.endswith("weight") and t.dim() == 4)
    classifier = [k for k, t in own.items() if _is_classifier(k) and tensors[k].shape != t.shape]
    source_classes = {tensors[k].shape[0] for k in classifier}
    for key in classifier:
        del tensors[key]
    for key, target in own.items():
        if key in tensors and tensors[key].shape != target.shape:
            if key != first_conv or tensors[key].shape[1] == target.shape[1]:
                raise ZooError(f"pretrained: {key!r} has shape {tuple(tensors[key].shape)}, this net needs {tuple(target.shape)}")
            tensors[key] = adapt_input_conv(tensors[key], target.shape[1])
    outcome = net.load_state_dict(tensors, strict=False)
    if outcome.unexpected_keys or set(outcome.missing_keys) != set(classifier):
        raise ZooError(f"pretrained: the state dict does not fit this net (missing {outcome.missing_keys[:3]}, "
                       f"unexpected {outcome.unexpected_keys[:3]})")
    if classifier:
        log.warning("pretrained classifier has %s classes, this net %d: %s re-initialised, the rest loaded",
                    "/".join(map(str, sorted(source_classes))), net.spec.num_classes, ", ".join(classifier))
