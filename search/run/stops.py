"""How a run stops short of its answer: the exceptions the command line turns into exit codes 3 and 130.

Torch-free, so the command line can name them before torch is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from search.run.rundir import RunDir

EXIT_NO_SEARCH_TRIAL = 3  # distinct from 2 (bad input) and 130 (interrupted)


class NoSearchTrial(Exception):
    """The run ended before any search trial finished: its answer would only be the known nets.

    Not a user error (exit 2): the input was fine, the time was not enough.
    """


class RunInterrupted(Exception):
    """The run stopped on Ctrl-C or SIGTERM; every file was written first."""

    def __init__(self, rundir: RunDir) -> None:
        super().__init__(f"interrupted; results so far are in {rundir.path} (continue with --resume)")
        self.rundir = rundir
