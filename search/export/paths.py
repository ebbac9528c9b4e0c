"""Where an export is written: a default name that stays in the run's exports folder, and an --out that can be written."""

from __future__ import annotations

import re
from pathlib import Path

from search.errors import UserError, shown
from search.run.records import TrialRecord

# Zoo names and the like: letters, digits, "_", "-" and ".", not starting with "." (no "..", no "/").
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")


def file_label(record: TrialRecord) -> str:
    """The default export file's stem: ``trialN``, or the baseline's name if it is a plain file name.

    The name comes from trials.csv, which anyone can edit: ``../../x`` must not
    steer a write out of the run's exports folder.
    """
    if record.number is not None:
        return f"trial{int(record.number)}"
    label = str(record.baseline)
    if not _PLAIN_NAME.fullmatch(label):
        raise UserError(f"trials.csv names baseline {shown(label)}, which is not a plain file name; "
                        "give --out to say where to write")
    return label


def check_out_path(path: Path) -> None:
    """Refuse, before any building or training, a file that cannot be written there."""
    if path.is_dir():
        raise UserError(f"--out {shown(str(path))} is a folder; give a file name")
    folder = next((p for p in path.parents if p.exists()), Path("."))
    if not folder.is_dir():
        raise UserError(f"--out {shown(str(path))} cannot be written: {shown(str(folder))} is a file, not a folder")
