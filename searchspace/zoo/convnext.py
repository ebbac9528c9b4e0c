"""ConvNeXt-T (torchvision's ``convnext_tiny``).

Stem: a 4x4 conv at stride 4 (patches, with bias) and a layer norm.  Four
stages of ConvNeXt blocks; the first block of stages 2 to 4 carries
ConvNeXt's downsampling layer (layer norm, 2x2 conv at stride 2), see
blocks/convnext.py.  torchvision's classifier pools, then layer-norms the
pooled vector, then applies the linear layer: here the body ends with a
global average pool and a layer norm on the 1x1 map, and the head's own
average pool over that 1x1 map changes nothing.
"""

from __future__ import annotations

from typing import Any

from searchspace.blocks import AdaptivePoolSpec, ConvNeXtSpec, ConvSpec, LayerNormSpec
from searchspace.spec import NetSpec, Stage
from searchspace.zoo.registry import Reference, ZooEntry, register

# (width, blocks) of each stage: ConvNeXt-T, "A ConvNet for the 2020s" (Liu et al., 2022).
TINY = ((96, 3), (192, 3), (384, 9), (768, 3))
PATCH = 4
# torchvision's stochastic depth grows linearly from 0 at the first block to 0.1 at the last.
TORCHVISION_STOCHASTIC_DEPTH = 0.1


def convnext_spec(stages: tuple[tuple[int, int], ...], **block: Any) -> NetSpec:
    """ConvNeXt with these (width, blocks) stages; ``block``: ConvNeXtSpec fields for every block
    (``kernel``, ``expand_ratio``), whose defaults are the paper's (the convnext space searches them)."""
    stem = (
        Stage(block=ConvSpec(out_channels=stages[0][0], kernel=PATCH, padding=0, bias=True, norm=False, activation="identity"), stride=PATCH),
        Stage(block=LayerNormSpec()),
    )
    body = [Stage(block=ConvNeXtSpec(out_channels=width, **block), repeats=blocks, stride=1 if i == 0 else 2) for i, (width, blocks) in enumerate(stages)]
    closing = [Stage(block=AdaptivePoolSpec()), Stage(block=LayerNormSpec())]
    residual_blocks = sum(blocks for _, blocks in stages)
    # This toolkit gives block i of n body blocks the rate drop_path_rate * i / n (the two closing
    # stages count in n); this rate gives ConvNeXt block i torchvision's 0.1 * i / (residual blocks - 1).
    rate = TORCHVISION_STOCHASTIC_DEPTH * (residual_blocks + len(closing)) / (residual_blocks - 1)
    return NetSpec(stem=stem, stages=(*body, *closing), drop_path_rate=rate)


register(ZooEntry(
    "convnext_tiny", "convnext", lambda: convnext_spec(TINY), Reference("torchvision", "convnext_tiny", 224),
    note="A ConvNet for the 2020s (Liu et al., 2022) as torchvision builds it: layer norms with epsilon 1e-6, "
         "layer scale initialised to 1e-6, stochastic depth 0.1 at the last block (no effect in eval mode).",
))
