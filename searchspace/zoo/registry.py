"""Zoo entries: a known net's name, the function that writes it as a spec, and its reference.

Each entry says exactly which reference implementation it equals (library,
constructor name, constructor arguments, reference resolution); the zoo tests
check parameters, MACs and outputs against that reference, so an entry is a
claim the test suite verifies rather than a description.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from searchspace.fields import SpecError
from searchspace.spec import NetSpec

# Options every entry accepts: they change the input or the classifier, not the net's body.
UNIVERSAL_OPTIONS = ("resolution", "num_classes", "in_channels")


class ZooError(SpecError):
    """An unknown zoo name or option, or a reference state dict that does not fit."""


@dataclass(frozen=True)
class Reference:
    library: str  # "torchvision", "timm" or "paper"
    name: str  # constructor name in that library
    resolution: int  # the resolution its published MACs are given at
    kwargs: Mapping[str, Any] = field(default_factory=dict)  # constructor arguments that make it this net


@dataclass(frozen=True)
class ZooEntry:
    name: str
    family: str
    make: Callable[..., NetSpec]  # called with the family options as keywords
    reference: Reference
    options: Mapping[str, Any] = field(default_factory=dict)  # family options and their defaults
    # Reorders the reference state dict's keys into this toolkit's module order,
    # for families whose reference registers modules out of forward order.
    reference_order: Callable[[list[str]], list[str]] | None = None
    note: str = ""

    def spec(self, **options: Any) -> NetSpec:
        unknown = sorted(set(options) - set(self.options) - set(UNIVERSAL_OPTIONS))
        if unknown:
            allowed = ", ".join([*self.options, *UNIVERSAL_OPTIONS])
            raise ZooError(f"option {unknown[0]!r} is not allowed for {self.name} (allowed: {allowed})")
        family = {k: options.get(k, default) for k, default in self.options.items()}
        spec = self.make(**family)
        universal = {k: options[k] for k in UNIVERSAL_OPTIONS if k in options}
        return replace(spec, **universal) if universal else spec


def flag_option(name: str, value: Any) -> bool:
    """A yes/no family option (``aux_logits``); merely truthy values are refused, not guessed at."""
    if not isinstance(value, bool):
        raise ZooError(f"option {name} = {value!r} is not allowed: must be True or False")
    return value


_ENTRIES: dict[str, ZooEntry] = {}


def register(*entries: ZooEntry) -> None:
    for entry in entries:
        if entry.name in _ENTRIES:
            raise RuntimeError(f"zoo entry {entry.name!r} is registered twice")
        _ENTRIES[entry.name] = entry


def entry(name: str) -> ZooEntry:
    try:
        return _ENTRIES[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_ENTRIES), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else f" (see searchspace.zoo.names(): {len(_ENTRIES)} nets)"
        raise ZooError(f"zoo net {name!r} is not known{hint}") from None


def all_entries() -> list[ZooEntry]:
    return list(_ENTRIES.values())
