"""User errors: the exceptions the command line turns into one line on stderr and exit code 2."""

from __future__ import annotations

from searchspace.shown import shown

__all__ = ["UserError", "option_error", "shown", "unknown_option", "user_error_types"]


class UserError(ValueError):
    """Bad input from the user (flags, files, names); never a bug in the toolkit."""


def user_error_types() -> tuple[type[BaseException], ...]:
    """Every exception class that means "the input was wrong", across the layers."""
    from evaluators.errors import DatasetError, DeviceError
    from searchspace.fields import SpecError

    return (UserError, SpecError, DeviceError, DatasetError)


def option_error(option: str, value: object, allowed: str) -> UserError:
    """``--trials 0 is not allowed: must be at least 1``: the wording of a bad option (a ``fail`` for evaluators.validate)."""
    return UserError(f"{option} {shown(value)} is not allowed: must be {allowed}")


def unknown_option(option: str, value: object, allowed: str) -> UserError:
    """``--searcher 'bayes' is not known (allowed: ...)``: a name outside an option's choices."""
    return UserError(f"{option} {shown(value)} is not known (allowed: {allowed})")
