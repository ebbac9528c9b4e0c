"""A search run: configuration, the loop, storage, resume, the Ray backend.

Calling the package runs a search: ``search.run(budget="50ms")`` is :func:`search.api.run`.
"""

from search.callable_package import make_callable

make_callable(__name__, "run")
