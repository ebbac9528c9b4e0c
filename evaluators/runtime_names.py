"""The names of the runtimes latency can be measured in (what each means: evaluators.latency.runtimes).

Torch-free, so that the command line checks ``--runtime`` before torch is imported.
"""

EAGER = "eager"
RUNTIMES = (EAGER, "onnxruntime", "torchscript", "compile")
