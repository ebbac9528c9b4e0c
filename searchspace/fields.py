"""Declarative spec fields: one declaration gives validation, JSON and the compact string.

A spec class declares each of its fields with :func:`knob`, naming the short
key it has in compact strings (``c`` for out_channels, ``k`` for kernel, ...)
and a codec that knows the field's type.  :class:`SpecBase` then provides, for
every spec kind alike:

* normalisation and validation in ``__post_init__`` (ints stay ints, floats
  become floats, lists become tuples, aliases become canonical names), so two
  specs that mean the same net compare, hash and digest the same;
* ``to_dict``/``from_dict`` for JSON;
* ``encode_fields``/``decode_fields`` for the ``kind_key1value_key2value``
  compact token.

Keeping this generic is what lets a new block kind be added by writing one
file: its fields declare themselves, nothing else needs to know them.
"""

from __future__ import annotations

import dataclasses
import fractions
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from searchspace.shown import shown

MISSING = dataclasses.MISSING


# No field of a real net comes near this (channels, kernels, resolution, classes); a spec beyond it
# is a typo or an attack, and would cost gigabytes to cost out, build or print.
MAX_SPEC_INT = 1_000_000
# The deepest classic stage has 64 blocks (DenseNet-264); a million would take gigabytes to cost out or build.
MAX_REPEATS = 1_000


class SpecError(ValueError):
    """A spec that cannot describe a buildable net (user error)."""


class SpecStringError(SpecError):
    """A compact spec string that cannot be parsed."""


# --------------------------------------------------------------------------------------
# Codecs: one per field type.  Each normalises a Python value (raising SpecError with
# the owner and field in the message), converts to/from JSON and to/from string text.
# --------------------------------------------------------------------------------------


class Codec:
    """Base codec; ``value_text``/``parse_text`` handle the part after the key."""

    words: tuple[str, ...] = ()  # bare words this codec accepts without a key

    def normalize(self, value: Any, where: str) -> Any:
        raise NotImplementedError

    def to_json(self, value: Any) -> Any:
        return value

    def from_json(self, raw: Any, where: str) -> Any:
        return self.normalize(raw, where)

    def encode(self, key: str, value: Any) -> str:
        return key + self.value_text(value)

    def keys(self, key: str) -> tuple[str, ...]:
        """The keys that introduce this field in strings (a slot of several spec kinds has one per kind)."""
        return (key,) if key else ()

    def parse_keyed(self, key: str, text: str, where: str) -> Any:
        """The value after ``key`` (one of :meth:`keys`)."""
        return self.parse_text(text, where)

    def value_text(self, value: Any) -> str:
        raise NotImplementedError

    def parse_text(self, text: str, where: str) -> Any:
        raise NotImplementedError

    def parse_word(self, word: str, where: str) -> Any:
        raise SpecStringError(f"{where}: {shown(word)} is not a value of this field")


def _fail(where: str, value: Any, rule: str) -> SpecError:
    return SpecError(f"{where} = {shown(value)} is not allowed: {rule}")


# A decimal that needs more significant digits than this is arithmetic noise, not a
# value anyone chose: 64/56 = 1.1428571428571428, torchvision's MnasNet momentum
# 1 - 0.9997 = 0.00029999999999996696.  Such values are written in an exact short
# form instead (``8/7``, ``1-0.9997``), which reads back to the very same float,
# so specs, JSON and digests stay as they are and only the string gets readable.
_NOISE_DIGITS = 12
_MAX_DENOMINATOR = 1000


def format_number(value: int | float) -> str:
    """Shortest text that reads back to exactly the same number."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    if isinstance(value, float) and _significant_digits(text) > _NOISE_DIGITS:
        exact = [form for form in (_as_fraction(value), _as_complement(value)) if form is not None]
        return min(exact, key=len, default=text)
    return text


def _significant_digits(text: str) -> int:
    mantissa = text.lower().split("e")[0]
    return len(mantissa.replace("-", "").replace(".", "").lstrip("0"))


def _as_fraction(value: float) -> str | None:
    """``p/q`` with a small denominator, if ``p / q`` is exactly ``value`` (ratios of integer widths)."""
    ratio = fractions.Fraction(value).limit_denominator(_MAX_DENOMINATOR)
    if ratio.denominator == 1 or ratio.numerator / ratio.denominator != value:
        return None
    return f"{ratio.numerator}/{ratio.denominator}"


def _as_complement(value: float) -> str | None:
    """``1-d``, if ``1 - d`` is exactly ``value`` and ``d`` is short (TensorFlow's batch-norm decays)."""
    complement = repr(1.0 - value)
    if _significant_digits(complement) > _NOISE_DIGITS or 1.0 - float(complement) != value:
        return None
    return f"1-{complement}"


def _read_number(text: str) -> float:
    """A decimal, ``p/q`` or ``1-d`` (the forms :func:`format_number` writes); ValueError otherwise."""
    if "/" in text:
        numerator, denominator = text.split("/")
        return int(numerator) / int(denominator)
    if text.startswith("1-"):
        return 1.0 - float(text[2:])
    return float(text)


def _parse_number(text: str, where: str, integer: bool) -> int | float:
    try:
        number = _read_number(text)
    except (ValueError, ZeroDivisionError, OverflowError):
        raise SpecStringError(f"{where}: {shown(text)} is not a number") from None
    if not math.isfinite(number):
        raise SpecStringError(f"{where}: {shown(text)} is not a finite number")
    if integer:
        if not number.is_integer():
            raise SpecStringError(f"{where}: {shown(text)} is not an integer")
        return int(number)
    return number


class IntCodec(Codec):
    def __init__(self, minimum: int | None = None, maximum: int | None = None) -> None:
        self.minimum, self.maximum = minimum, maximum

    def rule(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            return f"must be an integer from {self.minimum} to {self.maximum}"
        if self.minimum is not None:
            return f"must be an integer >= {self.minimum}"
        return "must be an integer"

    def normalize(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise _fail(where, value, self.rule())
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise _fail(where, value, self.rule())
        if value > MAX_SPEC_INT:
            raise _fail(where, value, f"must be at most {MAX_SPEC_INT:,}")
        return int(value)

    def value_text(self, value: int) -> str:
        return str(value)

    def parse_text(self, text: str, where: str) -> int:
        return self.normalize(_parse_number(text, where, integer=True), where)


class FloatCodec(Codec):
    def __init__(self, minimum: float | None = None, maximum: float | None = None, *, open_min: bool = False) -> None:
        self.minimum, self.maximum, self.open_min = minimum, maximum, open_min

    def rule(self) -> str:
        low = "" if self.minimum is None else (f"> {self.minimum}" if self.open_min else f">= {self.minimum}")
        high = "" if self.maximum is None else f"<= {self.maximum}"
        bounds = " and ".join(b for b in (low, high) if b)
        return "must be a finite number" + (f" {bounds}" if bounds else "")

    def normalize(self, value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(where, value, self.rule())
        number = float(value)
        if not math.isfinite(number):
            raise _fail(where, value, self.rule())
        if self.minimum is not None and (number <= self.minimum if self.open_min else number < self.minimum):
            raise _fail(where, value, self.rule())
        if self.maximum is not None and number > self.maximum:
            raise _fail(where, value, self.rule())
        return number

    def value_text(self, value: float) -> str:
        return format_number(value)

    def parse_text(self, text: str, where: str) -> float:
        return self.normalize(_parse_number(text, where, integer=False), where)


class BoolCodec(Codec):
    """Booleans appear in strings as a word for the non-default value (``noskip``)."""

    def __init__(self, true_word: str, false_word: str) -> None:
        self.true_word, self.false_word = true_word, false_word
        self.words = (true_word, false_word)

    def normalize(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise _fail(where, value, "must be true or false")
        return value

    def encode(self, key: str, value: bool) -> str:
        return self.true_word if value else self.false_word

    def parse_word(self, word: str, where: str) -> bool:
        return word == self.true_word


class ChoiceCodec(Codec):
    """A closed set of names, written in strings as the bare name."""

    def __init__(self, choices: Sequence[str], aliases: dict[str, str] | None = None) -> None:
        self.choices = tuple(choices)
        self.aliases = dict(aliases or {})
        self.words = self.choices + tuple(self.aliases)

    def normalize(self, value: Any, where: str) -> str:
        if isinstance(value, str):
            name = self.aliases.get(value.lower(), value.lower())
            if name in self.choices:
                return name
        raise _fail(where, value, "allowed: " + ", ".join(self.choices))

    def encode(self, key: str, value: str) -> str:
        return value

    def parse_word(self, word: str, where: str) -> str:
        return self.normalize(word, where)


class SizeCodec(Codec):
    """A spatial size: an int for square, or (height, width); written ``3`` or ``1x7``."""

    def __init__(self, minimum: int = 1) -> None:
        self.minimum = minimum

    def normalize(self, value: Any, where: str) -> int | tuple[int, int]:
        rule = f"must be an integer >= {self.minimum} or a pair of them"
        if isinstance(value, (list, tuple)):
            if len(value) != 2:
                raise _fail(where, value, rule)
            pair = tuple(IntCodec(self.minimum).normalize(v, where) for v in value)
            return pair[0] if pair[0] == pair[1] else pair  # square sizes are stored as one int
        try:
            return IntCodec(self.minimum).normalize(value, where)
        except SpecError:
            raise _fail(where, value, rule) from None

    def to_json(self, value: int | tuple[int, int]) -> Any:
        return list(value) if isinstance(value, tuple) else value

    def value_text(self, value: int | tuple[int, int]) -> str:
        return f"{value[0]}x{value[1]}" if isinstance(value, tuple) else str(value)

    def parse_text(self, text: str, where: str) -> int | tuple[int, int]:
        parts = text.split("x")
        if len(parts) not in (1, 2):
            raise SpecStringError(f"{where}: {shown(text)} is not a size (write 3 or 1x7)")
        numbers = [_parse_number(p, where, integer=True) for p in parts]
        return self.normalize(numbers[0] if len(numbers) == 1 else numbers, where)


class OptionalCodec(Codec):
    """``None`` or a value of the inner codec (None is the default and never written)."""

    def __init__(self, inner: Codec) -> None:
        self.inner = inner
        self.words = inner.words

    def normalize(self, value: Any, where: str) -> Any:
        return None if value is None else self.inner.normalize(value, where)

    def to_json(self, value: Any) -> Any:
        return None if value is None else self.inner.to_json(value)

    def from_json(self, raw: Any, where: str) -> Any:
        return None if raw is None else self.inner.from_json(raw, where)

    def encode(self, key: str, value: Any) -> str:
        return self.inner.encode(key, value)

    def value_text(self, value: Any) -> str:
        return self.inner.value_text(value)

    def parse_text(self, text: str, where: str) -> Any:
        return self.inner.parse_text(text, where)

    def parse_word(self, word: str, where: str) -> Any:
        return self.inner.parse_word(word, where)


class NumberTupleCodec(Codec):
    """A tuple of numbers, written ``4096x4096`` (``x`` never appears inside a number here)."""

    def __init__(self, item: IntCodec | FloatCodec) -> None:
        self.item = item

    def normalize(self, value: Any, where: str) -> tuple:
        if not isinstance(value, (list, tuple)):
            raise _fail(where, value, "must be a list of numbers")
        return tuple(self.item.normalize(v, f"{where}[{i}]") for i, v in enumerate(value))

    def to_json(self, value: tuple) -> list:
        return list(value)

    def value_text(self, value: tuple) -> str:
        return "x".join(format_number(v) for v in value)

    def parse_text(self, text: str, where: str) -> tuple:
        integer = isinstance(self.item, IntCodec)
        return self.normalize([_parse_number(p, where, integer) for p in text.split("x")], where)


class NestedCodec(Codec):
    """A nested spec, written ``key(field_field...)`` with the nested spec's own keys."""

    def __init__(self, spec_class: type[SpecBase]) -> None:
        self.spec_class = spec_class

    def normalize(self, value: Any, where: str) -> SpecBase:
        if isinstance(value, dict):
            return self.spec_class.from_dict(value, where)
        if not isinstance(value, self.spec_class):
            raise _fail(where, value, f"must be a {self.spec_class.__name__}")
        return value

    def to_json(self, value: SpecBase) -> dict:
        return value.to_dict()

    def value_text(self, value: SpecBase) -> str:
        return "(" + "_".join(value.encode_fields()) + ")"

    def parse_text(self, text: str, where: str) -> SpecBase:
        if not (text.startswith("(") and text.endswith(")")):
            raise SpecStringError(f"{where}: expected '(...)' after the key, got {shown(text)}")
        inner = text[1:-1]
        return self.spec_class.decode_fields(split_top_level(inner, "_") if inner else [], where)


# --------------------------------------------------------------------------------------
# Field declaration and the spec base class
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Knob:
    key: str  # short key in compact strings; "" for fields encoded by words only
    codec: Codec
    doc: str
    role: str = ""  # "channels" for widths that width scaling multiplies
    # A field added after stored forms existed: JSON leaves it out while it has its
    # default, so the JSON and digest of every spec that does not use it stay as they were.
    json_when_set: bool = False


def knob(key: str, codec: Codec, default: Any = MISSING, *, doc: str = "", role: str = "", json_when_set: bool = False) -> Any:
    """Declare a spec field with its compact-string key and its codec."""
    meta = {"knob": Knob(key, codec, doc, role, json_when_set)}
    if default is MISSING:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


_KEY_PATTERN = re.compile(r"^([a-z]+)(.*)$", re.DOTALL)


def split_top_level(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                raise SpecStringError(f"unbalanced brackets in {shown(text)}")
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0:
        raise SpecStringError(f"unbalanced brackets in {shown(text)}")
    parts.append(text[start:])
    return parts


class SpecBase:
    """Shared behaviour of every spec dataclass (blocks, stages, heads, nets).

    Subclasses are ``@dataclass(frozen=True, kw_only=True)`` with fields declared
    by :func:`knob`, a ``kind`` class attribute, and optionally ``check()`` for
    rules that involve several fields.
    """

    kind: ClassVar[str] = ""
    _knobs: ClassVar[tuple[tuple[str, Knob, Any], ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._knobs = ()  # filled lazily: dataclass fields do not exist yet here

    @classmethod
    def knobs(cls) -> tuple[tuple[str, Knob, Any], ...]:
        """(field name, Knob, default or MISSING) for every declared field, in order."""
        if not cls._knobs:
            entries = []
            for f in dataclasses.fields(cls):  # type: ignore[arg-type]
                if "knob" not in f.metadata:
                    continue
                default = f.default if f.default is not MISSING else MISSING
                entries.append((f.name, f.metadata["knob"], default))
            cls._knobs = tuple(entries)
        return cls._knobs

    def __post_init__(self) -> None:
        for name, spec_knob, _ in self.knobs():
            value = getattr(self, name)
            normalized = spec_knob.codec.normalize(value, f"{self.kind}.{name}")
            if normalized is not value:
                object.__setattr__(self, name, normalized)
        self.check()

    def check(self) -> None:
        """Cross-field rules; raise SpecError naming the fields involved."""

    def fail(self, field_name: str, value: Any, rule: str) -> SpecError:
        return _fail(f"{self.kind}.{field_name}", value, rule)

    # ---- JSON -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        for name, spec_knob, default in self.knobs():
            value = getattr(self, name)
            if spec_knob.json_when_set and value == default:
                continue
            data[name] = spec_knob.codec.to_json(value)
        return data

    @classmethod
    def from_dict(cls, data: Any, where: str = "") -> SpecBase:
        where = where or cls.kind
        if not isinstance(data, dict):
            raise SpecError(f"{where}: expected an object, got {type(data).__name__}")
        kind = data.get("kind", cls.kind)
        if kind != cls.kind:
            raise SpecError(f"{where}.kind = {shown(kind)} is not allowed: expected {cls.kind!r}")
        names = {name for name, _, _ in cls.knobs()}
        unknown = sorted(set(data) - names - {"kind"})
        if unknown:
            raise SpecError(f"{where}: unknown field {shown(unknown[0])} for {cls.kind} (allowed: {', '.join(sorted(names))})")
        values = {}
        for name, spec_knob, default in cls.knobs():
            if name in data:
                values[name] = spec_knob.codec.from_json(data[name], f"{where}.{name}")
            elif default is MISSING:
                raise SpecError(f"{where}: missing required field {name!r}")
        return cls(**values)

    # ---- compact string ---------------------------------------------------------------

    def encode_fields(self) -> list[str]:
        """The ``key+value`` parts of every field that differs from its default."""
        parts = []
        for name, spec_knob, default in self.knobs():
            value = getattr(self, name)
            if default is not MISSING and value == default:
                continue
            parts.append(spec_knob.codec.encode(spec_knob.key, value))
        return parts

    @classmethod
    def decode_fields(cls, parts: Sequence[str], where: str) -> SpecBase:
        values = dict(cls._parse_parts(parts, where))
        try:
            return cls(**values)
        except TypeError as error:  # a required field was not given
            missing = [n for n, _, d in cls.knobs() if d is MISSING and n not in values]
            raise SpecStringError(f"{where}: missing required field(s) {', '.join(missing)}") from error

    @classmethod
    def _parse_parts(cls, parts: Sequence[str], where: str) -> Iterator[tuple[str, Any]]:
        by_key = {key: (name, k) for name, k, _ in cls.knobs() for key in k.codec.keys(k.key)}
        by_word = {w: (name, k) for name, k, _ in cls.knobs() for w in k.codec.words}
        seen: set[str] = set()
        for part in parts:
            if part in by_word:
                name, spec_knob = by_word[part]
                value = spec_knob.codec.parse_word(part, f"{where}: {cls.kind}.{name}")
            else:
                match = _KEY_PATTERN.match(part)
                if match is None or match.group(1) not in by_key or not match.group(2):
                    allowed = sorted(by_key) + sorted(by_word)
                    raise SpecStringError(f"{where}: unknown field {shown(part)} for {cls.kind} (allowed keys and words: {', '.join(allowed)})")
                name, spec_knob = by_key[match.group(1)]
                value = spec_knob.codec.parse_keyed(match.group(1), match.group(2), f"{where}: {cls.kind}.{name}")
            if name in seen:
                raise SpecStringError(f"{where}: field {name!r} is given twice")
            seen.add(name)
            yield name, value


def describe_knobs(spec_class: type[SpecBase]) -> list[tuple[str, str, str]]:
    """(field, key, doc) rows, for help texts and documentation."""
    return [(name, k.key, k.doc) for name, k, _ in spec_class.knobs()]

