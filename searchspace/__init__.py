"""The net representation: CNNs written down as data (specs), built as modules, costed from the spec alone.

(Search spaces, the sets of nets searchers sample, are ``search/spaces/``.)

Public entry points::

    build(spec) -> nn.Module          encode(spec) -> str       decode(text) -> NetSpec
    spec.to_json() / NetSpec.from_json(text)                   spec.digest()
    create_model("resnet50", num_classes=10, pretrained=state_dict, features_only=False)
    feature_info(spec) -> channels and reductions of the feature maps, from the spec alone
"""

from searchspace.analysis import BlockCost, Cost, block_costs, layer_records, net_cost
from searchspace.blocks import (
    AdaptivePoolSpec,
    BasicSpec,
    BottleneckSpec,
    ConvSpec,
    DenseLayerSpec,
    FusedMBConvSpec,
    InceptionBranch,
    InceptionSpec,
    LRNSpec,
    MBConvSpec,
    NormActSpec,
    PoolSpec,
    SelectiveKernelSpec,
    SESpec,
    ShuffleSpec,
    SplitAttentionSpec,
    TransitionSpec,
    UIBSpec,
)
from searchspace.build import Net, build
from searchspace.codec import decode, encode
from searchspace.create import create_model
from searchspace.features import FeatureInfo, FeatureNet, feature_info
from searchspace.fields import SpecError, SpecStringError
from searchspace.registry import kind_names
from searchspace.spec import AuxHeadSpec, HeadSpec, NetSpec, Stage
from searchspace.tally import LayerRecord

__all__ = [
    "AdaptivePoolSpec", "AuxHeadSpec", "BasicSpec", "BlockCost", "BottleneckSpec", "ConvSpec", "Cost",
    "DenseLayerSpec", "FeatureInfo", "FeatureNet", "FusedMBConvSpec", "HeadSpec", "InceptionBranch", "InceptionSpec", "LayerRecord", "LRNSpec",
    "MBConvSpec", "Net", "NetSpec", "NormActSpec", "PoolSpec", "SESpec", "SelectiveKernelSpec", "ShuffleSpec", "SpecError", "SplitAttentionSpec",
    "SpecStringError", "Stage", "TransitionSpec", "UIBSpec", "block_costs", "build", "create_model", "decode", "encode", "feature_info",
    "kind_names", "layer_records", "net_cost",
]
