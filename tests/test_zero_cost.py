"""The zero-cost scoring interface: arguments, errors, determinism, side effects, specs.

Spec scoring is exercised with a stand-in ``searchspace`` (and
``evaluators.cost``) installed for the test, so these tests pin down how a
spec is adapted, built and fed without depending on the real search space.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import types

import pytest
import torch
from torch import nn

from evaluators.data.base import ImageDataset
from evaluators.devices import DeviceError
from evaluators.zero_cost import methods, score
from tests.dataset_support import random_image_dataset

DATA_METHODS = ("naswot", "grad_norm", "snip")
ALL_METHODS = ("synflow", "naswot", "grad_norm", "snip", "params", "macs")


def make_dataset(
    *, images: int = 40, channels: int = 3, side: int = 8, classes: int = 4, seed: int = 0
) -> ImageDataset:
    return random_image_dataset(images=images, channels=channels, side=side, classes=classes, seed=seed)


def small_cnn(width: int = 8, classes: int = 4, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1),
        nn.BatchNorm2d(width),
        nn.ReLU(inplace=True),
        nn.Dropout(0.5),
        nn.Conv2d(width, width, 3, padding=1),
        nn.Hardswish(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(width, classes),
    )


# --- arguments and errors ----------------------------------------------------


def test_methods_lists_every_proxy_and_baseline() -> None:
    assert sorted(methods()) == sorted(ALL_METHODS)


def test_every_listed_method_gives_a_finite_score() -> None:
    dataset = make_dataset()
    for method in methods():
        assert math.isfinite(score(small_cnn(), method, dataset, batch_size=16)), method


def test_unknown_method_names_the_value_and_the_allowed_ones() -> None:
    with pytest.raises(ValueError) as error:
        score(small_cnn(), "jacov", make_dataset())
    message = str(error.value)
    assert "'jacov'" in message
    assert all(name in message for name in ALL_METHODS)


@pytest.mark.parametrize("method", DATA_METHODS)
def test_data_driven_methods_need_a_dataset(method: str) -> None:
    with pytest.raises(ValueError, match="needs a dataset"):
        score(small_cnn(), method)


def test_a_module_without_a_dataset_has_params_but_no_input_shape() -> None:
    net = small_cnn()
    assert score(net, "params") == sum(p.numel() for p in net.parameters())
    for method in ("synflow", "macs"):
        with pytest.raises(ValueError, match="input shape"):
            score(net, method)


@pytest.mark.parametrize(
    ("argument", "value"),
    [("batch_size", 0), ("batch_size", True), ("batch_size", 2.0), ("seed", -1), ("resolution", 0)],
)
def test_bad_numbers_are_rejected(argument: str, value: object) -> None:
    with pytest.raises(ValueError, match=argument):
        score(small_cnn(), "naswot", make_dataset(), **{argument: value})


def test_a_batch_larger_than_the_training_split_is_rejected() -> None:
    with pytest.raises(ValueError, match="larger than the training split"):
        score(small_cnn(), "naswot", make_dataset(images=10), batch_size=11)


def test_an_unusable_device_is_rejected() -> None:
    with pytest.raises(DeviceError):
        score(small_cnn(), "synflow", make_dataset(), device="tpu:0")


def test_something_that_is_neither_spec_nor_module_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="nn.Module"):
        score("resnet18", "params")


def test_labels_beyond_the_network_outputs_are_reported() -> None:
    with pytest.raises(ValueError, match="outputs only 2 classes"):
        score(small_cnn(classes=2), "grad_norm", make_dataset(classes=4), batch_size=32)


# --- determinism and sensitivity ---------------------------------------------


@pytest.mark.parametrize("method", ALL_METHODS)
def test_same_arguments_give_the_same_score(method: str) -> None:
    dataset, net = make_dataset(), small_cnn()  # it has dropout, which must not draw random numbers
    first = score(net, method, dataset, batch_size=16, seed=3)
    torch.rand(1000)  # move the global random state on
    assert score(net, method, dataset, batch_size=16, seed=3) == first


@pytest.mark.parametrize("method", DATA_METHODS)
def test_the_seed_picks_a_different_batch(method: str) -> None:
    dataset = make_dataset()
    net = small_cnn()
    assert score(net, method, dataset, batch_size=8, seed=0) != score(net, method, dataset, batch_size=8, seed=1)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_scores_tell_different_networks_apart(method: str) -> None:
    dataset = make_dataset()
    narrow, wide = small_cnn(width=4, seed=1), small_cnn(width=12, seed=2)
    assert score(narrow, method, dataset, batch_size=16) != score(wide, method, dataset, batch_size=16)


def test_scoring_does_not_touch_the_global_random_state() -> None:
    net, dataset = small_cnn(), make_dataset()
    before = torch.get_rng_state()
    for method in ALL_METHODS:
        score(net, method, dataset, batch_size=16)
    assert torch.equal(torch.get_rng_state(), before)


def test_reproducible_kernel_settings_hold_only_during_the_call() -> None:
    seen: list[tuple[bool, bool, bool, str]] = []

    class Probe(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = nn.Linear(192, 4)
            self.act = nn.ReLU()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            flags = torch.backends.cudnn
            seen.append((flags.deterministic, flags.benchmark, flags.allow_tf32, torch.get_float32_matmul_precision()))
            return self.act(self.head(x.flatten(1)))

    outside = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("medium")
    try:
        with torch.backends.cudnn.flags(enabled=True, benchmark=True, deterministic=False, allow_tf32=True):
            score(Probe(), "grad_norm", make_dataset(), batch_size=8)
            assert torch.backends.cudnn.benchmark and not torch.backends.cudnn.deterministic
            assert torch.get_float32_matmul_precision() == "medium"
    finally:
        torch.set_float32_matmul_precision(outside)
    assert seen == [(True, False, False, "highest")]


def test_a_nan_score_ranks_last_with_a_warning() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = nn.Linear(192, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(x.flatten(1)) * float("nan")

    with pytest.warns(RuntimeWarning, match="NaN"):
        assert score(Broken(), "grad_norm", make_dataset(), batch_size=8) == -math.inf


# --- the caller's module is left alone ---------------------------------------


def module_state(module: nn.Module) -> dict[str, object]:
    return {
        "tensors": {name: value.clone() for name, value in module.state_dict().items()},
        "dtypes": [p.dtype for p in module.parameters()],
        "requires_grad": [p.requires_grad for p in module.parameters()],
        "grads": [None if p.grad is None else p.grad.clone() for p in module.parameters()],
        "training": [m.training for m in module.modules()],
        "hooks": [(len(m._forward_hooks), len(m._forward_pre_hooks)) for m in module.modules()],
    }


def assert_same_state(before: dict[str, object], after: dict[str, object]) -> None:
    assert before.keys() == after.keys()
    for name, value in before["tensors"].items():
        assert torch.equal(value, after["tensors"][name]), name
    for key in ("dtypes", "requires_grad", "training", "hooks"):
        assert before[key] == after[key], key
    for old, new in zip(before["grads"], after["grads"]):
        assert (old is None and new is None) or torch.equal(old, new)


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("training", [True, False])
def test_the_callers_module_is_unchanged(method: str, training: bool) -> None:
    net = small_cnn()
    net.train(training)
    with torch.no_grad():
        net[1].running_mean.uniform_(-1.0, 1.0)  # stats a forward pass in training mode would move
    net[4].weight.requires_grad_(False)
    net[8].weight.grad = torch.full_like(net[8].weight, 0.5)
    parameters_before = [id(p) for p in net.parameters()]
    before = module_state(net)

    score(net, method, make_dataset(), batch_size=16)

    assert [id(p) for p in net.parameters()] == parameters_before
    assert_same_state(before, module_state(net))


# --- specs (with a stand-in search space) ------------------------------------


@dataclasses.dataclass(frozen=True)
class StandInSpec:
    width: int
    in_channels: int = 3
    num_classes: int = 10
    resolution: int = 12

    @property
    def digest(self) -> str:
        return f"w{self.width}-c{self.in_channels}-k{self.num_classes}-r{self.resolution}"


class InputRecorder(nn.Module):
    """Identity that remembers the shapes it saw, to check what a spec's network is fed."""

    def __init__(self, log: list[tuple[int, ...]]) -> None:
        super().__init__()
        self.log = log

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.log.append(tuple(x.shape))
        return x


@pytest.fixture
def stand_in_search_space(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    log: dict[str, list] = {"built": [], "inputs": [], "costed": []}

    def build(spec: StandInSpec) -> nn.Module:
        log["built"].append(spec)
        return nn.Sequential(
            InputRecorder(log["inputs"]),
            nn.Conv2d(spec.in_channels, spec.width, 3, padding=1),
            nn.BatchNorm2d(spec.width),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(spec.width, spec.num_classes),
        )

    def cost(spec: StandInSpec) -> types.SimpleNamespace:
        log["costed"].append(spec)
        conv = spec.width * spec.in_channels * 9
        return types.SimpleNamespace(
            params=conv + spec.width + 2 * spec.width + spec.width * spec.num_classes + spec.num_classes,
            macs=conv * spec.resolution**2 + spec.width * spec.num_classes,
        )

    searchspace = types.ModuleType("searchspace")
    searchspace.build = build
    searchspace.NetSpec = StandInSpec
    cost_module = types.ModuleType("evaluators.cost")
    cost_module.cost = cost
    monkeypatch.setitem(sys.modules, "searchspace", searchspace)
    monkeypatch.setitem(sys.modules, "evaluators.cost", cost_module)
    return log


def test_a_spec_is_adapted_to_the_dataset_and_fed_at_its_own_resolution(stand_in_search_space: dict) -> None:
    dataset = make_dataset(channels=3, side=8, classes=4)
    spec = StandInSpec(width=6, in_channels=1, num_classes=10, resolution=12)

    score(spec, "naswot", dataset, batch_size=16)

    assert stand_in_search_space["built"] == [dataclasses.replace(spec, in_channels=3, num_classes=4)]
    assert stand_in_search_space["inputs"] == [(16, 3, 12, 12)]


def test_an_explicit_resolution_overrides_the_specs(stand_in_search_space: dict) -> None:
    spec = StandInSpec(width=6)
    score(spec, "grad_norm", make_dataset(), batch_size=16, resolution=5)
    assert stand_in_search_space["built"][0].resolution == 5
    assert stand_in_search_space["inputs"] == [(16, 3, 5, 5)]


def test_synflow_of_a_spec_needs_no_dataset(stand_in_search_space: dict) -> None:
    spec = StandInSpec(width=6, in_channels=2, resolution=7)
    assert math.isfinite(score(spec, "synflow"))
    assert stand_in_search_space["built"] == [spec]
    assert stand_in_search_space["inputs"] == [(1, 2, 7, 7)]


def test_the_seed_sets_a_specs_initial_weights(stand_in_search_space: dict) -> None:
    spec = StandInSpec(width=6)
    torch.manual_seed(0)
    first = score(spec, "synflow", seed=1)
    torch.manual_seed(99)
    assert score(spec, "synflow", seed=1) == first
    assert score(spec, "synflow", seed=2) != first


def test_spec_size_baselines_are_the_analytic_cost_of_the_adapted_spec(stand_in_search_space: dict) -> None:
    dataset = make_dataset(channels=3, classes=4)
    spec = StandInSpec(width=6, in_channels=1, num_classes=10, resolution=12)
    adapted = dataclasses.replace(spec, in_channels=3, num_classes=4, resolution=9)

    assert score(spec, "params", dataset, resolution=9) == 6 * 3 * 9 + 6 + 12 + 6 * 4 + 4
    assert score(spec, "macs", dataset, resolution=9) == 6 * 3 * 9 * 81 + 6 * 4
    assert stand_in_search_space["costed"] == [adapted, adapted]
    assert stand_in_search_space["built"] == []  # analytic: nothing is built
    assert score(spec, "params") == 6 * 1 * 9 + 6 + 12 + 6 * 10 + 10  # no dataset: the spec as it is
