"""The README's table of known nets is the zoo's own account of itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchspace import zoo
from searchspace.zoo.table import markdown, readme_block, replace_block

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_holds_the_table_the_zoo_writes() -> None:
    assert readme_block() in README.read_text(), "run: python -m searchspace.zoo.table --update README.md"


def test_every_zoo_net_is_in_the_table_under_its_reference_library() -> None:
    table = markdown()
    for name in zoo.names():
        row = next(line for line in table.splitlines() if f" {name}," in line or f" {name} |" in line)
        assert f"| {zoo.info(name).reference.library} |" in row


def test_a_readme_without_markers_is_refused_not_rewritten() -> None:
    with pytest.raises(ValueError, match="no zoo-table markers"):
        replace_block("# a README without the table\n")
