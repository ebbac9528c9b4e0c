"""The built-in block kinds: one module each (spec, builder, cost, registry entry); search/spaces/blocks.py only looks them up.

Adding a kind: write its module, add it to the register(...) line below (docs/adding_a_block_kind.md).
"""

from searchspace.blocks import cbam, eca, gather_excite, global_context  # noqa: F401  (attention kinds register on import)
from searchspace.blocks.bam import BAM, BAMSpec
from searchspace.blocks.convnext import CONVNEXT, ConvNeXtSpec
from searchspace.blocks.dense import DENSE, TRANSITION, DenseLayerSpec, TransitionSpec
from searchspace.blocks.inception import INCEPTION, InceptionBranch, InceptionSpec
from searchspace.blocks.inception_residual import INCEPTION_RESIDUAL, InceptionResidualSpec
from searchspace.blocks.inverted import FUSED, MBCONV, FusedMBConvSpec, MBConvSpec
from searchspace.blocks.mobile_mqa import MOBILE_MQA, MobileMQASpec
from searchspace.blocks.plain import (
    ADAPTIVE_POOL,
    CONV,
    LAYER_NORM,
    LRN,
    NORM_ACT,
    POOL,
    AdaptivePoolSpec,
    ConvSpec,
    LayerNormSpec,
    LRNSpec,
    NormActSpec,
    PoolSpec,
)
from searchspace.blocks.preact import PREACT, PreActBottleneckSpec
from searchspace.blocks.residual import BASIC, BOTTLENECK, BasicSpec, BottleneckSpec
from searchspace.blocks.se import SESpec
from searchspace.blocks.selective_kernel import SelectiveKernelSpec
from searchspace.blocks.shuffle import SHUFFLE, ShuffleSpec
from searchspace.blocks.shuffle_v1 import SHUFFLE_V1, ShuffleV1Spec
from searchspace.blocks.split_attention import SplitAttentionSpec
from searchspace.blocks.swin import PATCH_MERGING, SWIN, PatchMergingSpec, SwinSpec
from searchspace.blocks.uib import UIB, UIBSpec
from searchspace.blocks.xception import XCEPTION, XceptionSpec
from searchspace.registry import register

register(CONV, POOL, ADAPTIVE_POOL, LRN, NORM_ACT, BASIC, BOTTLENECK, MBCONV, FUSED, UIB, DENSE, TRANSITION, INCEPTION, SHUFFLE)
# The kinds of issue 18, after the kinds above so that their search order stays as it was.
register(LAYER_NORM, CONVNEXT, PREACT, XCEPTION, INCEPTION_RESIDUAL, SHUFFLE_V1, BAM)
register(SWIN, PATCH_MERGING)  # issue 19's Swin kinds
register(MOBILE_MQA)  # issue 19

__all__ = [
    "AdaptivePoolSpec", "BAMSpec", "BasicSpec", "BottleneckSpec", "ConvNeXtSpec", "ConvSpec", "DenseLayerSpec", "FusedMBConvSpec",
    "InceptionBranch", "InceptionResidualSpec", "InceptionSpec", "LayerNormSpec", "LRNSpec", "MBConvSpec", "MobileMQASpec", "NormActSpec", "PoolSpec",
    "PatchMergingSpec", "PreActBottleneckSpec", "SESpec", "SelectiveKernelSpec", "ShuffleSpec", "ShuffleV1Spec", "SplitAttentionSpec", "SwinSpec", "TransitionSpec",
    "UIBSpec", "XceptionSpec",
]
