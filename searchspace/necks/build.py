"""A backbone with necks as one ``nn.Module``: the backbone's feature extractor, then each neck in order."""

from __future__ import annotations

import torch
from torch import nn

from searchspace.build import build
from searchspace.features import FeatureNet
from searchspace.layers import BuildContext
from searchspace.necks.cost import backbone_neck_cost, chosen_points
from searchspace.necks.kinds import neck_of
from searchspace.necks.spec import BackboneNeckSpec


class BackboneNeck(nn.Module):
    """``forward(images)`` gives the last neck's maps (the backbone's, without necks), shallowest first."""

    def __init__(self, spec: BackboneNeckSpec) -> None:
        super().__init__()
        self.spec = spec
        self.backbone = FeatureNet(build(spec.backbone), [p.index for p in chosen_points(spec)])
        ctx = BuildContext(spec.backbone.norm_eps, spec.backbone.norm_momentum)
        parts = backbone_neck_cost(spec).parts
        self.necks = nn.ModuleList(
            neck_of(neck).build(neck, [shape[0] for shape in part.out_shapes], ctx)
            for neck, part in zip(spec.necks, parts)
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        maps = self.backbone(x)
        for neck in self.necks:
            maps = neck(maps)
        return maps


def build_backbone_neck(spec: BackboneNeckSpec) -> BackboneNeck:
    if not isinstance(spec, BackboneNeckSpec):
        raise TypeError(f"build_backbone_neck() takes a BackboneNeckSpec, got {type(spec).__name__}")
    return BackboneNeck(spec)
