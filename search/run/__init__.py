"""A search run: configuration, one search session (session.py) driving two backends (loop.py: optuna in
this process; ray_backend.py: Ray Tune), the typed trial record (records.py), storage, resume.

Calling the package runs a search: ``search.run(budget="50ms")`` is :func:`search.api.run`.
"""

from search.callable_package import make_callable

make_callable(__name__, "run")
