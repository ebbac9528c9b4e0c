"""`search report` on a run whose tables were damaged: one line on stderr, exit 2, nothing overwritten."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from search.cli import main
from tests.report_run import copy_run, make_tiny_run


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    return make_tiny_run(tmp_path_factory)


def truncate_mid_row(path: Path) -> None:
    data = path.read_bytes()
    cut = data.rindex(b"\n", 0, len(data) - 1) + 40  # 40 bytes into the last row: a disk that filled up mid-write
    path.write_bytes(data[:cut])


def garbage_bytes(path: Path) -> None:
    data = path.read_bytes()
    middle = len(data) // 2
    path.write_bytes(data[:middle] + bytes(range(0x80, 0xB0)) + data[middle:])


def garbage_line(path: Path) -> None:
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(1, "%%%% this is not a trial %%%%\n")  # the first data row, however few rows the table has
    path.write_text("".join(lines))


def missing_column(path: Path) -> None:
    pd.read_csv(path).drop(columns=["latency_ms"]).to_csv(path, index=False)


def wrong_type(path: Path) -> None:
    table = pd.read_csv(path).astype({"latency_ms": object})
    table.loc[1, "latency_ms"] = "fast"
    table.to_csv(path, index=False)


def wrong_type_in_the_score(path: Path) -> None:
    """The score the search maximised is read as a number too (the report's axis and front come from it)."""
    table = pd.read_csv(path).astype({"quality": object})
    table.loc[1, "quality"] = "high"
    table.to_csv(path, index=False)


def number_not_whole(path: Path) -> None:
    table = pd.read_csv(path).astype({"number": float})
    table.loc[table["baseline"].isna().idxmax(), "number"] = 1.5
    table.to_csv(path, index=False)


def empty(path: Path) -> None:
    path.write_bytes(b"")


def header_only(path: Path) -> None:
    path.write_text(path.read_text().splitlines()[0] + "\n")


def nul_bytes(path: Path) -> None:
    path.write_bytes(path.read_bytes().replace(b"complete", b"comp\x00\x00te", 1))


def unclosed_quote(path: Path) -> None:
    path.write_text(path.read_text().rstrip("\n") + '\n3,"complete\n')


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (truncate_mid_row, "fields where the header has"),
    "garbage bytes": (garbage_bytes, "is not UTF-8 text"),
    "garbage line": (garbage_line, "row 1 has 1 fields where the header has"),
    "missing column": (missing_column, "lacks the column(s) latency_ms"),
    "wrong type": (wrong_type, "row 2, column latency_ms holds 'fast', not a number"),
    "wrong type in the score": (wrong_type_in_the_score, "row 2, column quality holds 'high', not a number"),
    "number not whole": (number_not_whole, "has no whole trial number"),
    "empty": (empty, "is empty"),
    "NUL bytes": (nul_bytes, "NUL bytes"),
    "unclosed quote": (unclosed_quote, "is damaged"),
}


def snapshot(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


# An empty pareto.csv is not damage: the run writes it so when no net was feasible (tested below).
CASES = [(kind, table) for table in ("trials.csv", "pareto.csv") for kind in sorted(DAMAGE)
         if (kind, table) != ("empty", "pareto.csv")]


@pytest.mark.parametrize(("kind", "table"), CASES)
def test_a_damaged_table_is_one_line_exit_2_and_nothing_is_overwritten(tiny_run: Path, tmp_path: Path, capsys, kind: str, table: str) -> None:
    damage, message = DAMAGE[kind]
    run = copy_run(tiny_run, tmp_path)
    damage(run / table)
    before = snapshot(run)
    assert main(["report", str(run)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("search: error: "), captured.err
    assert f"{table} " in err[0] and message in err[0], err[0]
    assert "Traceback" not in captured.err + captured.out
    assert snapshot(run) == before, "a refused report must leave the folder as it was"


def test_a_file_cut_exactly_at_a_row_end_is_a_shorter_run_not_damage(tiny_run: Path, tmp_path: Path, capsys) -> None:
    run = copy_run(tiny_run, tmp_path)
    lines = (run / "trials.csv").read_text().splitlines(keepends=True)
    (run / "trials.csv").write_text("".join(lines[:-1]))
    assert main(["report", "--quiet", str(run)]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("damage", [empty, header_only])
def test_a_pareto_csv_without_rows_is_a_run_without_a_front(tiny_run: Path, tmp_path: Path, damage) -> None:
    run = copy_run(tiny_run, tmp_path)
    damage(run / "pareto.csv")
    assert main(["report", "--quiet", str(run)]) == 0
    page = (run / "report.html").read_text()
    assert "No net is on the front" in page and "No net to recommend" in page


def test_a_trials_csv_with_only_its_header_is_a_run_in_which_no_trial_finished(tiny_run: Path, tmp_path: Path) -> None:
    run = copy_run(tiny_run, tmp_path)
    for table in ("trials.csv", "pareto.csv"):  # as a run stopped by its time limit before any trial writes them
        header_only(run / table)
    assert main(["report", "--quiet", str(run)]) == 0
    assert "0 trials ()" in (run / "report.html").read_text()
