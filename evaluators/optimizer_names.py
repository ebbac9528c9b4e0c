"""The names of the proxy's optimizers (what each does: evaluators.proxy.step.make_optimizer).

Torch-free, so that the command line checks ``--proxy-optimizer`` before torch is imported.
"""

# "sgd": momentum SGD, the BatchNorm CNN's optimizer; "adamw": Adam with decoupled weight decay
# (Loshchilov & Hutter 2019), what transformers and nets without normalisation are trained with.
OPTIMIZERS: tuple[str, ...] = ("sgd", "adamw")
# "auto": SGD for a net with batch norm, AdamW for one without.
AUTO = "auto"
OPTIMIZER_CHOICES: tuple[str, ...] = (AUTO, *OPTIMIZERS)
# The proxy's default (evaluators.proxy.settings.ProxySettings.optimizer says why) and the search's.
DEFAULT_OPTIMIZER = "adamw"
