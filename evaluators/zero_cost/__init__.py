"""Training-free (zero-cost) proxies of how well an architecture will train.

``score(spec_or_module, method, dataset)`` rates a network without training
it; ``methods()`` lists the accepted method names.  Higher is better for
every method.  See :mod:`evaluators.zero_cost.scoring` for the contract and
each proxy's module for its definition.
"""

from evaluators.zero_cost.scoring import methods, score

__all__ = ["methods", "score"]
