"""A command's whole-process peak resident memory, and whether it imported torch.

The command runs as the child of a small wrapper that reads the child's
``ru_maxrss`` once it has exited: the peak of that one process, with nothing
of the caller's memory in it (tests/test_hostile_inputs.py and
benchmarks/refused_memory.py both measure this way).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

# The `search` console script (search.cli:main), which also says at exit whether torch was imported.
SEARCH_REPORTING_TORCH = ("import atexit, sys\n"
                          "atexit.register(lambda: print('torch imported:', 'torch' in sys.modules))\n"
                          "from search.cli import main\n"
                          "sys.exit(main(sys.argv[1:]))\n")
_WRAPPER = ("import resource, subprocess, sys\n"
            "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
            "sys.stderr.write(done.stderr)\n"
            "print(done.stdout)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "sys.exit(done.returncode)\n")


class Measured(NamedTuple):
    result: subprocess.CompletedProcess  # the wrapper's: the child's exit code and stderr, its stdout and the peak
    peak_mb: float  # the child's peak resident memory
    torch_imported: bool  # as a child running SEARCH_REPORTING_TORCH reports it


_CHECKOUT = Path(__file__).resolve().parent.parent


def measure_process(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> Measured:
    """Run ``command`` and return its exit, its peak resident memory and whether it said it imported torch.

    ``env`` defaults to this process's, with this checkout first on the path (``cwd`` is often a scratch folder).
    """
    if env is None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(_CHECKOUT), os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-c", _WRAPPER, *command], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    lines = result.stdout.strip().splitlines()
    return Measured(result, int(lines[-1]) / 1024, "torch imported: True" in lines)  # ru_maxrss: KiB on Linux


def measure_search(arguments: list[str], cwd: Path, env: dict[str, str] | None = None) -> Measured:
    """``search ARGUMENTS`` in a fresh process, measured by :func:`measure_process`."""
    return measure_process([sys.executable, "-c", SEARCH_REPORTING_TORCH, *arguments], cwd, env)
