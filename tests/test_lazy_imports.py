"""The packages import their heavy modules on first use, so the command line starts without torch.

Every block kind imports torch (0.63 GB resident here, 0.88 GB in a fresh CI
venv); the modules that check the command line's input do not, and importing
them must not load it through a package ``__init__``.  Refused commands as real
processes: tests/test_hostile_inputs.py.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

import evaluators
import evaluators.data
import search.export
import search.report
import search.spaces
import searchspace

REPO = Path(__file__).resolve().parent.parent
# The modules a refused `search run` or `search spaces` needs: the CLI, option and space-file checks, run folders.
LIGHT_MODULES = ("search.cli", "search.commands.run", "search.run.api", "search.spaces.documents", "searchspace.fields",
                 "evaluators.validate", "evaluators.errors",
                 # and those that check an image folder, a spec string, a zoo option, a run folder to report or export
                 "evaluators.data.registry", "evaluators.data.imagefolder_files", "search.specs_io", "searchspace.widths",
                 "search.report.data", "search.export.request")


def test_the_command_line_and_its_input_checks_do_not_import_torch() -> None:
    code = f"import sys\nfor name in {LIGHT_MODULES!r}:\n    __import__(name)\nprint('torch' in sys.modules)\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(("package", "name", "module"), [
    (searchspace, "NetSpec", "searchspace.spec"),
    (searchspace, "build", "searchspace.build"),
    (evaluators, "cost", "evaluators.cost"),
    (search.spaces, "load_space", "search.spaces.files"),
    (evaluators.data, "load_dataset", "evaluators.data.registry"),
    (evaluators.data, "ImageDataset", "evaluators.data.base"),
    (search.export, "export_net", "search.export.api"),
    (search.report, "write_report", "search.report.page"),
    (search.report, "load_run", "search.report.data"),
])
def test_every_public_name_is_what_its_module_defines(package: types.ModuleType, name: str, module: str) -> None:
    assert getattr(package, name) is getattr(sys.modules[module], name)
    assert name in package.__all__ and name in dir(package)


def test_importing_a_submodule_does_not_hide_the_function_of_the_same_name() -> None:
    import searchspace.build  # noqa: F401  (the import system sets the package's attribute `build` to this module)
    import evaluators.cost  # noqa: F401

    from searchspace import build
    from evaluators import cost

    assert callable(build) and not isinstance(build, types.ModuleType)
    assert callable(cost) and not isinstance(cost, types.ModuleType)
    from searchspace import zoo  # a subpackage, not an exported name, still imports

    assert zoo.names()


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'searchspace' has no attribute 'nets'"):
        searchspace.nets  # noqa: B018
    assert evaluators.score_methods is sys.modules["evaluators.zero_cost"].methods
