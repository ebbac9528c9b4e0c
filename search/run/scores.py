"""What a search maximises for a net the proxy trained: ``--proxy-score``.

``accuracy`` is the proxy's validation accuracy.  ``accuracy_x_likelihood``
multiplies it by ``exp(-val_loss)``, the geometric mean of the probability the
net gives each validation image's true class.  After a short training on an
easy set many nets tie near 1.0 in accuracy, and the held-out loss still orders
them; where accuracies spread, the product follows accuracy.  Measured with the
fidelity benchmark (docs/proxy.md, 2026-12-05): on digits it ranks 51 nets at
0.68 against the SGD long reference where accuracy ranks 0.53 (paired +0.15
[+0.01, +0.31]); on shapes it ranks as accuracy does (-0.01 [-0.03, +0.00]).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from search.run.records import TrialRecord

ACCURACY = "accuracy"
ACCURACY_X_LIKELIHOOD = "accuracy_x_likelihood"
PROXY_SCORES = (ACCURACY_X_LIKELIHOOD, ACCURACY)
DEFAULT_PROXY_SCORE = ACCURACY_X_LIKELIHOOD
PROXY_SCORE_HELP = ("What the search maximises for a trained net (--proxy training): accuracy_x_likelihood, the "
                    "validation accuracy times exp(-validation loss), which still orders nets whose accuracies tie; "
                    "or accuracy.")


def proxy_quality(accuracy: float | None, val_loss: float | None, score: str) -> float | None:
    """The search's figure for one trained net (None without the figures it needs, or for a non-finite one)."""
    if accuracy is None or math.isnan(accuracy):
        return None
    if score == ACCURACY:
        return float(accuracy)
    if score != ACCURACY_X_LIKELIHOOD:
        raise ValueError(f"unknown proxy score {score!r}")
    if val_loss is None or math.isnan(val_loss):
        return None
    return float(accuracy) * math.exp(-val_loss)  # an infinite loss (a net that diverged) gives 0


def with_quality(record: TrialRecord, score: str) -> TrialRecord:
    """``record`` with ``quality`` set from its own figures under ``score`` (in place; returned for chaining): a
    known net's cached result serves runs of either score."""
    record.quality = proxy_quality(record.accuracy, record.val_loss, score)
    return record
