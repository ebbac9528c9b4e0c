"""Each zero-cost proxy against an independent computation of its definition.

The references here do not go through the package's helpers: closed forms in
numpy for synflow, a numpy NASWOT kernel built from codes the test extracts
itself, and hand-written autograd for grad_norm and snip.  Scoring batches
cover the whole training split (batch_size = len(dataset)), so a reference
can use the images in their stored order: every score compared here is
invariant under reordering the batch.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from evaluators.data.base import ImageDataset
from evaluators.zero_cost import score
from tests.dataset_support import random_image_dataset


def make_dataset(
    *, images: int = 24, channels: int = 2, side: int = 4, classes: int = 3, seed: int = 0
) -> ImageDataset:
    return random_image_dataset(
        images=images, channels=channels, side=side, classes=classes, seed=seed,
        mean=[0.4 + 0.1 * c for c in range(channels)], std=[0.2 + 0.05 * c for c in range(channels)],
    )


def reference_inputs(dataset: ImageDataset) -> torch.Tensor:
    """All training images, normalised, in float64 and stored order."""
    mean = torch.tensor(dataset.mean, dtype=torch.float64).view(1, -1, 1, 1)
    std = torch.tensor(dataset.std, dtype=torch.float64).view(1, -1, 1, 1)
    return (dataset.train_images.to(torch.float64) / 255.0 - mean) / std


def numpy_weight(layer: nn.Module) -> np.ndarray:
    return layer.weight.detach().to(torch.float64).numpy().copy()


# --- synflow -----------------------------------------------------------------


def test_synflow_of_a_bias_free_linear_net_matches_its_closed_form() -> None:
    torch.manual_seed(1)
    dataset = make_dataset()
    inputs = dataset.in_channels * dataset.resolution**2
    net = nn.Sequential(nn.Flatten(), nn.Linear(inputs, 5, bias=False), nn.Linear(5, 3, bias=False))
    first, second = np.abs(numpy_weight(net[1])), np.abs(numpy_weight(net[2]))

    # R = 1^T |W2| |W1| 1, so dR/d|W1|_ij = (1^T |W2|)_i and dR/d|W2|_ki = (|W1| 1)_i.
    flow_into_first = np.ones(3) @ second
    flow_out_of_first = first @ np.ones(inputs)
    expected = np.sum(first * flow_into_first[:, None]) + np.sum(second * flow_out_of_first[None, :])

    assert score(net, "synflow", dataset) == pytest.approx(expected, rel=1e-12)


def test_synflow_takes_absolute_biases_into_the_flow_but_does_not_score_them() -> None:
    torch.manual_seed(2)
    dataset = make_dataset()
    inputs = dataset.in_channels * dataset.resolution**2
    net = nn.Sequential(nn.Flatten(), nn.Linear(inputs, 6), nn.ReLU(), nn.Linear(6, 3))
    first, second = np.abs(numpy_weight(net[1])), np.abs(numpy_weight(net[3]))
    first_bias = np.abs(net[1].bias.detach().double().numpy())

    # With positive weights, biases and input the ReLU is the identity:
    # R = 1^T |W2| (|W1| 1 + |b1|) + 1^T |b2|.
    hidden = first @ np.ones(inputs) + first_bias
    expected = np.sum(first * (np.ones(3) @ second)[:, None]) + np.sum(second * hidden[None, :])

    assert score(net, "synflow", dataset) == pytest.approx(expected, rel=1e-12)


def test_synflow_skips_batch_norm_whatever_its_statistics() -> None:
    torch.manual_seed(3)
    dataset = make_dataset()
    with_norm = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 16, 3)
    )
    with torch.no_grad():  # statistics and affine terms far from the identity
        with_norm[1].running_mean.uniform_(-3.0, 3.0)
        with_norm[1].running_var.uniform_(0.1, 5.0)
        with_norm[1].weight.uniform_(-2.0, 2.0)
        with_norm[1].bias.uniform_(-2.0, 2.0)
    without_norm = nn.Sequential(with_norm[0], nn.ReLU(), nn.Flatten(), with_norm[4])

    assert score(with_norm, "synflow", dataset) == pytest.approx(score(without_norm, "synflow", dataset), rel=1e-12)


def test_synflow_skips_normalisation_that_could_not_run_on_a_single_input() -> None:
    # Batch statistics of one 1-d feature vector do not exist; a skipped layer is never evaluated.
    torch.manual_seed(11)
    dataset = make_dataset()
    head = nn.Linear(32, 3)
    with_norm = nn.Sequential(nn.Flatten(), head, nn.BatchNorm1d(3, track_running_stats=False), nn.LayerNorm(3))
    without_norm = nn.Sequential(nn.Flatten(), head)

    assert score(with_norm, "synflow", dataset) == pytest.approx(score(without_norm, "synflow", dataset), rel=1e-12)


def test_synflow_ignores_pixel_values() -> None:
    torch.manual_seed(4)
    net = nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16, 3))
    first, second = make_dataset(seed=0), make_dataset(seed=1)
    assert not torch.equal(first.train_images, second.train_images)
    assert score(net, "synflow", first) == score(net, "synflow", second)


def test_synflow_overflow_is_reported_as_positive_infinity() -> None:
    dataset = make_dataset()
    net = nn.Sequential(nn.Flatten(), nn.Linear(32, 4, bias=False), nn.Linear(4, 3, bias=False)).double()
    with torch.no_grad():
        net[1].weight.fill_(1e200)
        net[2].weight.fill_(-1e200)
    with pytest.warns(RuntimeWarning, match="overflow"):
        assert score(net, "synflow", dataset) == math.inf


def test_synflow_refuses_weights_that_are_already_not_finite() -> None:
    dataset = make_dataset()
    net = nn.Sequential(nn.Flatten(), nn.Linear(32, 3))
    with torch.no_grad():
        net[1].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN or inf"):
        score(net, "synflow", dataset)


# --- NASWOT ------------------------------------------------------------------


def numpy_naswot(codes: np.ndarray) -> float:
    """log|det K_H| with K_H[i, j] = N_A - Hamming(c_i, c_j), written out pairwise."""
    batch, units = codes.shape
    kernel = np.empty((batch, batch))
    for i in range(batch):
        for j in range(batch):
            kernel[i, j] = units - np.count_nonzero(codes[i] != codes[j])
    sign, log_abs_det = np.linalg.slogdet(kernel)
    return log_abs_det if sign > 0 else -math.inf


def test_naswot_of_a_relu_mlp_matches_numpy() -> None:
    torch.manual_seed(5)
    dataset = make_dataset(images=12)  # K_H has rank <= N_A + 1, so N_A = 24 units can separate 12 inputs
    net = nn.Sequential(
        nn.Flatten(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3)
    ).double()
    x = reference_inputs(dataset).reshape(len(dataset), -1).numpy()
    w1, b1 = numpy_weight(net[1]), net[1].bias.detach().numpy()
    w2, b2 = numpy_weight(net[3]), net[3].bias.detach().numpy()
    hidden1 = x @ w1.T + b1
    hidden2 = np.maximum(hidden1, 0.0) @ w2.T + b2
    codes = np.concatenate([hidden1 > 0, hidden2 > 0], axis=1)

    expected = numpy_naswot(codes)
    assert math.isfinite(expected)
    assert score(net, "naswot", dataset, batch_size=len(dataset)) == pytest.approx(expected, rel=1e-9)


class SharedReluCnn(nn.Module):
    """One in-place ReLU instance used twice, then a SiLU: all must be coded."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(2, 3, 3, padding=1)
        self.conv2 = nn.Conv2d(3, 3, 3, padding=1)
        self.conv3 = nn.Conv2d(3, 2, 3)
        self.relu = nn.ReLU(inplace=True)
        self.silu = nn.SiLU()
        self.head = nn.Linear(2 * 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.silu(self.conv3(x))
        return self.head(x.flatten(1))


def test_naswot_of_a_cnn_codes_every_activation_call_by_the_sign_of_its_input() -> None:
    torch.manual_seed(6)
    dataset = make_dataset()
    net = SharedReluCnn().double()
    with torch.no_grad():
        x = reference_inputs(dataset)
        pre1 = net.conv1(x)
        pre2 = net.conv2(torch.relu(pre1))
        pre3 = net.conv3(torch.relu(pre2))
    codes = torch.cat([(pre > 0).flatten(1) for pre in (pre1, pre2, pre3)], dim=1).numpy()

    expected = numpy_naswot(codes)
    assert math.isfinite(expected)
    assert score(net, "naswot", dataset, batch_size=len(dataset)) == pytest.approx(expected, rel=1e-9)


def test_naswot_is_minus_infinity_when_activations_ignore_the_input() -> None:
    torch.manual_seed(7)
    dataset = make_dataset()
    net = nn.Sequential(nn.Flatten(), nn.Linear(32, 8), nn.ReLU(), nn.Linear(8, 3))
    with torch.no_grad():
        net[1].weight.zero_()  # every input gets the bias only: one code for all
    assert score(net, "naswot", dataset, batch_size=8) == -math.inf


def test_naswot_is_minus_infinity_for_a_batch_with_duplicate_images() -> None:
    torch.manual_seed(8)
    base = make_dataset(images=4)
    doubled = ImageDataset(
        name="doubled",
        train_images=base.train_images.repeat(2, 1, 1, 1),
        train_labels=base.train_labels.repeat(2),
        val_images=base.val_images,
        val_labels=base.val_labels,
        num_classes=base.num_classes,
        mean=base.mean,
        std=base.std,
    )
    net = nn.Sequential(nn.Flatten(), nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 3))
    assert math.isfinite(score(net, "naswot", base, batch_size=4))
    assert score(net, "naswot", doubled, batch_size=8) == -math.inf


def test_naswot_is_minus_infinity_with_a_warning_when_no_activation_module_runs() -> None:
    dataset = make_dataset()

    class FunctionalRelu(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.hidden, self.head = nn.Linear(32, 16), nn.Linear(16, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(F.relu(self.hidden(x.flatten(1))))

    for net in (nn.Sequential(nn.Flatten(), nn.Linear(32, 3), nn.Identity()), FunctionalRelu()):
        with pytest.warns(RuntimeWarning, match="no activation module"):
            assert score(net, "naswot", dataset, batch_size=8) == -math.inf


# --- grad_norm and snip ------------------------------------------------------


def test_grad_norm_and_snip_match_hand_written_autograd() -> None:
    torch.manual_seed(9)
    dataset = make_dataset()
    net = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(64, 3)
    ).double()
    reference = copy.deepcopy(net).train()  # batch statistics, as the proxies use

    logits = reference(reference_inputs(dataset))
    loss = F.cross_entropy(logits, dataset.train_labels)
    weights = [reference[0].weight, reference[4].weight]
    gradients = torch.autograd.grad(loss, weights)
    expected_grad_norm = sum(float(torch.linalg.vector_norm(g)) for g in gradients)
    expected_snip = sum(float((w.detach() * g).abs().sum()) for w, g in zip(weights, gradients))

    assert score(net, "grad_norm", dataset, batch_size=len(dataset)) == pytest.approx(expected_grad_norm, rel=1e-10)
    assert score(net, "snip", dataset, batch_size=len(dataset)) == pytest.approx(expected_snip, rel=1e-10)


def test_gradient_proxies_count_a_frozen_layer_and_an_unused_one_adds_nothing() -> None:
    torch.manual_seed(10)
    dataset = make_dataset()
    net = nn.Sequential(nn.Flatten(), nn.Linear(32, 5), nn.ReLU(), nn.Linear(5, 3))
    frozen = copy.deepcopy(net)
    frozen[1].weight.requires_grad_(False)
    with_spare = nn.ModuleDict({"used": net, "spare": nn.Linear(7, 7)})

    class UsesOnlyOne(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.parts = with_spare

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.parts["used"](x)

    for method in ("grad_norm", "snip"):
        plain = score(net, method, dataset, batch_size=16)
        assert plain > 0
        assert score(frozen, method, dataset, batch_size=16) == plain
        assert score(UsesOnlyOne(), method, dataset, batch_size=16) == plain


# --- size baselines ----------------------------------------------------------


def small_cnn(channels: int, classes: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(channels, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=4, bias=False),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, classes),
    )


def test_params_is_the_number_of_parameters() -> None:
    dataset = make_dataset()
    conv1 = 8 * 2 * 9 + 8
    norm = 8 + 8
    grouped = 8 * (8 // 4) * 9
    head = 8 * 3 + 3
    net = small_cnn(2, 3)
    assert score(net, "params", dataset) == conv1 + norm + grouped + head
    assert score(net, "params") == sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize("resolution", [None, 8])
def test_macs_are_half_the_counted_flops_and_match_the_layer_formula(resolution: int | None) -> None:
    dataset = make_dataset()
    side = resolution or dataset.resolution
    net = small_cnn(2, 3)
    # MACs of a convolution: output positions x output channels x (input channels / groups) x k x k.
    conv1 = side * side * 8 * 2 * 9
    grouped = (side // 2) ** 2 * 8 * (8 // 4) * 9
    head = 8 * 3
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        net.eval()(torch.zeros(1, 2, side, side))

    macs = score(net, "macs", dataset, resolution=resolution)
    assert macs == conv1 + grouped + head
    assert macs == counter.get_total_flops() / 2
