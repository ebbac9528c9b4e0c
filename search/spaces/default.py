"""The built-in space `search run` and `search explore` use when none is named.

Its own torch-free module, because the run's settings (search.run.config) must load without the
spaces themselves, and the catalog lists this space first.
"""

DEFAULT_SPACE = "union"
