"""The built-in block kinds: one module each (spec, builder, cost, registry entry); search/spaces/blocks.py only looks them up.

Adding a kind: write its module, add it to the register(...) line below (docs/adding_a_block_kind.md).
"""

from searchspace.blocks.dense import DENSE, TRANSITION, DenseLayerSpec, TransitionSpec
from searchspace.blocks.inception import INCEPTION, InceptionBranch, InceptionSpec
from searchspace.blocks.inverted import FUSED, MBCONV, FusedMBConvSpec, MBConvSpec
from searchspace.blocks.plain import (
    ADAPTIVE_POOL,
    CONV,
    LRN,
    NORM_ACT,
    POOL,
    AdaptivePoolSpec,
    ConvSpec,
    LRNSpec,
    NormActSpec,
    PoolSpec,
)
from searchspace.blocks.residual import BASIC, BOTTLENECK, BasicSpec, BottleneckSpec
from searchspace.blocks.se import SESpec
from searchspace.blocks.selective_kernel import SelectiveKernelSpec
from searchspace.blocks.shuffle import SHUFFLE, ShuffleSpec
from searchspace.blocks.split_attention import SplitAttentionSpec
from searchspace.blocks.uib import UIB, UIBSpec
from searchspace.registry import register

register(CONV, POOL, ADAPTIVE_POOL, LRN, NORM_ACT, BASIC, BOTTLENECK, MBCONV, FUSED, UIB, DENSE, TRANSITION, INCEPTION, SHUFFLE)

__all__ = [
    "AdaptivePoolSpec", "BasicSpec", "BottleneckSpec", "ConvSpec", "DenseLayerSpec", "FusedMBConvSpec",
    "InceptionBranch", "InceptionSpec", "LRNSpec", "MBConvSpec", "NormActSpec", "PoolSpec", "SESpec",
    "SelectiveKernelSpec", "ShuffleSpec", "SplitAttentionSpec", "TransitionSpec", "UIBSpec",
]
