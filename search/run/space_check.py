"""A run remembers the content of its search space, so a resume never mixes two spaces.

``run.json`` stores only the space's name or path in the configuration; a space
file edited between sessions would silently give the second session other
knobs. The record here (a digest of the file's bytes and of every knob's domain,
plus the knobs themselves) is stored beside the configuration, and a resume
whose space differs is refused with the knobs that changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from search.errors import UserError, shown
from search.spaces.documents import names_space_file

RUN_RECORD_KEY = "space"


def space_record(space: Any, source: str) -> dict[str, Any]:
    """What identifies the space ``source`` (a built-in name or a file) as loaded now."""
    knobs = {knob.name: knob.domain_text() + (f" when {knob.when}" if knob.when else "") for knob in space.knobs()}
    content = hashlib.sha256()
    if names_space_file(source):
        content.update(Path(source).read_bytes())
    content.update(repr(sorted(knobs.items())).encode())
    content.update(repr(tuple(space.baselines)).encode())
    return {"source": source, "digest": content.hexdigest(), "knobs": knobs}


def check_same_space(stored: Any, current: dict[str, Any]) -> None:
    """Refuse to continue a run whose space is not the one it started with (runs from before this record pass)."""
    if not isinstance(stored, dict) or stored.get("digest") == current["digest"]:
        return
    before = stored.get("knobs") if isinstance(stored.get("knobs"), dict) else {}
    now = current["knobs"]
    changes = [f"{name} added" for name in now if name not in before]
    changes += [f"{name} removed" for name in before if name not in now]
    changes += [f"{name} {shown(before[name], 60)} -> {shown(now[name], 60)}" for name in now
                if name in before and before[name] != now[name]]
    what = "; ".join(changes[:4]) + (f"; and {len(changes) - 4} more" if len(changes) > 4 else "")
    raise UserError(
        f"space {shown(current['source'])} has changed since the run started ({what or 'its file content differs'}); "
        "a resumed run keeps its space: restore the file, or start a new --name"
    )

