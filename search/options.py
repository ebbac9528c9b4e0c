"""One declaration per setting of a command: its default, its option, its help text and its check.

A configuration dataclass (``RunConfig``, ``ExploreConfig``) declares each
field with :func:`setting`; the command line's options are generated from
those fields (:func:`search.commands.options.config_options`), so the help
text shows the default the dataclass really has, and :func:`check_fields`
applies the checks the fields declare with messages that name the option.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import MISSING, dataclass
from typing import Any

from evaluators import validate
from search.errors import UserError, option_error, unknown_option


@dataclass(frozen=True)
class Option:
    """What the command line needs to know about one configuration field."""

    help: str = ""
    flag: str | None = None  # the option, when it is not --field-name
    # The default as help shows it: a text where the value alone says too little
    # ("cuda if available, else cpu"), or a function of the value (12m for 720.0).
    shown_default: str | Callable[[Any], str] | None = None
    minimum: float | None = None  # the least value allowed (None: any)
    positive: bool = False  # above 0 (a limit that others are divided by)
    choices: tuple[str, ...] = ()  # the names allowed
    folder: bool = False  # a folder path
    repeatable: bool = False  # given once per item (a tuple or dict field)
    metavar: str | None = None
    turns_off: bool = False  # a flag that sets a True-by-default field to False (--no-baselines)
    text: bool = False  # given as text with units, parsed by the command (--budget 50ms)


def setting(default: Any = MISSING, *, factory: Callable[[], Any] | Any = MISSING, **option: Any) -> Any:
    """A dataclass field with its :class:`Option` (``help=``, ``minimum=``, ...) in its metadata."""
    return dataclasses.field(default=default, default_factory=factory, metadata={"option": Option(**option)})


def option_of(field: dataclasses.Field) -> Option | None:
    """The field's option; None for a field the command line does not set (stored bookkeeping)."""
    return field.metadata.get("option")


def option_name(config_class: type, field_name: str) -> str:
    """``--budget`` for ``budget_ms``: the option that sets a field."""
    field = {f.name: f for f in dataclasses.fields(config_class)}[field_name]
    option = option_of(field)
    return option.flag if option is not None and option.flag else "--" + field_name.replace("_", "-")


def shown_default(field: dataclasses.Field) -> str | None:
    """The default as ``--help`` shows it; None where there is nothing to show (no default, a flag)."""
    option = option_of(field)
    if option is None:
        return None
    if isinstance(option.shown_default, str):
        return option.shown_default
    if field.default is MISSING or field.default is None or isinstance(field.default, bool):
        return None
    if callable(option.shown_default):
        return option.shown_default(field.default)
    return f"{field.default:g}" if isinstance(field.default, float) else str(field.default)


def check_fields(config: Any) -> None:
    """The checks every field declares (``minimum``, ``positive``, ``choices``), as :class:`UserError`\\ s."""
    for field in dataclasses.fields(config):
        option, value = option_of(field), getattr(config, field.name)
        if option is None or value is None:
            continue
        name = option_name(type(config), field.name)
        if option.choices:
            validate.choice(name, value, option.choices, fail=_unknown)
        if option.minimum is not None:
            validate.at_least(name, value, option.minimum, fail=option_error)
        if option.positive:  # limits are divided by: 0 would divide by zero
            validate.positive(name, value, fail=option_error)


def _unknown(option: str, value: object, allowed: str) -> UserError:
    # The command line lists choices bare (tpe, nsga2), as its --help does.
    return unknown_option(option, value, allowed.replace("'", ""))
