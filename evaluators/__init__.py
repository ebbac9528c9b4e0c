"""Evaluators: analytic cost, measured and predicted latency, proxy training, training-free scores.

The names are imported on first use (see searchspace.lazy_exports), so that the
command line's torch-free checks (``evaluators.validate``) do not load torch.
"""

from searchspace.lazy_exports import export_lazily

__all__ = export_lazily(__name__, {
    "evaluators.cost": ("cost",),
    "evaluators.zero_cost": ("score", "methods as score_methods"),
})
