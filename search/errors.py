"""User errors: the exceptions the command line turns into one line on stderr and exit code 2."""

from __future__ import annotations

import reprlib


class UserError(ValueError):
    """Bad input from the user (flags, files, names); never a bug in the toolkit."""


def user_error_types() -> tuple[type[BaseException], ...]:
    """Every exception class that means "the input was wrong", across the layers."""
    from evaluators.data.base import DatasetError
    from evaluators.devices import DeviceError
    from searchspace.fields import SpecError

    return (UserError, SpecError, DeviceError, DatasetError)


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)`` at most about ``limit`` characters, without formatting the whole value first.

    A message must never format an unbounded user value: a 1 KB YAML alias bomb
    expands to gigabytes when printed in full.
    """
    short = reprlib.Repr()
    short.maxstring = short.maxother = short.maxlong = max(limit, 12)
    short.maxlevel, short.maxlist, short.maxtuple, short.maxdict, short.maxset = 3, 8, 8, 8, 8
    try:
        text = short.repr(value)
    except ValueError:  # an int beyond Python's 4,300-digit limit for str()
        return f"<a {type(value).__name__} too long to show>"
    return text if len(text) <= limit + 20 else text[:limit] + "..."
