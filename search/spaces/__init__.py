"""Search spaces: sets of nets sampled define-by-run, for `search run` and design-space exploration.

(The nets themselves, as specs, and their block kinds are ``searchspace/``.)

    from search.spaces import RandomSuggest, SpaceContext, load_space

    space = load_space("unified")                  # or "my_space.yaml"
    net = space.sample(RandomSuggest(seed=0), SpaceContext(num_classes=10, resolution=128))

With optuna, one trial per net::

    trial = study.ask()
    net = space.sample(OptunaSuggest(trial), context)

Built-in spaces: ``union`` (the default, :mod:`search.spaces.default`), ``unified``,
``mobilenet``, ``resnet``, ``regnet``, ``efficientnet``, ``mobile`` (per-block knobs), ``vit``
and ``hybrid``.  Space files are described in docs/spaces.md.

The names are imported on first use (see searchspace.lazy_exports): reading a
space file's document (search/spaces/documents.py) must not load torch.
"""

from searchspace.lazy_exports import export_lazily

__all__ = export_lazily(__name__, {
    "search.spaces.base": ("KnobInfo", "Space", "SpaceContext"),
    "search.spaces.catalog": ("builtin_spaces",),
    "search.spaces.default": ("DEFAULT_SPACE",),
    "search.spaces.files": ("load_space",),
    "search.spaces.suggest": ("FixedSuggest", "KnobValueError", "OptunaSuggest", "RandomSuggest", "Suggest"),
})
