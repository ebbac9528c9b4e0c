"""Search spaces: sets of nets sampled define-by-run, for `search run` and design-space exploration.

(The nets themselves, as specs, and their block kinds are ``searchspace/``.)

    from search.spaces import RandomSuggest, SpaceContext, load_space

    space = load_space("unified")                  # or "my_space.yaml"
    net = space.sample(RandomSuggest(seed=0), SpaceContext(num_classes=10, resolution=128))

With optuna, one trial per net::

    trial = study.ask()
    net = space.sample(OptunaSuggest(trial), context)

Built-in spaces: ``unified`` (the default), ``mobilenet``, ``resnet``,
``regnet``, ``efficientnet``, ``mobile`` (per-block knobs).  Space files are described in docs/spaces.md.
"""

from search.spaces.base import KnobInfo, Space, SpaceContext
from search.spaces.catalog import DEFAULT_SPACE, builtin_spaces
from search.spaces.files import load_space
from search.spaces.suggest import (
    FixedSuggest,
    KnobValueError,
    OptunaSuggest,
    RandomSuggest,
    Suggest,
)

__all__ = [
    "DEFAULT_SPACE", "FixedSuggest", "KnobInfo", "KnobValueError", "OptunaSuggest", "RandomSuggest", "Space",
    "SpaceContext", "Suggest", "builtin_spaces", "load_space",
]
