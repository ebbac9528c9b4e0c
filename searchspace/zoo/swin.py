"""Swin-T, Swin-S and Swin-V2-T (torchvision's ``swin_t``, ``swin_s``, ``swin_v2_t``).

Stem: a 4x4 conv at stride 4 (patches, with bias) and a layer norm.  Four
stages of Swin blocks (blocks/swin.py), each of stages 2 to 4 starting with
patch merging, which torchvision places at the end of the stage before: the
same layers in the same order.  torchvision's classifier layer-norms the map,
pools, then applies the linear layer: here the body ends with a layer norm and
the head pools.  torchvision keeps each attention's relative position index
(and V2's coordinate table) as buffers; they are functions of the window size,
which the blocks compute, so the converter leaves them out.
"""

from __future__ import annotations

from typing import Any

from searchspace.blocks import ConvSpec, LayerNormSpec, SwinSpec
from searchspace.spec import NetSpec, Stage
from searchspace.zoo.convert import modules_ranked
from searchspace.zoo.registry import Reference, ZooEntry, register

PATCH = 4
EMBED_WIDTH = 96
HEAD_WIDTH = 32  # heads = stage width / 32 in every stage of every Swin (T: 3, 6, 12, 24)
NORM_EPS = 1e-5
# torchvision's builder arguments: (depths, window, version, stochastic depth at the last block).
CONFIGS = {
    "swin_t": ((2, 2, 6, 2), 7, "v1", 0.2),
    "swin_s": ((2, 2, 18, 2), 7, "v1", 0.3),
    "swin_v2_t": ((2, 2, 6, 2), 8, "v2", 0.2),
}
# torchvision's derived buffers, absent from this toolkit's state dicts.
DERIVED_BUFFERS = ("relative_position_index", "relative_coords_table")


def swin_spec(depths: tuple[int, ...], window: int, version: str, stochastic_depth: float, resolution: int = 224,
              width: int = EMBED_WIDTH, **block: Any) -> NetSpec:
    """Swin with these stage depths; ``width``: the first stage's (each later stage doubles it), a multiple of
    HEAD_WIDTH; ``block``: further SwinSpec fields for every block (``expand_ratio``; the spec's defaults are the paper's)."""
    stem = (
        Stage(block=ConvSpec(out_channels=width, kernel=PATCH, padding=0, bias=True, norm=False, activation="identity"), stride=PATCH),
        Stage(block=LayerNormSpec(eps=NORM_EPS)),
    )
    widths = [width * 2**i for i in range(len(depths))]
    body = [
        Stage(block=SwinSpec(out_channels=channels, heads=channels // HEAD_WIDTH, window=window, version=version, norm_eps=NORM_EPS,
                             **block), repeats=depth, stride=1 if i == 0 else 2)
        for i, (depth, channels) in enumerate(zip(depths, widths))
    ]
    blocks = sum(depths)
    # Block i of the n + 1 body blocks (the closing norm counts) gets drop_path_rate * i / (n + 1): this rate
    # gives torchvision's stochastic_depth_prob * i / (n - 1).
    rate = stochastic_depth * (blocks + 1) / (blocks - 1)
    return NetSpec(stem=stem, stages=(*body, Stage(block=LayerNormSpec(eps=NORM_EPS))), drop_path_rate=rate, resolution=resolution)


def without_derived_buffers(keys: list[str]) -> list[str]:
    return [key for key in keys if key.rsplit(".", 1)[-1] not in DERIVED_BUFFERS]


# torchvision registers each block's norm1, attn, norm2, mlp in that order whether a norm comes before its
# branch (V1) or after it (V2); this toolkit registers each branch's layers in the order they run.
_POST_NORM_RANK = {"attn": 0, "norm1": 1, "mlp": 2, "norm2": 3}
_norms_after_branches = modules_ranked(r"features\.\d+\.\d+", _POST_NORM_RANK.__getitem__)


def post_norm_order(keys: list[str]) -> list[str]:
    """V2's reference keys, without the derived buffers, with each norm after the branch it closes."""
    return _norms_after_branches(without_derived_buffers(keys))


def _entry(name: str, resolution: int, note: str) -> ZooEntry:
    order = post_norm_order if "v2" in name else without_derived_buffers
    return ZooEntry(name, "swin", lambda: swin_spec(*CONFIGS[name], resolution=resolution), Reference("torchvision", name, resolution),
                    reference_order=order, note=note)


register(
    _entry("swin_t", 224,
           "Swin Transformer (Liu et al., 2021), tiny: 7x7 windows, stochastic depth 0.2 at the last block (no effect in eval mode)."),
    _entry("swin_s", 224,
           "Swin Transformer (Liu et al., 2021), small: 7x7 windows, stochastic depth 0.3 at the last block."),
    _entry("swin_v2_t", 256,
           "Swin Transformer V2 (Liu et al., 2022), tiny, as torchvision builds it: 8x8 windows, post-norm, cosine "
           "attention, log-spaced position-bias MLP; torchvision's weights are for 256 px (224 px runs too, on padded windows)."),
)
