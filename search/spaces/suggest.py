"""Define-by-run sampling: a space asks for each knob's value by name as it builds a net.

The :class:`Suggest` protocol is optuna's ``trial.suggest_*`` reduced to what
spaces need.  Three implementations:

* :class:`OptunaSuggest` - the values come from an optuna trial (any sampler);
* :class:`RandomSuggest` - uniform random values from a numpy generator, for
  design-space exploration and tests;
* :class:`FixedSuggest` - the values come from a dict (a known net's point, a
  trial's params), checked against each knob's domain.

Use one instance per sampled net, as optuna uses one trial per net: asking
for a name a second time gives back the value already chosen, as
``trial.suggest_*`` does.  Every implementation records what it gave in
``params`` (name -> value, in the order asked), which ``FixedSuggest`` replays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from search.errors import UserError

# What optuna can store as a categorical choice (its storages keep choices as JSON).
JSON_SCALARS = (type(None), bool, int, float, str)


@runtime_checkable
class Suggest(Protocol):
    def categorical(self, name: str, choices: Sequence[Any]) -> Any: ...

    def integer(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int: ...

    def real(self, name: str, low: float, high: float, *, log: bool = False) -> float: ...


class KnobValueError(UserError):
    """A replayed value is missing or lies outside its knob's domain."""


class _Recording:
    """Shared bookkeeping: remember each value, give it back when a name is asked again."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def categorical(self, name: str, choices: Sequence[Any]) -> Any:
        choices = tuple(choices)
        if not choices:
            raise ValueError(f"knob {name!r}: no choices")
        if name in self.params and _among(self.params[name], choices):
            return self.params[name]
        return self._record(name, self._categorical(name, choices))

    def integer(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        _check_range(name, low, high)
        if log and (step != 1 or low < 1):
            raise ValueError(f"knob {name!r}: a log-scaled integer range needs step 1 and a low end of at least 1")
        previous = self.params.get(name)
        if isinstance(previous, int) and low <= previous <= high and (previous - low) % step == 0:
            return previous
        return self._record(name, self._integer(name, low, high, step, log))

    def real(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        _check_range(name, low, high)
        if log and low <= 0:
            raise ValueError(f"knob {name!r}: a log-scaled range needs a positive low end")
        previous = self.params.get(name)
        if isinstance(previous, float) and low <= previous <= high:
            return previous
        return self._record(name, self._real(name, low, high, log))

    def _record(self, name: str, value: Any) -> Any:
        self.params[name] = value
        return value

    def _categorical(self, name: str, choices: tuple[Any, ...]) -> Any:
        raise NotImplementedError

    def _integer(self, name: str, low: int, high: int, step: int, log: bool) -> int:
        raise NotImplementedError

    def _real(self, name: str, low: float, high: float, log: bool) -> float:
        raise NotImplementedError


def _check_range(name: str, low: float, high: float) -> None:
    if low > high:
        raise ValueError(f"knob {name!r}: low {low} is above high {high}")


def _among(value: Any, choices: Sequence[Any]) -> bool:
    # True == 1 in Python; keep booleans and numbers apart.
    return any(value == c and isinstance(value, bool) == isinstance(c, bool) for c in choices)


class OptunaSuggest(_Recording):
    """Values from an optuna trial (``study.ask()``, or the trial an objective receives)."""

    def __init__(self, trial: Any) -> None:
        super().__init__()
        self.trial = trial

    def _categorical(self, name: str, choices: tuple[Any, ...]) -> Any:
        for choice in choices:
            if not isinstance(choice, JSON_SCALARS):
                raise TypeError(f"knob {name!r}: optuna stores choices as JSON; {choice!r} is not a string, number, bool or None")
        return self.trial.suggest_categorical(name, list(choices))

    def _integer(self, name: str, low: int, high: int, step: int, log: bool) -> int:
        return self.trial.suggest_int(name, low, high, step=step, log=log)

    def _real(self, name: str, low: float, high: float, log: bool) -> float:
        return self.trial.suggest_float(name, low, high, log=log)


class RandomSuggest(_Recording):
    """Uniform random values: each choice equally likely; ranges uniform, or uniform in log space."""

    def __init__(self, seed: int | np.random.Generator | None = None) -> None:
        super().__init__()
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def _categorical(self, name: str, choices: tuple[Any, ...]) -> Any:
        return choices[int(self.rng.integers(len(choices)))]

    def _integer(self, name: str, low: int, high: int, step: int, log: bool) -> int:
        if log:
            # As optuna does: uniform in log space over [low - 0.5, high + 0.5], then rounded,
            # so every integer gets the share of the log axis nearest to it.
            value = round(math.exp(self.rng.uniform(math.log(low - 0.5), math.log(high + 0.5))))
            return int(min(max(value, low), high))
        return int(low + step * self.rng.integers((high - low) // step + 1))

    def _real(self, name: str, low: float, high: float, log: bool) -> float:
        if log:
            return float(math.exp(self.rng.uniform(math.log(low), math.log(high))))
        return float(self.rng.uniform(low, high))


class FixedSuggest(_Recording):
    """Replays given values; a missing name or a value outside the knob's domain is a clear error.

    ``used`` lists the names the space asked for; :meth:`unused` the given
    names it never asked for (stale or misspelt entries of a point).
    """

    def __init__(self, values: Mapping[str, Any]) -> None:
        super().__init__()
        self.values = dict(values)

    @property
    def used(self) -> tuple[str, ...]:
        return tuple(self.params)

    def unused(self) -> list[str]:
        return [name for name in self.values if name not in self.params]

    def _given(self, name: str) -> Any:
        if name not in self.values:
            given = ", ".join(sorted(self.values)) or "none"
            raise KnobValueError(f"no value for knob {name!r} (values were given for: {given})")
        return self.values[name]

    def _categorical(self, name: str, choices: tuple[Any, ...]) -> Any:
        value = self._given(name)
        for choice in choices:
            if _among(value, (choice,)):
                return choice  # the space's own spelling (6 for 6.0)
        raise KnobValueError(f"knob {name!r}: {value!r} is not allowed (choices: {', '.join(map(repr, choices))})")

    def _integer(self, name: str, low: int, high: int, step: int, log: bool) -> int:
        value = self._given(name)
        whole = not isinstance(value, bool) and isinstance(value, (int, float)) and float(value).is_integer()
        if not whole or not low <= value <= high or (int(value) - low) % step:
            grid = f" in steps of {step} from {low}" if step != 1 else ""
            raise KnobValueError(f"knob {name!r}: {value!r} is not allowed (an integer from {low} to {high}{grid})")
        return int(value)

    def _real(self, name: str, low: float, high: float, log: bool) -> float:
        value = self._given(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise KnobValueError(f"knob {name!r}: {value!r} is not allowed (a number from {low} to {high})")
        return float(value)
