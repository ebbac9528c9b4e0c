"""What a proxy scores: a network, its input shape, and a private copy to run.

Every proxy is allowed to mutate the model it is handed (synflow replaces the
weights by their absolute values and casts to float64, the gradient proxies
fill ``.grad``, batch statistics update running buffers), so the caller's
object never reaches a proxy: a spec is built fresh and a module is deep
copied.  The copy costs one more set of parameters and buffers in memory and
the time to copy them, small next to one forward/backward pass of the CNN
classifiers scored here, and it makes "the caller's module is unchanged" true
by construction instead of by careful restoring.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

if TYPE_CHECKING:
    from evaluators.data.base import ImageDataset


def is_spec(candidate: object) -> bool:
    """True for an architecture spec (the search-space's ``NetSpec``)."""
    return not isinstance(candidate, nn.Module) and hasattr(candidate, "digest")


def adapt_spec(spec: Any, dataset: ImageDataset | None, resolution: int | None) -> Any:
    """The spec as it must be built to classify ``dataset`` at ``resolution``.

    Channels and classes always follow the dataset (a spec searched on one
    dataset is scored on another without the caller rewriting it); the
    resolution changes only when asked for, because it is part of the
    architecture: it sets the feature-map sizes and so the cost.
    """
    changes: dict[str, int] = {}
    if dataset is not None:
        changes["in_channels"] = dataset.in_channels
        changes["num_classes"] = dataset.num_classes
    if resolution is not None:
        changes["resolution"] = resolution
    return dataclasses.replace(spec, **changes) if changes else spec


@dataclass(frozen=True)
class ScoringTarget:
    """The network to score and the shape of one input to it.

    ``network`` is the adapted spec when ``from_spec`` is true, else the
    caller's module (read, never run).  ``input_shape`` is (channels, height,
    width), or None when it cannot be known (a plain module and no dataset).
    """

    network: Any
    from_spec: bool
    input_shape: tuple[int, int, int] | None

    def require_input_shape(self, method: str) -> tuple[int, int, int]:
        if self.input_shape is None:
            raise ValueError(
                f"method {method!r} needs the input shape, which a plain nn.Module does not declare: "
                "pass a dataset (its channel count and resolution give the shape)"
            )
        return self.input_shape

    def private_model(self, seed: int, device: torch.device) -> nn.Module:
        """A model that is the proxy's to mutate, on ``device``.

        A spec is built with the global random state seeded by ``seed`` (inside
        a forked RNG, so the caller's random stream is left as it was): the
        weight initialisation is part of what a proxy scores, and the same
        seed must give the same score.  A module is deep-copied as it is.
        """
        if self.from_spec:
            from searchspace import build

            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model = build(self.network)
        else:
            model = copy.deepcopy(self.network)
        return model.to(device)


def resolve_target(
    spec_or_module: object, dataset: ImageDataset | None, resolution: int | None
) -> ScoringTarget:
    """Classify the caller's network and work out the input shape it is scored at.

    Resolution: the explicit ``resolution`` if given; otherwise a spec's own
    resolution (the one it was designed and costed for) and, for a module,
    which declares none, the dataset's.
    """
    if is_spec(spec_or_module):
        spec = adapt_spec(spec_or_module, dataset, resolution)
        side = int(spec.resolution)
        return ScoringTarget(network=spec, from_spec=True, input_shape=(int(spec.in_channels), side, side))
    if isinstance(spec_or_module, nn.Module):
        shape: tuple[int, int, int] | None = None
        if dataset is not None:
            side = resolution if resolution is not None else dataset.resolution
            shape = (dataset.in_channels, side, side)
        return ScoringTarget(network=spec_or_module, from_spec=False, input_shape=shape)
    raise TypeError(
        f"expected an architecture spec (an object with a 'digest') or a torch.nn.Module, "
        f"got {type(spec_or_module).__name__}"
    )


def input_dtype(model: nn.Module) -> torch.dtype:
    """The floating dtype the model computes in (float32 if it has no parameters)."""
    for parameter in model.parameters():
        if parameter.is_floating_point():
            return parameter.dtype
    return torch.float32
