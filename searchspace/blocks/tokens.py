"""From an image to a token sequence and back to a norm over it: ViT's patch embedding, class token and position embedding.

* ``patch``: a convolution whose kernel and stride are the patch size, with a
  bias and no norm (timm's ``patch_embed.proj``, torchvision's ``conv_proj``);
  its output is still a map, one position per patch.
* ``tokens``: the layout change (docs/token_sequences.md).  The map (N, C, H, W)
  becomes H*W tokens (N, H*W, C) in row-major order, behind a learned class
  token (and DeiT's distillation token); a learned position embedding covering
  every token is added.  With ``grid`` 0 the embedding has one entry per
  position of the map it is given (the libraries' nets built for that image
  size); with ``grid`` g it is learned on a g x g grid and resampled bicubically
  to the map's grid when they differ, its prefix-token entries kept, as timm
  does with ``dynamic_img_size`` (antialiased, corners not aligned).
* ``tokennorm``: a layer norm over the channels of each token (ViT's final norm).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from searchspace.blocks.convnext import EPS
from searchspace.fields import BoolCodec, IntCodec, SpecBase, SpecError, knob
from searchspace.layers import BuildContext
from searchspace.registry import BlockKind
from searchspace.tally import Tally


@dataclass(frozen=True, kw_only=True)
class PatchEmbedSpec(SpecBase):
    kind = "patch"

    out_channels: int = knob("c", IntCodec(1), doc="embedding width", role="channels")
    patch: int = knob("p", IntCodec(1), 16, doc="patch side in pixels: the conv's kernel and stride")


class PatchEmbed(nn.Module):
    def __init__(self, spec: PatchEmbedSpec, in_channels: int, stride: int, ctx: BuildContext) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, spec.out_channels, spec.patch, stride=spec.patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


def _cost_patch_embed(spec: PatchEmbedSpec, tally: Tally, stride: int) -> None:
    tally.conv(spec.out_channels, spec.patch, spec.patch, padding=0, bias=True, norm=False)


@dataclass(frozen=True, kw_only=True)
class TokensSpec(SpecBase):
    kind = "tokens"

    distill: bool = knob("", BoolCodec("distill", "nodistill"), False, doc="a distillation token after the class token (DeiT)")
    grid: int = knob("g", IntCodec(0), 0, doc="side of the grid the position embedding is learned on; 0: the input's grid")

    def prefix_tokens(self) -> int:
        return 2 if self.distill else 1


def embedding_grid(spec: TokensSpec, height: int, width: int) -> tuple[int, int]:
    return (spec.grid, spec.grid) if spec.grid else (height, width)


class TokenSequence(nn.Module):
    """(N, C, H, W) -> (N, prefix + H*W, C): prefix tokens, then the patches, plus the position embedding."""

    def __init__(self, spec: TokensSpec, in_channels: int, stride: int, ctx: BuildContext) -> None:
        super().__init__()
        self.grid = embedding_grid(spec, *ctx.in_size)
        self.class_token = nn.Parameter(torch.zeros(1, 1, in_channels))
        if spec.distill:
            self.dist_token = nn.Parameter(torch.zeros(1, 1, in_channels))
        self.pos_embedding = nn.Parameter(torch.zeros(1, spec.prefix_tokens() + self.grid[0] * self.grid[1], in_channels))
        for parameter in self.parameters():
            nn.init.trunc_normal_(parameter, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        grid = (x.shape[2], x.shape[3])
        patches = x.flatten(2).transpose(1, 2)
        prefix = [self.class_token] + ([self.dist_token] if hasattr(self, "dist_token") else [])
        tokens = torch.cat([p.expand(x.shape[0], -1, -1) for p in prefix] + [patches], dim=1)
        return tokens + resample_position_embedding(self.pos_embedding, self.grid, grid, len(prefix))


def resample_position_embedding(embedding: torch.Tensor, grid: tuple[int, int], new_grid: tuple[int, int], prefix: int) -> torch.Tensor:
    """The embedding of a ``grid`` of positions resampled bicubically to ``new_grid``; prefix-token entries kept."""
    if grid == new_grid:
        return embedding
    head, body = embedding[:, :prefix], embedding[:, prefix:]
    body = body.reshape(1, grid[0], grid[1], -1).permute(0, 3, 1, 2)
    body = F.interpolate(body, size=new_grid, mode="bicubic", align_corners=False, antialias=True)
    return torch.cat([head, body.permute(0, 2, 3, 1).flatten(1, 2)], dim=1)


def _cost_tokens(spec: TokensSpec, tally: Tally, stride: int) -> None:
    channels, prefix = tally.channels, spec.prefix_tokens()
    grid = embedding_grid(spec, tally.height, tally.width)
    tokens = prefix + tally.height * tally.width
    tally.tokens, tally.height, tally.width = True, tally.height * tally.width, 1
    tally.layer("class_token", params=prefix * channels)
    tally.height = tokens
    tally.layer("position_embedding", params=(prefix + grid[0] * grid[1]) * channels)


@dataclass(frozen=True, kw_only=True)
class TokenNormSpec(SpecBase):
    """A layer norm over the channels of each token of a sequence (ViT's norm after the last block)."""

    kind = "tokennorm"

    eps: float = knob("eps", EPS, 1e-6, doc="epsilon (ViT, DeiT: 1e-6)")


def _build_token_norm(spec: TokenNormSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    return nn.LayerNorm(in_channels, eps=spec.eps)


def _cost_token_norm(spec: TokenNormSpec, tally: Tally, stride: int) -> None:
    tally.norm()


def check_divides(what: str, value: int, channels: int) -> None:
    if channels % value:
        raise SpecError(f"{what} = {value} is not allowed: it must divide the token width ({channels})")


PATCH_EMBED = BlockKind(PatchEmbedSpec, PatchEmbed, _cost_patch_embed, strides=(1,), depth_scalable=False)
TOKENS = BlockKind(TokensSpec, TokenSequence, _cost_tokens, strides=(1,), depth_scalable=False,
                   latency_ops={"class_token": "elementwise", "position_embedding": "elementwise"})
TOKEN_NORM = BlockKind(TokenNormSpec, _build_token_norm, _cost_token_norm, strides=(1,), depth_scalable=False, takes_tokens=True)
