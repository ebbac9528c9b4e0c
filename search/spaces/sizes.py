"""The sizes a space file asks for, bounded before anything heavy is imported.

A 70-byte file can ask for a stage of a million blocks, a width of a hundred
million or three million stages.  :func:`check_sizes` checks only the keys that
set sizes (the stage count, and each stage's depth and width in ``stages`` and
``all_stages``) with the same key objects the schema checks them with, so the
command line refuses such a file before torch is imported (the schema, which
needs the block registry and so torch, checks everything else).
"""

from __future__ import annotations

from typing import Any

from search.spaces.values import POSITIVE, Where, int_key, parse_setting
from searchspace.fields import MAX_REPEATS

# The longest net of the zoo has 20 stages (MobileNetV4-Conv-M); the count form makes one dict per stage.
MAX_STAGES = 100
DEPTH_KEY = int_key(f"must be an integer from 0 to {MAX_REPEATS} (0 leaves a stride-1 stage out)",
                    lambda v: 0 <= v <= MAX_REPEATS)
STAGE_WIDTH_KEY = int_key(*POSITIVE)
_SIZE_KEYS = {"depth": DEPTH_KEY, "width": STAGE_WIDTH_KEY}


def checked_stage_count(raw_stages: Any, where: Where) -> None:
    """``stages:`` as a count (``stages: 4``) or a list holds at most :data:`MAX_STAGES` stages."""
    count = len(raw_stages) if isinstance(raw_stages, list) else raw_stages
    if isinstance(count, int) and not isinstance(count, bool) and count > MAX_STAGES:
        raise where.fail(f"{count} stages are too many (at most {MAX_STAGES})")


def check_sizes(data: Any, source: str) -> None:
    """Refuse a space file's data that asks for more stages, blocks or channels than a net may have."""
    if not isinstance(data, dict):
        return  # the schema says what the file should hold
    top = Where(source)
    raw_stages = data.get("stages")
    checked_stage_count(raw_stages, top.key("stages"))
    sections = [(top.key("all_stages"), data.get("all_stages"))]
    if isinstance(raw_stages, list):
        sections += [(top.key("stages").item(index), stage) for index, stage in enumerate(raw_stages)]
    for where, section in sections:
        if isinstance(section, dict):
            for name, key in _SIZE_KEYS.items():
                if name in section:
                    parse_setting(section[name], key, where.key(name))
