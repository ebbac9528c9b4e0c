"""The proxy recipe's pieces, as behaviour: zero-initialised residual branches, no weight decay on
norms, the warm-up, exact step counts, batch-norm recalibration and the training-speed estimate."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from evaluators.proxy import ProxyResult, ProxySettings, train
from evaluators.proxy.recipe import recalibrate_batch_norms, zero_init_residual_branches
from evaluators.proxy.train import learning_rate
from evaluators.proxy.step import OptimizerSettings, make_optimizer
from searchspace import build, decode
from searchspace.layers import Residual
from tests.test_proxy_train import corner_squares, tiny_net

RESIDUAL_NET = "net_r16_i3_n2 | conv_c16 | basic_r2_c16 bottleneck_c16 mbconv_r2_c16_e4 fused_c16_e2 | head"


def test_zero_initialised_residual_branches_start_as_identity():
    torch.manual_seed(0)
    model = build(decode(RESIDUAL_NET)).eval()
    blocks = [module for module in model.modules() if isinstance(module, Residual)]
    assert len(blocks) >= 5
    assert zero_init_residual_branches(model) == len(blocks)
    x = torch.randn(4, 16, 16, 16)
    with torch.no_grad():
        for block in blocks:
            identity = x if block.shortcut is None else block.shortcut(x)
            assert torch.count_nonzero(block.body(x)) == 0
            torch.testing.assert_close(block(x), block.act(identity))


def test_a_zero_initialised_pre_activation_branch_starts_as_identity_and_can_still_learn():
    """ResNet v2's branch ends norm-ReLU-conv: a zeroed norm would feed ReLU zeros, whose gradient is zero."""
    torch.manual_seed(0)
    model = build(decode("net_r16_i3_n2 | conv_c16 | preact_r2_c64 normact | head"))
    blocks = [module for module in model.modules() if isinstance(module, Residual)]
    assert zero_init_residual_branches(model) == len(blocks) == 2
    x = torch.randn(4, 3, 16, 16)
    model(x).sum().backward()
    for block in blocks:
        assert torch.count_nonzero(block.body.conv_c.conv.weight) == 0  # the branch adds nothing yet
        assert block.body.conv_c.conv.weight.grad.abs().sum() > 0  # and its last conv has a gradient to leave zero with
    with torch.no_grad():
        features = torch.randn(4, 64, 8, 8)
        torch.testing.assert_close(blocks[1](features), features)  # shape kept: the block is the identity


def test_zero_init_leaves_a_given_module_alone():
    data = corner_squares()
    torch.manual_seed(0)
    model = build(decode(RESIDUAL_NET))
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    train(model, data, ProxySettings(steps=1, batch_size=32, augment=False, recalibrate_norms=False, lr=1e-12, momentum=0.0, nesterov=False))
    norm_scales = [name for name in before if name.endswith("weight") and before[name].dim() == 1]
    assert norm_scales and all(torch.count_nonzero(model.state_dict()[name]) > 0 for name in norm_scales)


@pytest.mark.parametrize("kind", ["sgd", "adamw"])
def test_no_weight_decay_lands_on_norms_or_biases(kind):
    model = nn.Sequential(nn.Conv2d(3, 4, 3, bias=True), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2))
    optimizer = make_optimizer(model, OptimizerSettings(lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4, kind=kind))
    assert type(optimizer) is {"sgd": torch.optim.SGD, "adamw": torch.optim.AdamW}[kind]
    decay = {id(p): group["weight_decay"] for group in optimizer.param_groups for p in group["params"]}
    for name, parameter in model.named_parameters():
        expected = 5e-4 if parameter.dim() > 1 else 0.0
        assert decay[id(parameter)] == expected, name
    assert len(decay) == len(list(model.parameters()))


def _decayed_names(model: nn.Module, optimizer: torch.optim.Optimizer) -> set[str]:
    decayed = {id(p) for group in optimizer.param_groups if group["weight_decay"] > 0 for p in group["params"]}
    return {name for name, parameter in model.named_parameters() if id(parameter) in decayed}


@pytest.mark.parametrize("name", ["vit_tiny_patch16_224", "deit_tiny_distilled_patch16_224", "swin_tiny_patch4_window7_224"])
def test_weight_decay_spares_what_timm_spares(name):
    """Position embeddings, class and distillation tokens and relative-position tables are not decayed,
    as timm's own parameter groups (its models' no_weight_decay lists) have it."""
    timm = pytest.importorskip("timm")
    from timm.optim import param_groups_weight_decay

    model = timm.create_model(name, num_classes=10)
    groups = param_groups_weight_decay(model, weight_decay=0.05, no_weight_decay_list=model.no_weight_decay())
    timm_decayed = _decayed_names(model, torch.optim.AdamW(groups))
    ours = make_optimizer(model, OptimizerSettings(lr=1e-3, momentum=0.9, nesterov=False, weight_decay=0.05, kind="adamw"))
    assert _decayed_names(model, ours) == timm_decayed
    assert not any("pos_embed" in n or "token" in n or "relative_position" in n for n in timm_decayed)


def test_weight_decay_spares_layer_scales_and_covers_attention_projections():
    """A (C, 1, 1) layer scale is a gain like a norm's, whatever its shape; nn.MultiheadAttention's
    input projection is a bare parameter but a kernel all the same."""
    from searchspace import zoo

    convnext = build(zoo.get("convnext_tiny"))
    decayed = _decayed_names(convnext, make_optimizer(convnext, OptimizerSettings(0.1, 0.9, True, 5e-4)))
    scales = [n for n, p in convnext.named_parameters() if n.endswith("layer_scale")]
    assert scales and not decayed.intersection(scales)
    assert all(n.endswith("weight") for n in decayed)
    attention = nn.MultiheadAttention(16, 2)
    decayed = _decayed_names(attention, make_optimizer(attention, OptimizerSettings(0.1, 0.9, True, 5e-4)))
    assert decayed == {"in_proj_weight", "out_proj.weight"}


def test_schedule_warms_up_then_decays():
    rates = [learning_rate(step, base_lr=0.1, total_steps=50, warmup_steps=10, schedule="cosine") for step in range(50)]
    assert all(a < b for a, b in zip(rates[:9], rates[1:10]))  # rising through the warm-up
    assert rates[0] == 0.1 / 10 and rates[9] == 0.1
    assert all(a >= b for a, b in zip(rates[10:], rates[11:])) and rates[-1] < 0.01


def test_training_runs_exactly_the_asked_steps_across_epochs():
    data = corner_squares(train_count=100)
    result = train(tiny_net(), data, ProxySettings(steps=7, batch_size=32))  # 3 steps an epoch: 3 + 3 + 1
    assert isinstance(result, ProxyResult)
    assert len(result.step_losses) == 7 and result.epochs_run == 3


def test_tse_is_the_sum_of_the_recorded_step_losses():
    data = corner_squares()
    result = train(tiny_net(), data, ProxySettings(steps=10, batch_size=32))
    assert len(result.step_losses) == 10
    assert result.tse == sum(result.step_losses)
    # The per-epoch mean loss is the mean of the same recorded losses.
    first_epoch = result.step_losses[: len(data) // 32]
    assert abs(result.history[0].train_loss - sum(first_epoch) / len(first_epoch)) < 1e-5


def test_recalibration_gives_the_exact_statistics_of_the_images():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4, momentum=0.01))
    images = torch.randn(64, 3, 5, 5) * 3 + 2
    assert recalibrate_batch_norms(model, images, lambda batch: batch, batch_size=16) == 1
    with torch.no_grad():
        features = model[0](images)
    norm = model[1]
    torch.testing.assert_close(norm.running_mean, features.mean(dim=(0, 2, 3)), rtol=1e-4, atol=1e-5)
    assert norm.momentum == 0.01 and model.training  # settings and mode restored


def test_recalibrated_training_leaves_the_statistics_of_the_final_weights():
    """With momentum 0.001 the running statistics barely move in a short training, so eval mode
    would normalise with stale numbers; after recalibration they are those of the final weights."""
    data = dataclasses.replace(corner_squares(), mean=(0.0,) * 3, std=(0.05,) * 3)  # far from 0/1

    def trained(recalibrate: bool) -> nn.Module:
        net = tiny_net(seed=3)
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.momentum = 0.001
        train(net, data, ProxySettings(epochs=3, batch_size=32, recalibrate_norms=recalibrate, augment=False))
        return net

    def first_norm_error(net: nn.Module) -> float:
        images = (data.train_images.float() / 255 - 0.0) / 0.05
        with torch.no_grad():
            features = net.features[0](images)
        true_mean = features.mean(dim=(0, 2, 3))
        return float((net.features[1].running_mean - true_mean).abs().max() / true_mean.abs().max())

    assert first_norm_error(trained(True)) < 0.01
    assert first_norm_error(trained(False)) > 0.5
