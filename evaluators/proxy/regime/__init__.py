"""Numeric regimes of a proxy training: what they are (``modes``), and how ``auto`` picks one.

``probe`` times a few steps of each regime on the candidate, ``choice`` decides
from those timings, ``cache`` remembers decisions per candidate and device, and
``select`` puts the three together for :func:`evaluators.proxy.train`.
"""
