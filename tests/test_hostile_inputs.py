"""Hostile and careless input: no code runs from a data file, every bad input is one line and exit code 2.

Each case is what an attacker or a careless user could hand the command line
(issue 15). The promise checked throughout: one line on stderr starting with
``search: error:``, exit code 2, no traceback, and earlier results intact.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from evaluators.data import DatasetError, load_dataset
from tests.test_cli_run import one_line_error, search
from tests.test_data_torchvision_sets import write_cifar10


class _RunsCode:
    """Unpickling this calls ``os.system``: the classic malicious pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("victim", ["data_batch_1", "test_batch", "batches.meta"])
def test_a_crafted_cifar_file_runs_no_code(tmp_path: Path, victim: str) -> None:
    write_cifar10(tmp_path, np.random.default_rng(0))
    marker = tmp_path / "pwned"
    (tmp_path / "cifar-10-batches-py" / victim).write_bytes(pickle.dumps({"data": _RunsCode(marker)}, protocol=2))
    with pytest.raises(DatasetError, match="posix.system|os.system"):
        load_dataset("cifar10", data_root=tmp_path)
    assert not marker.exists()


def test_a_crafted_cifar_file_is_one_line_through_the_cli(tmp_path: Path) -> None:
    write_cifar10(tmp_path / "data", np.random.default_rng(0))
    marker = tmp_path / "pwned"
    (tmp_path / "data" / "cifar-10-batches-py" / "data_batch_1").write_bytes(pickle.dumps(_RunsCode(marker), protocol=2))
    line = one_line_error(search(tmp_path, "run", "--dataset", "cifar10", "--data-root", "data", timeout=300))
    assert "cifar10: could not read" in line
    assert not marker.exists() and not (tmp_path / "results").exists()
