"""Short proxy training of candidate networks (see :func:`train`).

``train(spec_or_module, dataset, ProxySettings(...), device=...)`` returns a :class:`ProxyResult` or, for
a candidate that cannot be trained, a :class:`TrainingFailure`.
"""

from evaluators.proxy.regime.modes import REGIME_CHOICES
from evaluators.proxy.result import (
    FAILURE_REASONS,
    EpochRecord,
    ProxyResult,
    TrainingFailure,
)
from evaluators.proxy.settings import ProxySettings
from evaluators.proxy.train import train

__all__ = ["FAILURE_REASONS", "REGIME_CHOICES", "EpochRecord", "ProxyResult", "ProxySettings", "TrainingFailure", "train"]
