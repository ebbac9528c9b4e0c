"""Analytic cost of a spec: parameters, MACs and activations, before any weight exists.

The counting itself lives with the block kinds in ``searchspace`` (each kind's
cost function sits next to its builder); this is the evaluators' entry point.
"""

from __future__ import annotations

from searchspace import Cost, NetSpec, net_cost


def cost(spec: NetSpec) -> Cost:
    """Params, MACs (torch FlopCounterMode total / 2) and activations of ``spec`` at its resolution."""
    if not isinstance(spec, NetSpec):
        raise TypeError(f"cost() takes a NetSpec, got {type(spec).__name__}")
    return net_cost(spec)
