"""The `efficientnet` space: a searched B0-like base, grown or shrunk by compound scaling.

The base (builtin/efficientnet_base.yaml) keeps EfficientNet-B0's stem,
widths, strides, head and regularisation and searches each stage's kernel,
expansion, depth and squeeze-and-excitation ratio.  ``phi`` then scales
depth by 1.2**phi, width by 1.1**phi and resolution by 1.15**phi
(``searchspace.scaling.compound``), with the head conv at 4x the last stage's
width as in EfficientNet.  B0 itself is phi = 0 with B0's base; B1...B7 are
not points, since their published multipliers are not powers of 1.1 / 1.2.
"""

from __future__ import annotations

import math
from typing import Any

from search.spaces.base import KnobInfo, Space, SpaceContext
from search.spaces.domains import Domain
from search.spaces.suggest import Suggest
from search.spaces.template import TemplateSpace
from searchspace import NetSpec
from searchspace.scaling import compound

PHI = Domain.choices((-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0))
HEAD_WIDTH_FACTOR = 4  # EfficientNet's head conv: 4x the last stage's width


class EfficientNetSpace(Space):
    def __init__(self, base: TemplateSpace) -> None:
        self.base = base
        self.name = base.name
        self.description = base.description

    @property
    def baselines(self) -> tuple[str, ...]:
        return self.base.baselines

    def sample(self, suggest: Suggest, context: SpaceContext) -> NetSpec:
        phi = PHI.draw(suggest, "phi")
        return compound(self.base.sample(suggest, context), phi, head_conv=HEAD_WIDTH_FACTOR)

    def knobs(self) -> list[KnobInfo]:
        return [KnobInfo.of("phi", PHI), *self.base.knobs()]

    def log10_size(self) -> float:
        return math.log10(PHI.count()) + self.base.log10_size()

    def known_point(self, zoo_name: str) -> dict[str, Any]:
        return {"phi": 0.0, **self.base.known_point(zoo_name)}
