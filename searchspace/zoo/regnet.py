"""Every RegNetX and RegNetY that torchvision ships, from their six design-space numbers."""

from __future__ import annotations

from searchspace.regnet import regnet_spec
from searchspace.zoo.convert import module_last
from searchspace.zoo.registry import Reference, ZooEntry, register

# name: (depth, w0, wa, wm, group width, SE ratio) as published in "Designing Network Design Spaces".
PARAMETERS = {
    "regnet_x_400mf": (22, 24, 24.48, 2.54, 16, None),
    "regnet_x_800mf": (16, 56, 35.73, 2.28, 16, None),
    "regnet_x_1_6gf": (18, 80, 34.01, 2.25, 24, None),
    "regnet_x_3_2gf": (25, 88, 26.31, 2.25, 48, None),
    "regnet_x_8gf": (23, 80, 49.56, 2.88, 120, None),
    "regnet_x_16gf": (22, 216, 55.59, 2.1, 128, None),
    "regnet_x_32gf": (23, 320, 69.86, 2.0, 168, None),
    "regnet_y_400mf": (16, 48, 27.89, 2.09, 8, 0.25),
    "regnet_y_800mf": (14, 56, 38.84, 2.4, 16, 0.25),
    "regnet_y_1_6gf": (27, 48, 20.71, 2.65, 24, 0.25),
    "regnet_y_3_2gf": (21, 80, 42.63, 2.66, 24, 0.25),
    "regnet_y_8gf": (17, 192, 76.82, 2.19, 56, 0.25),
    "regnet_y_16gf": (18, 200, 106.23, 2.48, 112, 0.25),
    "regnet_y_32gf": (20, 232, 115.89, 2.53, 232, 0.25),
    "regnet_y_128gf": (27, 456, 160.83, 2.52, 264, 0.25),
}

# torchvision's default weights for the largest RegNetY (SWAG, end to end) are evaluated at 384 px.
RESOLUTIONS = {"regnet_y_128gf": 384}

# torchvision registers a block's projection before its main path; this toolkit after it.
projection_last = module_last(r"trunk_output\.block\d+\.block\d+-\d+", "proj")


def _entry(name: str, parameters: tuple) -> ZooEntry:
    depth, w0, wa, wm, group_width, se_ratio = parameters
    resolution = RESOLUTIONS.get(name, 224)
    return ZooEntry(
        name, "regnet",
        lambda: regnet_spec(depth, w0, wa, wm, group_width, se_ratio=se_ratio, resolution=resolution),
        Reference("torchvision", name, resolution),
        reference_order=projection_last,
    )


register(*(_entry(name, parameters) for name, parameters in PARAMETERS.items()))
