"""The README's Python code blocks run as written.

Each ```python block runs on its own (a reader copies one at a time), in a
scratch folder holding a copy of ``results/examples``.  A block that takes
minutes carries the marker comment ``# doctest: slow`` and is skipped; keep
such blocks few, since nothing else checks them.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SLOW_MARKER = "# doctest: slow"


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, code) of every fenced python block."""
    blocks = []
    for match in re.finditer(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE):
        blocks.append((text.count("\n", 0, match.start()) + 2, match.group(1)))
    return blocks


BLOCKS = python_blocks((REPO / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_python_blocks_and_few_are_slow() -> None:
    assert len(BLOCKS) >= 4
    assert sum(SLOW_MARKER in code for _, code in BLOCKS) <= 1


@pytest.mark.parametrize(("line", "code"), BLOCKS, ids=[f"line{line}" for line, _ in BLOCKS])
def test_readme_block_runs(line: int, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if SLOW_MARKER in code:
        pytest.skip(f"README.md line {line} is marked {SLOW_MARKER!r}")
    shutil.copytree(REPO / "results" / "examples", tmp_path / "results" / "examples")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__readme__"})
