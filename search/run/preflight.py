"""Checks that a run's settings will work, made before any run folder is created or changed.

Each problem found here would otherwise surface after the folder exists, as a
traceback, a half-made folder, or a trial stranded in RUNNING: a batch larger
than the dataset, a storage URL nothing can open, a damaged study or latency cache.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING

from search.errors import UserError, shown
from search.run.config import TRAINING_PROXY, RunConfig

if TYPE_CHECKING:
    from search.explore.config import ExploreConfig


def check_batch_size(config: RunConfig | ExploreConfig, train_images: int, dataset_name: str) -> None:
    # Partial batches are dropped, so a batch larger than the training set trains on nothing.
    if config.proxy == TRAINING_PROXY and config.proxy_batch_size > train_images:
        raise UserError(f"--proxy-batch-size {config.proxy_batch_size} is more than the {train_images} training images "
                        f"of {dataset_name}; give a batch size of at most {train_images}")


@contextlib.contextmanager
def storage_errors(what: str) -> Iterator[None]:
    """Database errors (a bad URL, an unreachable server, a damaged file) as one line naming ``what``."""
    import optuna
    import sqlalchemy.exc

    try:
        yield
    # optuna wraps some database errors in its own StorageInternalError.
    except (sqlalchemy.exc.SQLAlchemyError, sqlite3.Error, optuna.exceptions.StorageInternalError) as error:
        reason = " ".join(str(getattr(error, "orig", None) or error).split("\n")[0].split())
        raise UserError(f"{what}: {reason[:200]}") from None


def check_storage(url: str) -> None:
    """``--storage``: a URL SQLAlchemy can parse, with an installed driver, that accepts a connection."""
    import sqlalchemy

    what = f"--storage {shown(url)} cannot be used"
    with storage_errors(what):
        parsed = sqlalchemy.engine.make_url(url)
        parsed.get_dialect()  # raises for an unknown scheme or a missing driver package
        engine = sqlalchemy.create_engine(parsed)
        try:
            with engine.connect():
                pass
        finally:
            engine.dispose()


def check_study(url: str, study_name: str) -> None:
    """The study a resumed run continues exists and can be read."""
    import optuna

    with storage_errors(f"the run's study ({shown(url)}) cannot be read"):
        try:
            optuna.load_study(study_name=study_name, storage=url)
        except KeyError:
            raise UserError(f"the run's storage {shown(url)} has no study {study_name!r} to resume") from None


def check_new_study(config: RunConfig) -> None:
    """A new run's study is not in ``--storage`` yet (two runs writing one study would mix their trials)."""
    import optuna

    check_storage(config.storage)  # an unusable URL gets its own message first, as in every other command
    with storage_errors(f"--storage {shown(config.storage)} cannot be read"):
        names = {summary.study_name for summary in optuna.get_all_study_summaries(config.storage, include_best_trial=False)}
    if config.optuna_study in names:
        raise UserError(study_exists(config))


def study_exists(config: RunConfig) -> str:
    return (f"the storage already holds a study named {config.optuna_study!r}: continue that run with --resume, "
            "or give this one another --study-name")


def check_latency_cache() -> None:
    """The latency cache can be opened and read (a damaged or unwritable one would fail every trial)."""
    from evaluators.latency.cache import CACHE_FILE_NAME, LatencyCache

    try:
        LatencyCache().entries(device="")
    except (OSError, sqlite3.Error) as error:
        where = os.path.join(os.environ.get("CONVSPACE_CACHE") or "~/.cache/convspace", CACHE_FILE_NAME)
        reason = getattr(error, "strerror", None) or str(error)
        raise UserError(f"the latency cache {where} cannot be used ({reason}); "
                        "delete it, or point CONVSPACE_CACHE at another folder") from None
