"""Reading the pickled CIFAR batch files without running code from them.

A pickle is a program: unpickling calls whatever callables the file names, so a
crafted ``data_batch_1`` under ``--data-root`` could run a shell command. The
published CIFAR files hold only dicts, lists, strings, numbers and numpy uint8
arrays, so the unpickler here resolves exactly the globals a numpy array needs
(and a latin1-only stand-in for ``_codecs.encode``, which Python 3's protocol-2
pickles use for bytes) and refuses every other one before it is called.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

# (module, name) pairs a CIFAR batch may reference: how numpy pickles an ndarray.
# ``numpy.core`` is the name in files written before numpy 2 (the published ones).
def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """What Python 3's protocol-2 pickles call to rebuild ``bytes`` (``_codecs.encode``), limited to latin1."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise UnsafePickleError("it encodes bytes in an unexpected way")
    return text.encode("latin1")


# numpy's own reconstructor, whatever module this numpy version keeps it in.
_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(0))[0]
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_bytes,
}
# The largest CIFAR file is 158 MB (cifar-100 train); anything far bigger is not one.
MAX_FILE_BYTES = 400 * 1024 * 1024


class UnsafePickleError(ValueError):
    """The file asks the unpickler for something a CIFAR batch never holds."""


class _DataOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        allowed = _ALLOWED_GLOBALS.get((module, name))
        if allowed is None:
            raise UnsafePickleError(f"it refers to {module[:80]}.{name[:80]}, which a data file never needs")
        return allowed

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("it holds persistent references, which a data file never needs")


def load_data_pickle(path: Path) -> Any:
    """The object pickled in ``path``, built from plain data and numpy arrays only.

    Raises :class:`UnsafePickleError` for a file that names any other global,
    ``pickle.UnpicklingError`` (or ``EOFError``, ``ValueError``) for a damaged one.
    """
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UnsafePickleError(f"it is {size:,} bytes, more than any CIFAR file")
    data = path.read_bytes()
    # latin1: the published files were written by Python 2, their byte strings are text.
    return _DataOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()
