"""A resumed run keeps its proxy recipe: trials trained under two recipes do not compare.

``evaluators.proxy.settings.RECIPE_VERSION`` names the proxy recipe (it changes whenever a
change to training moves scores: the optimizer, rates, what is decayed).  A run records it in
run.json's environment; a resume under another version is refused before anything is
touched, as a changed space file is (``search.run.space_check``).  Runs from before the record
pass: there is nothing to compare.
"""

from __future__ import annotations

from typing import Any

from search.errors import UserError, shown

RECIPE_KEY = "proxy_recipe"  # in run.json's "environment"


def current_recipe() -> str:
    from evaluators.proxy.settings import RECIPE_VERSION

    return RECIPE_VERSION


def check_same_recipe(run_file: dict[str, Any]) -> None:
    """Refuse to resume a run whose recorded proxy recipe is not this version's."""
    environment = run_file.get("environment")
    stored = environment.get(RECIPE_KEY) if isinstance(environment, dict) else None
    if stored is None or stored == current_recipe():
        return
    raise UserError(f"the run's proxy recipe {shown(stored, 40)} is not this version's ({current_recipe()}, docs/proxy.md): "
                    "its later trials would not compare with its earlier ones; start a new --name")
