"""Hypothesis strategies: random valid-looking specs for every registered block kind.

Each strategy draws small nets (a strided stem conv, one or two stages of the
kind under test, a random head) at small resolutions so that building and
running them stays cheap.  Draws that turn out invalid (a group count that
does not divide a derived width, say) are rejected by the tests with
``assume`` after checking that the rejection is a proper ``SpecError``.
"""

from __future__ import annotations

from hypothesis import strategies as st

from searchspace import (
    AdaptivePoolSpec,
    BasicSpec,
    BottleneckSpec,
    ConvSpec,
    DenseLayerSpec,
    FusedMBConvSpec,
    HeadSpec,
    InceptionBranch,
    InceptionSpec,
    LRNSpec,
    MBConvSpec,
    NormActSpec,
    PoolSpec,
    SelectiveKernelSpec,
    SESpec,
    ShuffleSpec,
    ShuffleV1Spec,
    SplitAttentionSpec,
    Stage,
    TransitionSpec,
    UIBSpec,
)
from searchspace.activations import activation_names
from searchspace.necks import FPNSpec, PANSpec, SPPFSpec, SPPSpec
from searchspace.blocks import ConvNeXtSpec, InceptionResidualSpec, LayerNormSpec, PreActBottleneckSpec, XceptionSpec
from searchspace.blocks.bam import BAMSpec
from searchspace.blocks.cbam import CBAMSpec
from searchspace.blocks.eca import ECASpec
from searchspace.blocks.gather_excite import GESpec
from searchspace.blocks.global_context import GCSpec
from searchspace.blocks.swin import PatchMergingSpec, SwinSpec
from searchspace.blocks.mobile_mqa import MobileMQASpec

activations = st.sampled_from(activation_names())
widths = st.integers(2, 24)
even_widths = st.integers(1, 12).map(lambda n: 2 * n)


@st.composite
def se_specs(draw) -> SESpec:
    return SESpec(
        ratio=draw(st.sampled_from([0.0625, 0.25, 0.5, 1.0])),
        relative_to=draw(st.sampled_from(["in", "mid", "out"])),
        divisor=draw(st.sampled_from([1, 1, 4, 8])),
        activation=draw(st.sampled_from(["relu", "silu"])),
        gate=draw(st.sampled_from(["sigmoid", "hardsigmoid"])),
    )


squeeze_rules = st.fixed_dictionaries({
    "ratio": st.sampled_from([0.0625, 0.25, 0.5, 1.0]),
    "relative_to": st.sampled_from(["in", "mid", "out"]),
    "divisor": st.sampled_from([1, 1, 4]),
})
gates = st.sampled_from(["sigmoid", "hardsigmoid"])
attention_activations = st.sampled_from(["relu", "silu"])

# One strategy per registered attention kind (tests/test_conformance.py checks that none is missing).
ATTENTION = {
    "se": se_specs(),
    "eca": st.builds(ECASpec, kernel=st.sampled_from([None, None, 1, 3, 5]), gate=gates),
    "cbam": st.builds(lambda rule, **kw: CBAMSpec(**rule, **kw), squeeze_rules, spatial_kernel=st.sampled_from([1, 3, 7]),
                      activation=attention_activations, gate=gates),
    "ge": st.builds(lambda rule, **kw: GESpec(**rule, **kw), squeeze_rules, extent=st.sampled_from([0, 0, 2, 4]),
                    mlp=st.booleans(), activation=attention_activations, gate=gates),
    "gc": st.builds(lambda rule, **kw: GCSpec(**rule, **kw), squeeze_rules, pooling=st.sampled_from(["attn", "avg"]),
                    fusion=st.sampled_from(["add", "scale"]), activation=attention_activations, gate=gates),
}
optional_se = st.one_of(st.none(), *ATTENTION.values())

# The residual kinds' 3x3 variants: Selective Kernel and split attention, at settings beyond their reference nets'.
sk_specs = st.builds(
    SelectiveKernelSpec, paths=st.sampled_from([2, 2, 3]), ratio=st.sampled_from([1 / 16, 1 / 8, 0.5]),
    divisor=st.sampled_from([1, 8, 16]), split_input=st.booleans(),
)
splat_specs = st.builds(
    SplitAttentionSpec, radix=st.sampled_from([1, 2, 2, 4]), ratio=st.sampled_from([0.25, 0.5]),
    divisor=st.sampled_from([1, 4, 8]), min_channels=st.sampled_from([1, 6, 32]), avd=st.booleans(),
)
optional_spatial = st.one_of(st.none(), sk_specs, splat_specs)


@st.composite
def conv_specs(draw) -> ConvSpec:
    groups = draw(st.sampled_from([1, 1, 2]))
    kernel = draw(st.sampled_from([1, 3, 5, (1, 3), (3, 1)]))
    return ConvSpec(
        out_channels=groups * draw(st.integers(1, 12)),
        kernel=kernel,
        groups=groups,
        dilation=draw(st.sampled_from([1, 1, 2])),
        padding=draw(st.sampled_from([None, None, 0, 1])),
        activation=draw(activations),
        norm=draw(st.booleans()),
        bias=draw(st.booleans()),
    )


@st.composite
def pool_specs(draw) -> PoolSpec:
    op = draw(st.sampled_from(["max", "avg"]))
    kernel = draw(st.integers(1, 4))
    return PoolSpec(
        op=op,
        kernel=kernel,
        padding=draw(st.integers(0, kernel // 2)),
        ceil_mode=draw(st.booleans()),
        count_include_pad=True if op == "max" else draw(st.booleans()),
    )


def _stage(block_strategy, repeats=st.integers(1, 3), stride=st.sampled_from([1, 2])):
    return st.builds(lambda block, r, s: Stage(block=block, repeats=r, stride=s), block_strategy, repeats, stride)


@st.composite
def inception_branches(draw, depth: int = 0) -> InceptionBranch:
    layers = []
    for _ in range(draw(st.integers(1, 2))):
        if draw(st.integers(0, 3)) == 0:
            kernel = draw(st.sampled_from([1, 3]))
            layers.append(PoolSpec(op=draw(st.sampled_from(["max", "avg"])), kernel=kernel, padding=kernel // 2))
        else:
            layers.append(ConvSpec(out_channels=draw(widths), kernel=draw(st.sampled_from([1, 3, 5, (1, 3), (3, 1)])),
                                   activation=draw(activations)))
    tails = ()
    if depth == 0 and draw(st.integers(0, 3)) == 0:
        tails = tuple(draw(st.lists(inception_branches(depth=1), min_size=2, max_size=2)))
    return InceptionBranch(layers=tuple(layers), tails=tails)


def basic_stages(spatial):
    return _stage(st.builds(BasicSpec, out_channels=widths, activation=activations, se=optional_se,
                            downsample=st.sampled_from(["conv1x1", "avgpool"]), spatial=spatial))


def bottleneck_stages(spatial):
    return _stage(st.builds(
        BottleneckSpec, out_channels=st.integers(1, 6).map(lambda n: 8 * n),
        bottleneck_ratio=st.sampled_from([0.25, 0.5, 1.0]), groups=st.sampled_from([1, 1, 2, 4]),
        activation=activations, se=optional_se, se_position=st.sampled_from(["semid", "seout"]),
        downsample=st.sampled_from(["conv1x1", "avgpool"]), spatial=spatial))


@st.composite
def swin_specs(draw) -> SwinSpec:
    """Windows that tile the map and windows the map is padded to; shifted and not; V1 and V2."""
    heads = draw(st.integers(1, 3))
    return SwinSpec(
        out_channels=heads * draw(st.integers(1, 6)), heads=heads, window=draw(st.sampled_from([2, 3, 4, 6])),
        shift=draw(st.booleans()), expand_ratio=draw(st.sampled_from([1.0, 2.0, 2.5, 4.0])),
        version=draw(st.sampled_from(["v1", "v2"])), norm_eps=draw(st.sampled_from([1e-6, 1e-5])),
    )


# Every block kind that takes a spatial-conv variant, and every variant, for tests that pair them all.
SPATIAL_STAGES = {"basic": basic_stages, "bottleneck": bottleneck_stages}
SPATIAL_VARIANTS = {"sk": sk_specs, "splat": splat_specs}

layer_scales = st.sampled_from([None, None, 1e-5, 0.5])

STAGES = {
    "conv": _stage(conv_specs(), stride=st.sampled_from([1, 2, 3])),
    "pool": _stage(pool_specs(), repeats=st.just(1), stride=st.sampled_from([1, 2, 3])),
    "apool": _stage(st.builds(AdaptivePoolSpec, op=st.sampled_from(["max", "avg"]), size=st.integers(1, 3)),
                    repeats=st.just(1), stride=st.just(1)),
    "lrn": _stage(st.builds(LRNSpec, size=st.integers(1, 5), alpha=st.floats(1e-5, 1e-3), beta=st.floats(0.5, 1.0),
                            k=st.floats(1.0, 2.0)), repeats=st.just(1), stride=st.just(1)),
    "normact": _stage(st.builds(NormActSpec, activation=activations), repeats=st.just(1), stride=st.just(1)),
    "basic": basic_stages(optional_spatial),
    "bottleneck": bottleneck_stages(optional_spatial),
    "mbconv": _stage(st.builds(
        MBConvSpec, out_channels=widths, expand_ratio=st.sampled_from([1.0, 2.5, 3.0, 4.0, 6.0]),
        kernel=st.sampled_from([3, 5, (3, 5)]), group_size=st.sampled_from([1, 1, 1, 2, 8]), activation=activations,
        se=optional_se, skip=st.booleans(), project_activation=st.booleans())),
    "fused": _stage(st.builds(
        FusedMBConvSpec, out_channels=widths, expand_ratio=st.sampled_from([1.0, 2.0, 4.0]),
        kernel=st.sampled_from([1, 3, 5]), activation=activations, se=optional_se, skip=st.booleans())),
    "uib": _stage(st.builds(
        UIBSpec, out_channels=widths, expand_ratio=st.sampled_from([1.0, 2.0, 4.0]),
        start_kernel=st.sampled_from([0, 3, 5]), mid_kernel=st.sampled_from([0, 3, 5]),
        end_kernel=st.sampled_from([0, 0, 3]), activation=activations, se=optional_se, skip=st.booleans(),
        layer_scale_init=layer_scales)),
    "dense": _stage(st.builds(DenseLayerSpec, growth_rate=st.integers(1, 8), bottleneck=st.integers(0, 4),
                              activation=activations), repeats=st.integers(1, 4), stride=st.just(1)),
    "transition": _stage(st.builds(TransitionSpec, compression=st.sampled_from([0.25, 0.5, 1.0]), activation=activations),
                         repeats=st.just(1)),
    "inception": _stage(st.builds(InceptionSpec, branches=st.lists(inception_branches(), min_size=1, max_size=4).map(tuple)),
                        repeats=st.integers(1, 2)),
    "layernorm": _stage(st.builds(LayerNormSpec, eps=st.sampled_from([1e-6, 1e-5])), repeats=st.just(1), stride=st.just(1)),
    "convnext": _stage(st.builds(
        ConvNeXtSpec, out_channels=widths, kernel=st.sampled_from([3, 7]), expand_ratio=st.sampled_from([1.0, 2.0, 4.0]),
        activation=activations, layer_scale_init=st.sampled_from([1e-6, 0.5, 1.0]))),
    "preact": _stage(st.builds(
        PreActBottleneckSpec, out_channels=st.integers(1, 6).map(lambda n: 8 * n), bottleneck_ratio=st.sampled_from([0.25, 0.5, 1.0]),
        groups=st.sampled_from([1, 1, 2]), activation=activations, se=optional_se, downsample=st.sampled_from(["conv1x1", "avgpool"]))),
    "xception": _stage(st.builds(
        XceptionSpec, widths=st.lists(widths, min_size=1, max_size=3).map(tuple), activation=activations,
        act_first=st.booleans(), skip=st.booleans())),
    "inceptionres": _stage(st.builds(
        InceptionResidualSpec, branches=st.lists(inception_branches(), min_size=1, max_size=3).map(tuple),
        scale=st.sampled_from([0.1, 0.17, 1.0]), activation=activations), repeats=st.integers(1, 2), stride=st.just(1)),
    "shuffle": _stage(st.builds(ShuffleSpec, out_channels=even_widths, kernel=st.sampled_from([3, 5]), activation=activations),
                      stride=st.just(2)),
    "shufflev1": _stage(st.integers(1, 4).flatmap(lambda groups: st.builds(
        ShuffleV1Spec, out_channels=st.integers(3, 8).map(lambda n: groups * n), groups=st.just(groups),
        bottleneck_ratio=st.sampled_from([0.25, 0.5]), group_first=st.booleans(), kernel=st.sampled_from([3, 5]),
        activation=activations)), stride=st.just(2)),
    "bam": _stage(st.builds(BAMSpec, reduction=st.integers(1, 8), dilation=st.integers(1, 4), dilated_convs=st.integers(0, 2),
                            activation=activations), repeats=st.just(1), stride=st.just(1)),
    "swin": _stage(swin_specs()),
    "patchmerge": _stage(st.builds(PatchMergingSpec, out_channels=widths, version=st.sampled_from(["v1", "v2"])),
                         repeats=st.just(1)),
    "mqa": _stage(st.builds(
        MobileMQASpec, out_channels=widths, heads=st.integers(1, 4), key_dim=st.integers(1, 8), kv_stride=st.integers(1, 3),
        kv_kernel=st.sampled_from([1, 3, 5]), layer_scale_init=layer_scales, skip=st.booleans()), stride=st.just(1)),
}


@st.composite
def heads(draw) -> HeadSpec:
    hidden = tuple(draw(st.lists(st.integers(2, 12), max_size=2)))
    pool = draw(st.sampled_from(["avg", "avg", "max", "flatten"]))
    return HeadSpec(
        conv_channels=draw(st.sampled_from([0, 0, 8])),
        activation=draw(activations),
        pool=pool,
        pool_size=1 if pool == "flatten" else draw(st.integers(1, 2)),
        hidden=hidden,
        hidden_norm=draw(st.booleans()),
        hidden_bias=draw(st.booleans()),
        dropout=draw(st.one_of(st.just(()), st.just(tuple(0.1 for _ in range(len(hidden) + 1))))),
    )


@st.composite
def nets_of_kind(draw, kind: str, stage_strategy=None) -> dict:
    """Keyword arguments for a NetSpec with one or two stages of ``kind`` (drawn from ``stage_strategy`` if given)."""
    stages = tuple(draw(st.lists(STAGES[kind] if stage_strategy is None else stage_strategy, min_size=1, max_size=2)))
    if kind in ("shuffle", "shufflev1", "inception"):
        stages = stages[:1]
    return dict(
        stem=(Stage(block=ConvSpec(out_channels=draw(st.sampled_from([4, 8, 16])), kernel=3), stride=2),),
        stages=stages,
        head=draw(heads()),
        resolution=draw(st.sampled_from([12, 16, 24, 32])),
        in_channels=draw(st.sampled_from([1, 3])),
        num_classes=draw(st.integers(2, 12)),
        norm_eps=draw(st.sampled_from([1e-5, 1e-3])),
        drop_path_rate=draw(st.sampled_from([0.0, 0.2])),
    )


# ---- necks: chains of them on random pyramids of levels --------------------------------------

odd_kernels = st.sampled_from([1, 3, 5])
pool_necks = st.one_of(
    st.builds(SPPSpec, kernels=st.lists(odd_kernels, min_size=1, max_size=3).map(tuple),
              hidden_ratio=st.sampled_from([0.25, 0.5, 1.0]), out_channels=st.sampled_from([0, 8]), activation=activations),
    st.builds(SPPFSpec, kernel=odd_kernels, hidden_ratio=st.sampled_from([0.25, 0.5]), out_channels=st.sampled_from([0, 8]),
              activation=activations),
)


@st.composite
def neck_chains(draw) -> tuple[tuple[tuple[int, int, int], ...], tuple]:
    """(level shapes, finest first and halving in size; necks in order: a pooling neck, an FPN, a PAN, each optional)."""
    finest = draw(st.sampled_from([8, 12, 16]))
    count = draw(st.integers(1, 3))
    levels = tuple((draw(widths), finest >> i, finest >> i) for i in range(count))
    necks = []
    if draw(st.booleans()):
        necks.append(draw(pool_necks))
    if draw(st.booleans()):
        necks.append(FPNSpec(out_channels=draw(widths), extra_pool=draw(st.booleans())))
        if draw(st.booleans()):
            necks.append(PANSpec(activation=draw(activations), norm=draw(st.booleans())))
    return levels, tuple(necks)
