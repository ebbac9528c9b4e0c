"""``create_model``: a net in one call, the way ``timm.create_model`` and ``torchvision.models.get_model`` make one.

    model = create_model("resnet50", num_classes=10, pretrained="resnet50.pth")
    backbone = create_model("mobilenetv3_large_100", features_only=True, out_indices=(2, 3, 4))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

from torch import nn

from searchspace.build import build
from searchspace.codec import decode
from searchspace.features import FeatureNet
from searchspace.fields import SpecError
from searchspace.pretrained import StateDictSource, load_pretrained
from searchspace.spec import NetSpec

NetSource = NetSpec | str | PathLike


def _zoo_entry_name(source: NetSource) -> str | None:
    from searchspace import zoo

    if isinstance(source, str) and (source in zoo.names() or source in zoo.aliases()):
        return source
    return None


def resolve_spec(source: NetSource, **settings: int) -> NetSpec:
    """The spec a zoo name or alias, a compact spec string, a NetSpec or a spec JSON file stands for.

    ``settings``: ``num_classes``, ``in_channels`` and ``resolution`` to replace (None: keep).
    """
    from searchspace import zoo

    given = {k: v for k, v in settings.items() if v is not None}
    if _zoo_entry_name(source):
        return zoo.get(source, **given)
    if isinstance(source, NetSpec):
        spec = source
    elif isinstance(source, (str, PathLike)) and Path(source).is_file():
        spec = NetSpec.from_json(Path(source).read_text(encoding="utf-8"))
    elif isinstance(source, str) and "|" in source:
        spec = decode(source)
    elif isinstance(source, (str, PathLike)):
        from searchspace.zoo_names import close_names_hint

        raise zoo.ZooError(f"net {str(source)!r} is not a zoo name, a spec string or a spec file{close_names_hint(str(source))}")
    else:
        raise SpecError(f"net = {type(source).__name__} is not allowed: give a zoo name, a spec string, a NetSpec or a spec file")
    return dataclasses.replace(spec, **given) if given else spec


def create_model(
    name_or_spec: NetSource,
    *,
    num_classes: int | None = None,
    in_chans: int | None = None,
    pretrained: StateDictSource | None = None,
    features_only: bool = False,
    out_indices: Sequence[int] | None = None,
    resolution: int | None = None,
) -> nn.Module:
    """Build a net by zoo name (timm's and torchvision's names), spec string, NetSpec or spec file.

    ``pretrained``: a state dict, or a file holding one, of this toolkit's net or
    of the torchvision or timm model a zoo name stands for; with another
    ``num_classes`` the classifier is freshly initialised (a warning says so) and
    with another ``in_chans`` the first conv's filters are adapted.  ``True`` is
    refused: nothing is downloaded.  ``features_only``: a module whose forward
    returns the feature maps (see :mod:`searchspace.features`), ``out_indices``
    choosing among them, with ``feature_info`` giving their channels and reductions.
    ``resolution`` is the input size the spec is validated and costed at.
    """
    if pretrained is True:
        raise SpecError("pretrained = True is not allowed: nothing is downloaded; give a state dict or a path to one")
    if out_indices is not None and not features_only:
        raise SpecError("out_indices needs features_only=True (it picks which feature maps to return)")
    spec = resolve_spec(name_or_spec, num_classes=num_classes, in_channels=in_chans, resolution=resolution)
    net = build(spec)
    if pretrained is not None and pretrained is not False:
        load_pretrained(net, pretrained, _zoo_entry_name(name_or_spec))
    return FeatureNet(net, out_indices) if features_only else net
