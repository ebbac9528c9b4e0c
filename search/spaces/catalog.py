"""The built-in spaces.

``unified``, ``mobilenet``, ``regnet`` and ``hybrid`` are space files shipped in
``builtin/`` (the same format users write, so they double as examples);
``resnet`` is code (torchvision's constructor arguments as knobs) and
``efficientnet`` wraps the ``builtin/efficientnet_base.yaml`` template with
compound scaling; ``mobile`` is code too (per-block knobs, known points found
from the zoo specs: search/spaces/mobile_space.py); ``vit`` is code too (plain vision
transformers: search/spaces/vit_space.py), and so are ``shufflenet_v1``
(search/spaces/shufflenet_v1_space.py), ``classic`` (plain conv stacks:
search/spaces/classic_space.py), ``googlenet`` (search/spaces/googlenet_space.py),
``densenet`` (search/spaces/densenet_space.py), ``convnext``, ``swin`` and ``xception``
(search/spaces/convnext_space.py, swin_space.py, xception_space.py); ``union`` searches
the parts UNION_PARTS names as one (search/spaces/union_space.py).
"""

from __future__ import annotations

import functools
from importlib import resources

from search.spaces.base import Space
from search.spaces.classic_space import ClassicSpace
from search.spaces.convnext_space import ConvNeXtSpace
from search.spaces.definition import RegNetDefinition, TemplateDefinition
from search.spaces.densenet_space import DenseNetSpace
from search.spaces.documents import read_document
from search.spaces.efficientnet_space import EfficientNetSpace
from search.spaces.googlenet_space import GoogLeNetSpace
from search.spaces.mobile_space import MobileSpace
from search.spaces.regnet_space import RegNetSpace
from search.spaces.resnet_space import ResNetSpace
from search.spaces.schema import parse_space
from search.spaces.shufflenet_v1_space import ShuffleNetV1Space
from search.spaces.swin_space import SwinSpace
from search.spaces.template import TemplateSpace
from search.spaces.default import DEFAULT_SPACE
from search.spaces.union_space import UnionSpace
from search.spaces.vit_space import ViTSpace
from search.spaces.xception_space import XceptionSpace



def _definition(file_name: str) -> TemplateDefinition | RegNetDefinition:
    source = f"built-in space file {file_name}"
    text = resources.files("search.spaces").joinpath("builtin", file_name).read_text(encoding="utf-8")
    # A built-in may list a zoo net whose family is still being added; it becomes a baseline once registered.
    return parse_space(read_document(text, False, source), source, file_name.split(".")[0], require_known_baselines=False)


# The default space's parts (issue 20: it holds every zoo net that fits 50 ms on the test CPU,
# benchmarks/zoo_fit.py): vit, shufflenet_v1, classic, googlenet and densenet bring ViT/DeiT,
# ShuffleNet (v1), LeNet-5, AlexNet, ZF-Net, GoogLeNet and DenseNet; convnext, swin and xception
# bring ConvNeXt-T, Swin-T and Xception-41, which a quiet pass timed at 1.04-1.25x ResNet-50 (41 ms
# in the example run), and their families' nets near them.
UNION_PARTS = ("mobile", "unified", "resnet", "regnet", "efficientnet", "vit", "shufflenet_v1", "classic", "googlenet",
               "densenet", "convnext", "swin", "xception")


@functools.cache
def _load_builtins() -> dict[str, Space]:
    spaces = [
        TemplateSpace(_definition("unified.yaml")),
        TemplateSpace(_definition("mobilenet.yaml")),
        ResNetSpace(),
        RegNetSpace(_definition("regnet.yaml")),
        EfficientNetSpace(TemplateSpace(_definition("efficientnet_base.yaml"))),
        MobileSpace(),
        TemplateSpace(_definition("hybrid.yaml")),
        ViTSpace(),
        ShuffleNetV1Space(),
        ClassicSpace(),
        GoogLeNetSpace(),
        DenseNetSpace(),
        ConvNeXtSpace(),
        SwinSpace(),
        XceptionSpace(),
    ]
    by_name = {space.name: space for space in spaces}
    # mobile first: a known net several parts hold is enqueued as mobile's point, whose per-block
    # knobs let a searcher change one block of it at a time.  Parts added later go last, so that
    # the known nets of the first five keep their points.
    parts = [by_name[name] for name in UNION_PARTS]
    by_name["union"] = UnionSpace("union", f"{', '.join(UNION_PARTS[:-1])} and {UNION_PARTS[-1]} as one space: "
                                  "a part, then that part's knobs", parts)
    return by_name


# Design-space study files (docs/spaces.md, `search explore`): loadable by name, not listed as built-ins.
STUDY_SPACES = ("anynetx_a", "anynetx_b", "anynetx_c", "anynetx_d", "anynetx_e", "regnetx")


@functools.cache
def study_space(name: str) -> Space:
    from search.spaces.files import space_from_data

    source = f"built-in space file {name}.yaml"
    text = resources.files("search.spaces").joinpath("builtin", f"{name}.yaml").read_text(encoding="utf-8")
    return space_from_data(read_document(text, False, source), source, name)


def builtin_spaces() -> dict[str, Space]:
    """Name -> space, the default first."""
    spaces = _load_builtins()
    return {DEFAULT_SPACE: spaces[DEFAULT_SPACE], **spaces}
