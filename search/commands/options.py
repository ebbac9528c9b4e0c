"""A command's options, generated from its configuration dataclass (see :mod:`search.options`).

Each option's default stays None on the command line, so that the command
can tell a setting given from one left out (a resumed run keeps what it
stored); the help text shows the dataclass's own default instead.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

from search.options import Option, option_name, option_of, shown_default

Command = TypeVar("Command", bound=Callable[..., Any])

_CLICK_TYPES = {int: click.INT, float: click.FLOAT, str: click.STRING}


def config_options(config_class: type, units: Mapping[str, Any]) -> Callable[[Command], Command]:
    """A decorator adding one option per field of ``config_class`` that declares one, in field order.

    ``units``: the keywords whose values have units (``search.api.RUN_UNITS``);
    such an option's value reaches the command under the keyword's name, as
    text for the command to parse.
    """
    keyword_of = {unit.field: keyword for keyword, unit in units.items()}
    hints = typing.get_type_hints(config_class)
    decorators = []
    for field in dataclasses.fields(config_class):
        option = option_of(field)
        if option is not None:
            decorators.append(_option(config_class, field, option, hints[field.name], keyword_of.get(field.name, field.name)))

    def decorate(command: Command) -> Command:
        for decorator in reversed(decorators):  # the first field's option comes first in --help
            command = decorator(command)
        return command

    return decorate


def _option(config_class: type, field: dataclasses.Field, option: Option, hint: Any, dest: str) -> Callable:
    default = shown_default(field)
    help_text = f"{option.help}  [default: {default}]" if default is not None else option.help
    keywords: dict[str, Any] = {"help": help_text, "default": None}
    if option.turns_off:
        keywords["flag_value"] = False
    elif _value_type(hint) is bool:
        keywords["is_flag"] = True
    else:
        keywords["type"] = _click_type(option, hint)
    if option.repeatable:
        keywords.update(multiple=True, default=())
    if option.metavar:
        keywords["metavar"] = option.metavar
    return click.option(option_name(config_class, field.name), dest, **keywords)


def _click_type(option: Option, hint: Any) -> click.ParamType:
    if option.choices:
        return click.Choice(option.choices)
    if option.folder:
        return click.Path(file_okay=False)
    if option.text or option.repeatable:
        return click.STRING
    return _CLICK_TYPES[_value_type(hint)]


def _value_type(hint: Any) -> type:
    """``int`` for ``int | None``: the type of the value an option gives."""
    arguments = [argument for argument in typing.get_args(hint) if argument is not type(None)]
    return arguments[0] if arguments and typing.get_origin(hint) is not dict else hint
