"""Zoo nets in training mode against their references: the settings that eval-mode outputs cannot see.

Dropout rates, stochastic-depth probabilities and batch-norm momentum change
nothing at inference.  In training mode, with the same random seed, the zoo
net and its reference draw the same dropout and drop-path masks, so their
logits agree only if every rate and probability agrees; and after that
forward pass the batch-norm running statistics agree only if the momenta do.
"""

from __future__ import annotations

import copy

import pytest
import torch

from searchspace import build, zoo
from searchspace.layers import DropPath
from tests.zoo_reference import (
    assert_logits_close,
    converted_zoo_net,
    random_images,
    randomize_,
    reference_model,
)

# One net for each distinct combination of training settings among these families.
REPRESENTATIVES = (
    "mobilenet_v3_large",  # dropout after the hidden layer, momentum 0.01
    "mnasnet0_5",  # momentum 1 - 0.9997
    "shufflenet_v2_x0_5",  # no dropout, PyTorch's default norm
    "efficientnet_b0",  # stochastic depth rising to 0.2, dropout 0.2
    "efficientnet_b5",  # TensorFlow's norm settings, dropout 0.4
    "efficientnet_v2_s",  # fused-MBConv residuals with stochastic depth, epsilon 1e-3
    "mobilenetv1_100",  # timm, no dropout
    "mobilenetv4_conv_small",  # timm, batch norm in the head's hidden layer
)
RESOLUTION = 64


@pytest.mark.parametrize("name", REPRESENTATIVES)
def test_training_forward_pass_equals_the_reference(name: str) -> None:
    reference = randomize_(reference_model(zoo.info(name))).train()
    # A copy, so that the two nets update running statistics of their own, not shared tensors.
    ours = converted_zoo_net(name, copy.deepcopy(reference), RESOLUTION).train()
    images = random_images(RESOLUTION)
    with torch.no_grad():
        torch.manual_seed(7)
        expected = reference(images)
        torch.manual_seed(7)
        actual = ours(images)
    assert_logits_close(actual, expected)
    updated_reference = zoo.convert_state_dict(name, reference.state_dict())
    for key, tensor in ours.state_dict().items():
        torch.testing.assert_close(tensor, updated_reference[key], rtol=1e-4, atol=1e-5, msg=lambda m, key=key: f"{key}: {m}")


@pytest.mark.parametrize("name", ["efficientnet_b0", "efficientnet_v2_s"])
def test_stochastic_depth_probabilities_equal_torchvision(name: str) -> None:
    """torchvision's rule: 0.2 * block index / block count, on the blocks that add their input back."""
    reference = reference_model(zoo.info(name))
    expected = [
        block.stochastic_depth.p for block in reference.modules()
        if getattr(block, "use_res_connect", False) and block.stochastic_depth.p > 0
    ]
    with torch.device("meta"):
        ours = build(zoo.get(name))
    assert [module.probability for module in ours.modules() if isinstance(module, DropPath)] == expected
