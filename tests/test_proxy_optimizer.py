"""The proxy's optimizer: AdamW for every net with narrow convolutions' rates raised (the default since 2026-12-05),
SGD for nets with batch norm and AdamW for nets without ("auto", the default before), or SGD for every net.

Issue 13 asks that every known net fitting the budget learn under the default proxy; LeNet-5, a net
without normalisation, stayed at 0.25 on digits under the batch-norm nets' SGD rate, DeiT-Ti at 0.27.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from evaluators.data import load_dataset
from evaluators.proxy import ProxySettings, train
from evaluators.proxy.recipe import has_batch_norm
from search.run.config import RunConfig
from search.run.resources import default_proxy_resolution
from searchspace import zoo
from tests.test_proxy_train import corner_squares, tiny_net


def norm_free_net() -> nn.Module:
    """TinyNet's layers without its batch norms."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(32, 2))


QUICK = ProxySettings(epochs=1, batch_size=32, augment=False, optimizer="auto")


def test_auto_trains_a_batch_norm_net_with_sgd_at_the_scaled_rate():
    result = train(tiny_net(), corner_squares(), QUICK)
    assert result.optimizer == "sgd" and result.lr == pytest.approx(0.1 * 32 / 128)


def test_auto_trains_a_net_without_batch_norm_with_adamw_at_its_own_rate():
    result = train(norm_free_net(), corner_squares(), QUICK)
    assert result.optimizer == "adamw" and result.lr == QUICK.adamw_lr
    assert result.history[-1].lr < QUICK.adamw_lr  # the same warm-up and cosine schedule scale AdamW's rate


@pytest.mark.parametrize("forced", ["sgd", "adamw"])
def test_a_named_optimizer_is_used_whatever_the_net(forced):
    for net in (tiny_net(), norm_free_net()):
        assert train(net, corner_squares(), dataclasses.replace(QUICK, optimizer=forced)).optimizer == forced


def test_an_adamw_step_updates_the_weights_adams_way():
    """One AdamW step moves every weight by about the rate whatever its gradient's size (Adam's normalised step),
    and decays kernels but not biases."""
    net = norm_free_net()
    before = {name: p.detach().clone() for name, p in net.named_parameters()}
    settings = dataclasses.replace(QUICK, steps=1, warmup_epochs=0.0, adamw_lr=1e-2, adamw_weight_decay=0.0,
                                   adamw_fan_in_power=1.0, adamw_max_rate_scale=1.0)  # every fan-in <= 512: the rate
    train(net, corner_squares(), settings)
    moved = torch.cat([(p.detach() - before[name]).abs().flatten() for name, p in net.named_parameters()])
    moved = moved[moved > 0]
    assert moved.numel() > 0.9 * sum(p.numel() for p in net.parameters())
    assert torch.allclose(moved, torch.full_like(moved, 1e-2), rtol=1e-2)  # the first step of Adam is lr * sign(grad)


def first_adam_steps(layers: list[nn.Module], inputs: list[torch.Tensor], settings) -> tuple[list[torch.Tensor], object]:
    """How far each layer's weights move on one optimizer step (Adam's first is its rate x sign(grad)), and the
    optimizer, for its groups."""
    from evaluators.proxy.step import make_optimizer

    optimizer = make_optimizer(nn.ModuleList(layers), settings)
    before = [layer.weight.detach().clone() for layer in layers]
    sum(layer(x).sum() for layer, x in zip(layers, inputs)).backward()
    optimizer.step()
    return [(layer.weight.detach() - start).abs() for layer, start in zip(layers, before)], optimizer


def assert_moved_by(steps: list[torch.Tensor], expected: tuple[float, ...]) -> None:
    for moved, size in zip(steps, expected, strict=True):
        assert torch.allclose(moved, torch.full_like(moved, size), rtol=1e-2)


def test_adamw_moves_a_layer_wider_than_the_reference_fan_in_by_a_proportionally_smaller_step():
    """muP's rule for Adam: a layer's output moves in proportion to rate x fan-in, so wide layers get rate x ref / fan-in."""
    from evaluators.proxy.step import OptimizerSettings

    reference = ProxySettings().adamw_reference_fan_in
    narrow, wide = nn.Linear(reference // 2, 4), nn.Linear(4 * reference, 4)
    settings = OptimizerSettings(lr=1e-2, momentum=0.9, nesterov=False, weight_decay=0.0, kind="adamw", reference_fan_in=reference)
    steps, optimizer = first_adam_steps([narrow, wide], [torch.randn(8, narrow.in_features), torch.randn(8, wide.in_features)],
                                        settings)
    assert_moved_by(steps, (1e-2, 1e-2 / 4))  # narrower than the reference: the full rate
    assert all(group["lr"] == 1e-2 for group in optimizer.param_groups if any(p is narrow.bias for p in group["params"]))


def test_adamw_fan_in_power_raises_a_narrow_convolutions_rate_up_to_the_ceiling_and_no_linear_layers():
    """Power 0.5: a convolution of 1/4 the reference fan-in steps twice as far, one of 1/64 only as far as the ceiling,
    a linear layer of 1/4 no further than the rate, one of 4 times the reference half as far."""
    from evaluators.proxy.step import OptimizerSettings

    reference = 256
    quarter, tiny = nn.Conv2d(reference // 16, 2, 2), nn.Conv2d(reference // 256, 2, 2)  # fan-ins 64 and 4
    linear_quarter, linear_wide = nn.Linear(reference // 4, 2), nn.Linear(4 * reference, 2)
    settings = OptimizerSettings(lr=1e-3, momentum=0.9, nesterov=False, weight_decay=0.0, kind="adamw",
                                 reference_fan_in=reference, fan_in_power=0.5, max_rate_scale=5.0)
    inputs = [torch.randn(8, quarter.in_channels, 2, 2), torch.randn(8, tiny.in_channels, 2, 2),
              torch.randn(8, linear_quarter.in_features), torch.randn(8, linear_wide.in_features)]
    steps, _ = first_adam_steps([quarter, tiny, linear_quarter, linear_wide], inputs, settings)
    assert_moved_by(steps, (2e-3, 5e-3, 1e-3, 0.5e-3))  # sqrt(4), min(5, sqrt(64)), min(1, 2), sqrt(1/4)


def test_the_default_trains_a_batch_norm_net_with_adamw_and_a_depthwise_convolution_at_three_times_the_rate():
    """The default recipe's rule: rate x min(3, sqrt(512 / fan-in)) for a spatial convolution and min(5, ...) for a
    1x1 one, so on Adam's first step a depthwise 3x3 (fan-in 9) steps three times as far as a 512-wide pointwise
    convolution, and a 16-wide pointwise one (sqrt(32) = 5.7) five times."""
    assert train(tiny_net(), corner_squares(), ProxySettings(epochs=1, batch_size=32, augment=False)).optimizer == "adamw"
    settings = dataclasses.replace(ProxySettings().optimizer_for(has_batch_norm=True), weight_decay=0.0)
    steps, _ = first_adam_steps([nn.Conv2d(4, 4, 3, groups=4), nn.Conv2d(512, 2, 1), nn.Conv2d(16, 2, 1)],
                                [torch.randn(2, 4, 3, 3), torch.randn(2, 512, 1, 1), torch.randn(2, 16, 1, 1)], settings)
    assert_moved_by(steps, (3 * settings.lr, settings.lr, 5 * settings.lr))


def test_a_pointwise_ceiling_moves_1x1_convolutions_alone_and_defaults_to_the_spatial_one():
    """adamw_pointwise_max_rate_scale: a 1x1 convolution of fan-in 16 (sqrt(512 / 16) = 5.7) steps 5 times the rate,
    a depthwise 3x3 beside it keeps the ceiling of 3; unset, both take that ceiling."""
    layers = [nn.Conv2d(4, 4, 3, groups=4), nn.Conv2d(16, 2, 1)]
    inputs = [torch.randn(2, 4, 3, 3), torch.randn(2, 16, 1, 1)]
    for pointwise, expected in ((5.0, (3, 5)), (None, (3, 3))):
        settings = ProxySettings(adamw_pointwise_max_rate_scale=pointwise)
        optimizer = dataclasses.replace(settings.optimizer_for(has_batch_norm=True), weight_decay=0.0)
        steps, _ = first_adam_steps(layers, inputs, optimizer)
        assert_moved_by(steps, tuple(factor * optimizer.lr for factor in expected))


def test_has_batch_norm_finds_a_nested_batch_norm_and_ignores_other_norms():
    assert has_batch_norm(nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2))))
    assert not has_batch_norm(nn.Sequential(nn.Linear(2, 2), nn.LayerNorm(2), nn.GroupNorm(1, 2)))


@pytest.mark.parametrize("field, value", [("optimizer", "adam"), ("adamw_lr", 0.0), ("adamw_weight_decay", -1.0),
                                          ("adamw_reference_fan_in", 0), ("adamw_fan_in_power", -0.5),
                                          ("adamw_max_rate_scale", 0.5), ("adamw_pointwise_max_rate_scale", 0.9)])
def test_invalid_optimizer_settings_are_refused_naming_the_setting(field, value):
    with pytest.raises(ValueError, match=field):
        ProxySettings(**{field: value})


@pytest.mark.parametrize("name", ["lenet5", "deit_tiny_patch16_224", "shufflenet_v2_x0_5"])
def test_the_hardest_known_nets_learn_digits_under_the_default_jobs_proxy(name):
    """Under the batch-norm nets' SGD LeNet-5 (tanh, no normalisation) reached 0.25, and DeiT-Ti 0.27 with its
    224-px token grid kept at 32 px; under AdamW without the narrow convolutions' raised rates ShuffleNetV2 x0.5
    reached 0.76.  The issue asks every known net that fits the budget for 0.90.  This trains on one thread (as every
    test does) with seed 0: on the default job's two threads ShuffleNetV2 x0.5 lands at 0.89-0.92 over five seeds
    (docs/proxy.md, "Every known net learns: over seeds"): this checks the recipe, not the bar's margin in the job."""
    from searchspace.scaling import smallest_buildable

    config = RunConfig(name="known")
    net = zoo.get(name)
    resolution = smallest_buildable(net, default_proxy_resolution(config.dataset))
    digits = load_dataset(config.dataset, seed=0, resolution=default_proxy_resolution(config.dataset))
    settings = ProxySettings(epochs=config.proxy_epochs, batch_size=config.proxy_batch_size, augment=config.proxy_augment,
                             optimizer=config.proxy_optimizer, resolution=resolution)
    result = train(net, digits, settings)
    assert result.optimizer == "adamw" and result.accuracy >= 0.90
