"""User errors: the exceptions the command line turns into one line on stderr and exit code 2."""

from __future__ import annotations

from searchspace.shown import shown

__all__ = ["UserError", "shown", "user_error_types"]


class UserError(ValueError):
    """Bad input from the user (flags, files, names); never a bug in the toolkit."""


def user_error_types() -> tuple[type[BaseException], ...]:
    """Every exception class that means "the input was wrong", across the layers."""
    from evaluators.data.base import DatasetError
    from evaluators.devices import DeviceError
    from searchspace.fields import SpecError

    return (UserError, SpecError, DeviceError, DatasetError)

