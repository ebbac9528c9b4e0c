"""Pieces of the proxy-fidelity benchmark (``python -m benchmarks.proxy_fidelity``).

``nets``: which nets are ranked; ``variants``: the proxies under test and the
long-training reference; ``jobs``: one training per (net, variant, seed), run
in worker processes and appended to a JSON-lines log; ``analysis``: rank
correlations with bootstrap intervals, the reference's own seed-to-seed
ceiling, and the top-k check.
"""
