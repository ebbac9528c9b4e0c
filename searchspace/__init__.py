"""The net representation: CNNs written down as data (specs), built as modules, costed from the spec alone.

(Search spaces, the sets of nets searchers sample, are ``search/spaces/``.)

Public entry points::

    build(spec) -> nn.Module          encode(spec) -> str       decode(text) -> NetSpec
    spec.to_json() / NetSpec.from_json(text)                   spec.digest()
    create_model("resnet50", num_classes=10, pretrained=state_dict, features_only=False)
    feature_info(spec) -> channels and reductions of the feature maps, from the spec alone

The names below are imported on first use (see searchspace.lazy_exports): every
block kind imports torch, and importing a torch-free module of this package
(``searchspace.shown``, ``searchspace.fields``) must not load it.
"""

from searchspace.lazy_exports import export_lazily

__all__ = export_lazily(__name__, {
    "searchspace.analysis": ("BlockCost", "Cost", "block_costs", "layer_records", "net_cost"),
    "searchspace.blocks": ("AdaptivePoolSpec", "BasicSpec", "BottleneckSpec", "ConvSpec", "DenseLayerSpec",
                           "FusedMBConvSpec", "InceptionBranch", "InceptionSpec", "LRNSpec", "MBConvSpec",
                           "NormActSpec", "PoolSpec", "SelectiveKernelSpec", "SESpec", "ShuffleSpec",
                           "ShuffleV1Spec", "SplitAttentionSpec", "TransitionSpec", "UIBSpec"),
    "searchspace.build": ("Net", "build"),
    "searchspace.codec": ("decode", "encode"),
    "searchspace.create": ("create_model",),
    "searchspace.features": ("FeatureInfo", "FeatureNet", "feature_info"),
    "searchspace.fields": ("SpecError", "SpecStringError"),
    "searchspace.registry": ("kind_names",),
    "searchspace.spec": ("AuxHeadSpec", "HeadSpec", "NetSpec", "Stage"),
    "searchspace.tally": ("LayerRecord",),
})
