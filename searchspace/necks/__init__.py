"""Necks: what sits between a backbone's multi-scale maps and a detection head (FPN, PAN, SPP, SPPF).

Adding a kind: a module with its spec, builder and cost (searchspace/necks/kinds.py
says how they read), and its name in the register_necks(...) line below.
"""

from searchspace.necks.kinds import NeckKind, neck_by_name, neck_names, neck_of, register_necks
from searchspace.necks.pooling import SPP, SPPF, SPPFSpec, SPPSpec
from searchspace.necks.pyramid import FPN, PAN, FPNSpec, PANSpec

register_necks(FPN, PAN, SPP, SPPF)

from searchspace.necks.build import BackboneNeck, build_backbone_neck  # noqa: E402  (needs the kinds above)
from searchspace.necks.cost import BackboneNeckCost, PartCost, backbone_neck_cost  # noqa: E402
from searchspace.necks.spec import BackboneNeckSpec, decode_backbone_neck, encode_backbone_neck  # noqa: E402

__all__ = [
    "BackboneNeck", "BackboneNeckCost", "BackboneNeckSpec", "FPNSpec", "NeckKind", "PANSpec", "PartCost", "SPPFSpec",
    "SPPSpec", "backbone_neck_cost", "build_backbone_neck", "decode_backbone_neck", "encode_backbone_neck",
    "neck_by_name", "neck_names", "neck_of", "register_necks",
]
