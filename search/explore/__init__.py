"""Design-space exploration (`search explore`): compare whole spaces of nets, not single nets.

The method of Radosavovic et al., "On Network Design Spaces for Visual
Recognition" (2019) and "Designing Network Design Spaces" (2020): sample N nets
uniformly from each space under a complexity filter (sampling.py), score each
with a proxy (scoring.py), and compare the spaces' error distributions
(statistics.py) in a run folder (folder.py) with plots and a report
(plots.py, report.py).  api.py ties them together.
"""

from search.callable_package import make_callable

make_callable(__name__, "explore")  # search.explore(spaces=..., macs=...) is search.api.explore
