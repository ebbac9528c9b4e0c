"""Zoo entries: a known net's name, the function that writes it as a spec, and its reference.

Each entry says exactly which reference implementation it equals (library,
constructor name, constructor arguments, reference resolution); the zoo tests
check parameters, MACs and outputs against that reference, so an entry is a
claim the test suite verifies rather than a description.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from searchspace.spec import NetSpec
from searchspace.zoo_names import ZOO_NAMES, ZooError, check_zoo_name, close_names_hint  # noqa: F401  (re-exported)

# Options every entry accepts: they change the input or the classifier, not the net's body.
UNIVERSAL_OPTIONS = ("resolution", "num_classes", "in_channels")


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


@dataclass(frozen=True)
class Alias:
    """Another library's name for a zoo net, e.g. timm's ``mobilenetv3_large_100`` for ``mobilenet_v3_large``.

    ``overrides`` are the net-wide settings in which that library's model differs
    (timm keeps PyTorch's batch-norm defaults where torchvision uses TensorFlow's):
    the alias names that library's net exactly, so its weights give its outputs.
    """

    name: str
    target: str  # the zoo name
    reference: Reference
    overrides: Mapping[str, Any] = field(default_factory=dict)  # NetSpec fields, e.g. {"norm_eps": 1e-5}

    def entry(self) -> ZooEntry:
        base = _ENTRIES[self.target]
        overrides = dict(self.overrides)

        def make(**options: Any) -> NetSpec:
            spec = base.make(**options)
            return replace(spec, **overrides) if overrides else spec

        return replace(base, name=self.name, make=make, reference=self.reference,
                       note=f"{self.reference.library}'s name for {self.target}")


_ENTRIES: dict[str, ZooEntry] = {}
_ALIASES: dict[str, Alias] = {}


def register(*entries: ZooEntry) -> None:
    for entry in entries:
        if entry.name in _ENTRIES or entry.name in _ALIASES:
            raise RuntimeError(f"zoo entry {entry.name!r} is registered twice")
        if entry.name not in ZOO_NAMES:  # the command line checks names against that torch-free list
            raise RuntimeError(f"zoo entry {entry.name!r} is missing from searchspace/zoo_names.py")
        _ENTRIES[entry.name] = entry


def register_aliases(*aliases: Alias) -> None:
    for alias in aliases:
        if alias.name in _ENTRIES or alias.name in _ALIASES or alias.target not in _ENTRIES:
            raise RuntimeError(f"zoo alias {alias.name!r} clashes with a name or names no zoo net ({alias.target!r})")
        _ALIASES[alias.name] = alias


def entry(name: str) -> ZooEntry:
    """The entry of a zoo name or of an alias (another library's name for a zoo net)."""
    if name in _ENTRIES:
        return _ENTRIES[name]
    if name in _ALIASES:
        return _ALIASES[name].entry()
    check_zoo_name(name)
    raise RuntimeError(f"zoo net {name!r} is listed in searchspace/zoo_names.py but not registered")


def all_entries() -> list[ZooEntry]:
    return list(_ENTRIES.values())


def all_aliases() -> list[Alias]:
    return list(_ALIASES.values())
