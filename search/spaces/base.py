"""What every search space offers: sampling, a static knob listing, a size estimate, known nets."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from search.errors import UserError
from search.spaces.domains import Domain
from search.spaces.suggest import Suggest
from searchspace import NetSpec, zoo


@dataclass(frozen=True)
class SpaceContext:
    """The deployment a space samples nets for.

    ``resolution`` is the input size before any resolution multiplier: a
    space with a resolution knob samples ``round(resolution * multiplier)``.
    """

    in_channels: int = 3
    num_classes: int = 1000
    resolution: int = 224


@dataclass(frozen=True)
class KnobInfo:
    """One knob as listings and reports show it.

    ``values`` holds a categorical knob's choices; ``low``/``high`` (and
    ``step`` for integers) an integer or real range.  ``when`` is empty for a
    knob every net has, else the condition under which it is asked
    (``"stage2.block in (mbconv, fused)"``).  ``note`` says anything else a
    reader needs, e.g. that a constraint narrows the range per net.
    """

    name: str
    kind: str  # "categorical" | "integer" | "real"
    values: tuple[Any, ...] | None = None
    low: int | float | None = None
    high: int | float | None = None
    log: bool = False
    when: str = ""
    step: int | None = None
    note: str = ""

    @classmethod
    def of(cls, name: str, domain: Domain, when: str = "", note: str = "") -> KnobInfo:
        step = domain.step if domain.kind == "integer" else None
        return cls(name, domain.kind, domain.values, domain.low, domain.high, domain.log, when, step, note)

    def domain_text(self) -> str:
        """The knob's values as listings show them: ``{a, b}`` or ``[low, high] step s log``."""
        if self.values is not None:
            return "{" + ", ".join(map(str, self.values)) + "}"
        return f"[{self.low}, {self.high}]" + (f" step {self.step}" if self.step else "") + (" log" if self.log else "")

    @property
    def domain(self) -> Domain:
        return Domain(self.kind, self.values, self.low, self.high, self.step or 1, self.log)


class Space(ABC):
    """A set of nets, sampled define-by-run through a :class:`Suggest`.

    ``baselines`` names the zoo nets inside the space; ``known_point(name)``
    gives the knob values whose sample is exactly that net (under any
    :class:`SpaceContext`, with the context's resolution, classes and input
    channels).  ``sample`` never fails on values its knobs allow: invalid
    combinations are repaired or never offered.
    """

    name: str
    description: str

    @property
    @abstractmethod
    def baselines(self) -> tuple[str, ...]: ...

    @abstractmethod
    def sample(self, suggest: Suggest, context: SpaceContext) -> NetSpec: ...

    @abstractmethod
    def knobs(self) -> list[KnobInfo]: ...

    @abstractmethod
    def log10_size(self) -> float:
        """log10 of the number of distinct knob settings (each real knob counting as 100 values)."""

    @abstractmethod
    def known_point(self, zoo_name: str) -> dict[str, Any]: ...

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class TabledSpace(Space):
    """A space whose known nets are a table: zoo name -> what :meth:`point` turns into the net's knob values."""

    known: dict[str, Any] = {}

    @property
    def baselines(self) -> tuple[str, ...]:
        return registered(list(self.known))

    def known_point(self, zoo_name: str) -> dict[str, Any]:
        if zoo_name not in self.known:
            raise not_a_baseline(self, zoo_name)
        return self.point(self.known[zoo_name])

    def point(self, entry: Any) -> dict[str, Any]:
        """The knob values of a table entry; the entry itself by default."""
        return dict(entry)


def registered(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The names the zoo knows, in order: a space may declare a net its family is still adding."""
    known = set(zoo.names())
    return tuple(name for name in names if name in known)


def not_a_baseline(space: Space, zoo_name: str) -> UserError:
    listed = ", ".join(space.baselines) or "none"
    return UserError(f"zoo net {zoo_name!r} is not a known point of space {space.name!r} (its baselines: {listed})")
