"""The `classic` space: plain conv stacks with pooling and a fully connected head (LeNet-5, AlexNet, ZF-Net).

A net is up to five groups of convolutions (searchspace/zoo/classic.py writes
each conv as a stage of its own, as these nets are drawn layer by layer), each
group optionally ending in a pooling layer, then a head that pools to a small
grid (or flattens the map) before hidden fully connected layers.  Knobs:

* net-wide: ``activation`` (tanh for LeNet-5, ReLU after it), ``norm`` (batch
  norm after every conv, as VGG-BN adds), ``pool`` (max or average),
  ``pool_kernel`` (2 or 3, stride 2 always), ``pool_ceil`` (Caffe's rounding,
  ZF-Net), ``lrn`` (a local response normalisation after the first two
  groups' pools, where ZF-Net has its contrast normalisation);
* ``group<i>.depth`` (group 0 is one conv; 0 leaves groups 2 to 4 out),
  ``.width``, ``.kernel``, ``.padding`` (``same`` keeps the size at stride 1,
  0 is LeNet's and ZF-Net's "valid"; the first conv also takes AlexNet's 2 and
  ZF-Net's 1), ``.pooled``; ``group0.stride`` (1, 2 or AlexNet's 4) and
  ``group1.stride``;
* head: ``head.pool`` (``flatten``, LeNet-5's, or ``avg`` to
  ``head.pool_size``), ``head.depth`` hidden layers of ``head.width<j>``,
  ``head.dropout`` (0.5 before each hidden layer as AlexNet, or after each as
  ZF-Net and VGG);
* ``resolution_mult``.

A first conv with a stride is the net's stem, with its pool and LRN (how the
zoo writes AlexNet and ZF-Net; LeNet-5's stride-1 first conv is a stage).
Every sample builds at any resolution: a conv whose window does not fit the
map takes ``same`` padding, and a pool whose window does not fit is left out.
The known nets never need either at the resolutions they are valid at.  A
``flatten`` head over more than 2^16 values pools to 6x6 instead (LeNet-5
flattens 44,944 at 224 px), so no draw puts billions of weights in a layer.
"""

from __future__ import annotations

from typing import Any

from search.spaces.base import KnobInfo, SpaceContext, TabledSpace
from search.spaces import classic_layout as layout
from search.spaces.flat_space import deployed, sampled_resolution
from search.spaces.suggest import Suggest
from searchspace import NetSpec

# Known nets as knob values, from searchspace/zoo/classic.py's layer tables.
_BASELINES: dict[str, dict[str, Any]] = {
    "lenet5": {
        "activation": "tanh", "norm": False, "pool": "avg", "pool_kernel": 2, "pool_ceil": False, "lrn": False,
        "group0.width": 6, "group0.kernel": 5, "group0.stride": 1, "group0.padding": 0, "group0.pooled": True,
        "group1.depth": 1, "group1.width": 16, "group1.kernel": 5, "group1.stride": 1, "group1.padding": 0,
        "group1.pooled": True, "group2.depth": 0, "group3.depth": 0, "group4.depth": 0,
        "head.pool": "flatten", "head.depth": 2, "head.width0": 120, "head.width1": 84, "head.dropout": "none",
    },
    "alexnet": {
        "activation": "relu", "norm": False, "pool": "max", "pool_kernel": 3, "pool_ceil": False, "lrn": False,
        "group0.width": 64, "group0.kernel": 11, "group0.stride": 4, "group0.padding": 2, "group0.pooled": True,
        "group1.depth": 1, "group1.width": 192, "group1.kernel": 5, "group1.stride": 1, "group1.padding": "same",
        "group1.pooled": True, "group2.depth": 1, "group2.width": 384, "group2.kernel": 3, "group2.padding": "same",
        "group2.pooled": False, "group3.depth": 2, "group3.width": 256, "group3.kernel": 3, "group3.padding": "same",
        "group3.pooled": True, "group4.depth": 0,
        "head.pool": "avg", "head.pool_size": 6, "head.depth": 2, "head.width0": 4096, "head.width1": 4096,
        "head.dropout": "before",
    },
    "zfnet": {
        "activation": "relu", "norm": False, "pool": "max", "pool_kernel": 3, "pool_ceil": True, "lrn": True,
        "group0.width": 96, "group0.kernel": 7, "group0.stride": 2, "group0.padding": 1, "group0.pooled": True,
        "group1.depth": 1, "group1.width": 256, "group1.kernel": 5, "group1.stride": 2, "group1.padding": 0,
        "group1.pooled": True, "group2.depth": 2, "group2.width": 384, "group2.kernel": 3, "group2.padding": "same",
        "group2.pooled": False, "group3.depth": 1, "group3.width": 256, "group3.kernel": 3, "group3.padding": "same",
        "group3.pooled": True, "group4.depth": 0,
        "head.pool": "avg", "head.pool_size": 6, "head.depth": 2, "head.width0": 4096, "head.width1": 4096,
        "head.dropout": "after",
    },
}


class ClassicSpace(TabledSpace):
    name = "classic"
    description = ("plain conv stacks (LeNet-5, AlexNet, ZF-Net): up to five conv groups with their widths, kernels, "
                   "strides, paddings and pools, LRN, activation, batch norm, and a pooled or flattened hidden-layer head")
    known = _BASELINES

    def sample(self, suggest: Suggest, context: SpaceContext) -> NetSpec:
        net = {name: domain.draw(suggest, name) for name, domain in layout.NET_KNOBS.items()}
        multiplier = layout.RESOLUTION_MULT.draw(suggest, "resolution_mult")
        stem, stages, flattened = layout.layers(suggest, net, sampled_resolution(context, multiplier))
        spec = NetSpec(stem=stem, stages=stages, head=layout.head_spec(suggest, net["activation"], flattened))
        return deployed(spec, context, multiplier)

    def knobs(self) -> list[KnobInfo]:
        net = [KnobInfo.of(name, domain) for name, domain in layout.NET_KNOBS.items()]
        groups = [knob for index in range(layout.GROUPS) for knob in layout.group_knobs(index)]
        return [*net, KnobInfo.of("resolution_mult", layout.RESOLUTION_MULT), *groups, *layout.head_knobs()]

    def log10_size(self) -> float:
        return layout.log10_size()

    def point(self, entry: dict[str, Any]) -> dict[str, Any]:
        return {**entry, "resolution_mult": 1.0}
