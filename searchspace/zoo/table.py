"""The README's table of known nets, written from the zoo itself so the two cannot disagree.

``python -m searchspace.zoo.table`` prints the table; ``--update README.md``
rewrites the block between the README's markers.  ``tests/test_zoo_table.py``
checks that the README holds exactly what this module writes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from searchspace.zoo import all_entries

BEGIN, END = "<!-- zoo-table: written by python -m searchspace.zoo.table --update README.md -->", "<!-- /zoo-table -->"

# Nets the project means to hold and does not yet: (family, nets, reference).  Kept here, beside the
# table, so the README's "planned" rows are data rather than prose that drifts.
PLANNED = (
    ("vit / deit", "vit_b_16, vit_b_32, vit_l_16, deit_tiny/small_patch16_224, deit_tiny_distilled", "torchvision, timm"),
)

_STATUS = {"torchvision": "exact", "timm": "exact", "paper": "paper's tables"}  # the README's prose says what each means


def rows() -> list[tuple[str, str, str, str]]:
    """(family, nets, reference, status) per family and reference library, in registration order."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for entry in all_entries():
        grouped.setdefault((entry.family, entry.reference.library), []).append(entry.name)
    table = [(family, ", ".join(names), library, _STATUS.get(library, library)) for (family, library), names in grouped.items()]
    return table + [(family, nets, library, "planned") for family, nets, library in PLANNED]


def markdown() -> str:
    lines = ["| family | nets | reference | status |", "| --- | --- | --- | --- |"]
    lines += [f"| {family} | {nets} | {library} | {status} |" for family, nets, library, status in rows()]
    return "\n".join(lines)


def readme_block() -> str:
    return f"{BEGIN}\n{markdown()}\n{END}"


def replace_block(text: str) -> str:
    """``text`` with the block between the markers rewritten; an error if the markers are missing."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no zoo-table markers ({BEGIN!r} ... {END!r})")
    return text[:start] + readme_block() + text[end + len(END):]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", metavar="README", help="rewrite the table block in this file")
    args = parser.parse_args(argv)
    if args.update is None:
        print(markdown())
        return 0
    path = Path(args.update)
    path.write_text(replace_block(path.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
