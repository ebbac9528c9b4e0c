"""Taking a run folder for a run: new, resumed or replacing an old one, always under the folder's lock.

``--overwrite`` never deletes the old run before the new one has started: the
old folder is locked (so a live run is never replaced), renamed aside to
``.<name>.replaced-<pid>``, and deleted only once the new run has started
(:func:`mark_started`: its configuration written and its study open). If the
new run fails before that, its half-made folder is removed and the old folder
put back as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from search.errors import UserError
from search.run.lock import RunLock
from search.run.rundir import RUN_FILE, RunDir, run_path

# Run folders whose run has started in this process; a claim fails "cleanly" only before that.
_STARTED: set[Path] = set()


def replaced_path(rundir: RunDir) -> Path:
    return rundir.path.parent / f".{rundir.path.name}.replaced-{os.getpid()}"


@contextlib.contextmanager
def claimed_folder(out: str, name: str, *, resume: bool, overwrite: bool) -> Iterator[RunDir]:
    """The run folder ``out/name``, owned by this process for the ``with`` block."""
    if resume:
        rundir = RunDir.open_existing(out, name)
        with _locked(rundir.path):
            yield rundir
        return
    path = run_path(out, name)
    with contextlib.ExitStack() as held:
        if path.exists():
            _check_replaceable(path, overwrite)
            held.enter_context(_locked(path))  # a live run there keeps its folder
            os.replace(path, replaced_path(RunDir(path)))
        rundir = RunDir.create(out, name)
        held.enter_context(_locked(rundir.path))
        try:
            yield rundir
        except BaseException:
            if rundir.path.resolve() not in _STARTED:
                _undo_create(rundir)
            raise
        finally:
            _STARTED.discard(rundir.path.resolve())


def mark_started(rundir: RunDir) -> None:
    """The new run has started cleanly: the run it replaces can go, and its own folder stays whatever happens."""
    _STARTED.add(rundir.path.resolve())
    old = replaced_path(rundir)
    if old.exists():
        shutil.rmtree(old)


def _undo_create(rundir: RunDir) -> None:
    """Remove the half-made folder of a run that never started, and put back the run it was replacing."""
    shutil.rmtree(rundir.path, ignore_errors=True)
    old = replaced_path(rundir)
    if old.exists():
        os.replace(old, rundir.path)


def _check_replaceable(path: Path, overwrite: bool) -> None:
    if not overwrite:
        raise UserError(f"run folder {path} already exists; use --resume to continue it or --overwrite to replace it")
    if not (path / RUN_FILE).is_file():
        # Never delete a folder the toolkit did not make.
        raise UserError(f"{path} exists but is not a run folder (no {RUN_FILE}); refusing to overwrite it")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock = RunLock(path)
    try:
        yield
    finally:
        lock.release()
