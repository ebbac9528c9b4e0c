"""A short, safe rendering of a user value for an error message."""

from __future__ import annotations

import reprlib


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)`` at most about ``limit`` characters, without formatting the whole value first.

    A message must never format an unbounded user value: a 1 KB YAML alias bomb
    expands to gigabytes when printed in full, and a 5,000-digit integer cannot
    even be turned into a string by ``repr``.
    """
    short = reprlib.Repr()
    short.maxstring = short.maxother = short.maxlong = max(limit, 12)
    short.maxlevel, short.maxlist, short.maxtuple, short.maxdict, short.maxset = 3, 8, 8, 8, 8
    try:
        text = short.repr(value)
    except ValueError:  # an int beyond Python's 4,300-digit limit for str()
        return f"<a {type(value).__name__} too long to show>"
    return text if len(text) <= limit + 20 else text[:limit] + "..."
