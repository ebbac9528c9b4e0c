"""The size rule of the package source: no function over 60 lines, none with more than 8 parameters.

Long functions and long argument lists are where settings get listed three
times and drift (see ProxySettings); the rule keeps them from growing back.
benchmarks/ and tests/ are scripts and fixtures, outside the rule.  Methods
count their parameters without ``self``/``cls``; the methods a dataclass
generates are not in the source, so they are never counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("searchspace", "evaluators", "search")
MAX_LINES = 60
MAX_PARAMETERS = 8


def functions(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def parameter_count(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    arguments = node.args
    named = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    if named and named[0].arg in ("self", "cls"):
        named = named[1:]
    return len(named) + (arguments.vararg is not None) + (arguments.kwarg is not None)


def line_count(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the ``def`` (decorators excluded) to the last line of the body, docstring included."""
    return node.end_lineno - node.lineno + 1  # type: ignore[operator]


def offenders() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in functions(path):
                where = f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
                if line_count(node) > MAX_LINES:
                    found.append(f"{where}: {line_count(node)} lines")
                if parameter_count(node) > MAX_PARAMETERS:
                    found.append(f"{where}: {parameter_count(node)} parameters")
    return found


def test_no_function_is_too_long_or_takes_too_many_parameters():
    assert offenders() == []


def test_the_counts_match_what_a_reader_sees():
    source = ast.parse(
        "class C:\n"
        "    def method(self, a, b, *rest, c, **more):\n"
        "        x = 1\n"
        "        return x\n"
        "def free(a, /, b):\n"
        "    pass\n"
    )
    found = {node.name: node for node in ast.walk(source) if isinstance(node, ast.FunctionDef)}
    method, free = found["method"], found["free"]
    assert parameter_count(method) == 5  # a, b, *rest, c, **more; not self
    assert line_count(method) == 3
    assert parameter_count(free) == 2


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_is_walked(package):
    assert any(True for path in (ROOT / package).rglob("*.py") for _ in functions(path))
