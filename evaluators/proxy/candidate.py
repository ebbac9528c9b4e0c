"""Turning what the caller passed (a spec or a module) into a module to train."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

from torch import nn

from evaluators.proxy.failures import InvalidSpecError


@dataclass(frozen=True)
class Candidate:
    module: nn.Module
    fingerprint: str  # identifies the architecture in the regime cache


def is_spec(obj: object) -> bool:
    """Specs are duck-typed (``digest()``), so this package need not import the search space."""
    return not isinstance(obj, nn.Module) and hasattr(obj, "digest")


def check_candidate_type(obj: object) -> None:
    if not isinstance(obj, nn.Module) and not is_spec(obj):
        raise TypeError(f"spec_or_module must be an nn.Module or a NetSpec, got {type(obj).__name__}")


def materialise(spec_or_module: object, *, in_channels: int, num_classes: int, resolution: int) -> Candidate:
    """The module to train and its fingerprint.

    A spec is first adapted to the data (input channels, classes) and to the
    proxy resolution, then built; a spec that cannot be adapted or built
    raises :class:`InvalidSpecError`.  Building draws initial weights from the
    global generator, which the caller has seeded.  A module is used as it is:
    it is trained in place.
    """
    check_candidate_type(spec_or_module)
    if isinstance(spec_or_module, nn.Module):
        return Candidate(spec_or_module, module_fingerprint(spec_or_module))
    from searchspace import build  # imported here: evaluators must not need the search space to load

    try:
        # Every layer kept, a token net's patch too: its grid shrinks with the image (docs/proxy.md).
        adapted = dataclasses.replace(spec_or_module, in_channels=in_channels, num_classes=num_classes)  # type: ignore[type-var]
        # Any spec a build() accepts may come here (tests pass their own); only a net spec has a resolution to set.
        spec = _at_resolution(adapted, resolution)
        module = build(spec)
    except ValueError as exc:
        raise InvalidSpecError(f"spec cannot be trained at {in_channels}x{resolution}x{resolution} with {num_classes} classes: {exc}") from exc
    return Candidate(module, f"spec:{spec.digest()}")


def module_fingerprint(module: nn.Module) -> str:
    """A digest of a module's structure: class, ``repr`` and tensor shapes.

    ``repr`` lists every submodule with its configuration, which is what
    decides the speed of a training step; weights' values do not.  Two
    modules that differ only inside a custom ``forward`` collide, which costs
    at most a regime chosen from the other module's timings.
    """
    digest = hashlib.sha256()
    digest.update(f"{type(module).__module__}.{type(module).__qualname__}\n{module!r}\n".encode())
    for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}\n".encode())
    return f"module:{digest.hexdigest()[:32]}"


def _at_resolution(spec, resolution: int):
    """A net spec at ``resolution``, patches scaled; any other spec a ``build`` accepts (tests pass their own) as is."""
    if not hasattr(spec, "stem"):
        return dataclasses.replace(spec, resolution=resolution)
    from searchspace.scaling import at_resolution

    return at_resolution(spec, resolution)
