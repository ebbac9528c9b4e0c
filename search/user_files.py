"""Reading a small text file the user names (a space file, a spec file): bounded in size, UTF-8, errors in one line."""

from __future__ import annotations

from pathlib import Path

from search.errors import UserError

# Space and spec files are a few kilobytes; anything past this is not one, and is not read into memory.
MAX_FILE_BYTES = 1 << 20


def is_file(path: str | Path) -> bool:
    """``Path.is_file``, but False for a name the system cannot even look up (too long, a NUL byte)."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def read_user_text(path: Path, what: str) -> str:
    """The text of ``path``; ``what`` names it in messages ("space file x.yaml")."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UserError(f"{what} is over {MAX_FILE_BYTES:,} bytes: too large to be one")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise UserError(f"{what} cannot be read: {reason}") from None
