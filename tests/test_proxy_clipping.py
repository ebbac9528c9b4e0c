"""Gradient clipping in the proxy: none for a net with batch norm, norm 1 for a net without (the default since
2026-12-06.2), or one explicit limit for every net (``max_grad_norm``).

Swin-T, which has no batch norm, reached 0.87 on digits on one of five seeds of the default job's two threads
unclipped; its gradient norm spikes to 3.5x the median of its 16-step window in the short AdamW run (docs/proxy.md).
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

from evaluators.proxy import ProxySettings, train
from tests.test_proxy_optimizer import norm_free_net
from tests.test_proxy_train import corner_squares, tiny_net

SHORT = ProxySettings(steps=4, batch_size=32, augment=False)


def gradient_norms_at_each_step(net: torch.nn.Module, settings: ProxySettings) -> list[float]:
    """The global L2 norm of the gradients every optimizer step of ``train`` is given."""
    norms: list[float] = []

    def record(optimizer, args, kwargs):
        grads = [p.grad.flatten() for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        norms.append(float(torch.linalg.vector_norm(torch.cat(grads))))

    handle = register_optimizer_step_pre_hook(record)
    try:
        train(net, corner_squares(), settings)
    finally:
        handle.remove()
    return norms


def steep_norm_free_net() -> torch.nn.Module:
    """norm_free_net with its head's weights 100x: gradients far over norm 1, as a transformer's spikes are."""
    net = norm_free_net()
    with torch.no_grad():
        net[-1].weight.mul_(100.0)
    return net


def test_the_default_clips_a_net_without_batch_norm_to_norm_one():
    assert SHORT.max_grad_norm is None and SHORT.max_grad_norm_without_batch_norm == 1.0
    unclipped = gradient_norms_at_each_step(steep_norm_free_net(), dataclasses.replace(SHORT, max_grad_norm_without_batch_norm=None))
    assert min(unclipped) > 2.0
    clipped = gradient_norms_at_each_step(steep_norm_free_net(), SHORT)
    assert len(clipped) == 4 and all(norm == pytest.approx(1.0, rel=1e-4) for norm in clipped)


def test_only_the_net_without_batch_norm_is_clipped():
    """A limit far under any real gradient's norm: the net without batch norm steps at that norm exactly, the net
    with batch norm at its own larger one."""
    settings = dataclasses.replace(SHORT, max_grad_norm_without_batch_norm=1e-3)
    assert all(norm == pytest.approx(1e-3, rel=1e-4) for norm in gradient_norms_at_each_step(norm_free_net(), settings))
    assert min(gradient_norms_at_each_step(tiny_net(), settings)) > 1e-2


def test_an_explicit_limit_clips_every_net_and_overrides_the_one_for_nets_without_batch_norm():
    settings = dataclasses.replace(SHORT, max_grad_norm=1e-2, max_grad_norm_without_batch_norm=1e-3)
    for net in (tiny_net(), norm_free_net()):
        assert all(norm == pytest.approx(1e-2, rel=1e-4) for norm in gradient_norms_at_each_step(net, settings))


def test_no_limit_leaves_a_net_without_batch_norm_unclipped():
    settings = dataclasses.replace(SHORT, max_grad_norm_without_batch_norm=None)
    assert settings.grad_norm_limit_for(has_batch_norm=False) is None
    assert min(gradient_norms_at_each_step(norm_free_net(), settings)) > 1e-2


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan"), "1"])
def test_an_invalid_limit_is_refused_naming_the_setting(value):
    with pytest.raises(ValueError, match="max_grad_norm_without_batch_norm"):
        ProxySettings(max_grad_norm_without_batch_norm=value)
