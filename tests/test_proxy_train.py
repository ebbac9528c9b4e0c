"""Behaviour of evaluators.proxy.train on CPU: learning, reproducibility, failures, locking, aux heads."""

from __future__ import annotations

import dataclasses
import math
import sys
import threading
import types

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from evaluators.data.base import ImageDataset
from evaluators.devicelock import hold_device
from evaluators.proxy import FAILURE_REASONS, ProxyResult, ProxySettings, TrainingFailure, train
from evaluators.proxy import augment as augment_module
from evaluators.proxy.step import AUX_LOSS_WEIGHT, classification_loss


def corner_squares(
    train_count: int = 256, val_count: int = 128, *, resolution: int = 12, channels: int = 3, name: str = "corners", seed: int = 0
) -> ImageDataset:
    """Two classes: a bright square in the top-left (0) or bottom-right (1) quadrant, on noise.

    Separable by a small CNN within an epoch or two, and still after a random
    translation of resolution // 8 pixels.
    """
    generator = torch.Generator().manual_seed(seed)

    def split(count: int) -> tuple[torch.Tensor, torch.Tensor]:
        labels = torch.randint(0, 2, (count,), generator=generator)
        images = torch.randint(0, 80, (count, channels, resolution, resolution), generator=generator).to(torch.uint8)
        side = resolution // 3
        for index, label in enumerate(labels.tolist()):
            start = 1 if label == 0 else resolution - 1 - side
            images[index, :, start : start + side, start : start + side] = 230
        return images, labels

    train_images, train_labels = split(train_count)
    val_images, val_labels = split(val_count)
    return ImageDataset(
        name=name,
        train_images=train_images,
        train_labels=train_labels,
        val_images=val_images,
        val_labels=val_labels,
        num_classes=2,
        mean=(0.25,) * channels,
        std=(0.3,) * channels,
        synthetic=True,
    )


class TinyNet(nn.Module):
    """conv-BN-ReLU, strided conv, global pooling, linear head."""

    def __init__(self, in_channels: int = 3, num_classes: int = 2, width: int = 8) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
        )
        self.classifier = nn.Linear(4 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def tiny_net(seed: int = 0, **kwargs: int) -> TinyNet:
    """A TinyNet whose initial weights depend only on ``seed``."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return TinyNet(**kwargs)


QUICK = ProxySettings(epochs=2, batch_size=32)


@pytest.fixture(scope="module")
def data():
    return corner_squares()


def mean_loss(model: nn.Module, dataset, label_smoothing: float = 0.1) -> float:
    """Loss of ``model`` over the training split, normalised as the trainer does."""
    mean = torch.tensor(dataset.mean).view(1, -1, 1, 1)
    std = torch.tensor(dataset.std).view(1, -1, 1, 1)
    images = (dataset.train_images.float() / 255 - mean) / std
    model.eval()
    with torch.no_grad():
        loss = F.cross_entropy(model(images), dataset.train_labels, label_smoothing=label_smoothing)
    model.train()
    return float(loss)


# --- learning -----------------------------------------------------------------


def test_small_cnn_learns_a_separable_task(data):
    model = tiny_net(seed=1)
    loss_at_init = mean_loss(model, data)

    result = train(model, data, ProxySettings(epochs=4, batch_size=32, seed=0))

    assert isinstance(result, ProxyResult), result
    assert result.accuracy >= 0.9  # chance is 0.5
    assert result.train_loss < loss_at_init
    assert result.history[-1].train_loss < result.history[0].train_loss
    assert result.epochs_run == 4 and [record.epoch for record in result.history] == [1, 2, 3, 4]
    assert result.regime == "fp32"
    assert result.peak_memory_mb is None  # documented: no honest CPU figure
    assert result.images_per_second > 0 and result.train_seconds > 0
    assert result.seconds >= result.train_seconds + result.eval_seconds
    assert result.optimizer == "adamw" and result.lr == ProxySettings().adamw_lr  # the default: AdamW's own rate
    assert not result.time_limited


def test_result_round_trips_to_plain_dict(data):
    result = train(tiny_net(), data, ProxySettings(epochs=1, batch_size=32, max_steps_per_epoch=2, eval_each_epoch=True))
    assert isinstance(result, ProxyResult)
    as_dict = result.to_dict()
    assert as_dict["accuracy"] == result.accuracy
    assert as_dict["history"][0]["val_accuracy"] == result.history[0].val_accuracy == result.accuracy
    assert isinstance(as_dict["history"], list) and isinstance(as_dict["history"][0], dict)


def test_validation_loss_and_accuracy_match_sklearn_on_the_trained_model(data):
    """The held-out loss is plain cross-entropy (no label smoothing) of the model as it was evaluated."""
    from sklearn.metrics import accuracy_score, log_loss

    model = tiny_net(seed=2)
    result = train(model, data, ProxySettings(epochs=1, batch_size=32, max_steps_per_epoch=3, seed=0))
    assert isinstance(result, ProxyResult)
    mean = torch.tensor(data.mean).view(1, -1, 1, 1)
    std = torch.tensor(data.std).view(1, -1, 1, 1)
    model.eval()  # trained in place, with the norms recalibrated as the trainer evaluated it
    with torch.no_grad():
        logits = model((data.val_images.float() / 255 - mean) / std).double()
    labels = data.val_labels.numpy()
    assert result.val_loss == pytest.approx(log_loss(labels, logits.softmax(dim=1).numpy(), labels=[0, 1]), rel=1e-4)
    assert result.accuracy == pytest.approx(accuracy_score(labels, logits.argmax(dim=1).numpy()))
    smoothed = float(F.cross_entropy(logits, data.val_labels, label_smoothing=0.1))
    assert result.val_loss != pytest.approx(smoothed, rel=1e-3)  # not the training objective


def test_per_epoch_validation_records_the_loss_that_the_result_reports(data):
    result = train(tiny_net(), data, ProxySettings(epochs=2, batch_size=32, max_steps_per_epoch=2, eval_each_epoch=True))
    assert isinstance(result, ProxyResult)
    assert all(record.val_loss is not None and record.val_loss > 0 for record in result.history)
    assert result.val_loss == result.history[-1].val_loss


def test_steps_per_epoch_cap_and_dropped_partial_batch(data):
    # 256 images at batch 100: two full batches; the 56 left over are dropped.
    full = train(tiny_net(), data, ProxySettings(epochs=1, batch_size=100))
    capped = train(tiny_net(), data, ProxySettings(epochs=1, batch_size=32, max_steps_per_epoch=3))
    assert isinstance(full, ProxyResult) and isinstance(capped, ProxyResult)
    assert full.images_per_second * full.train_seconds == pytest.approx(200)
    assert capped.images_per_second * capped.train_seconds == pytest.approx(96)


def test_batchnorm_never_sees_a_single_image_batch(data):
    # 256 = 3 * 85 + 1: without dropping the last batch, BatchNorm would get
    # a batch of one and raise.
    result = train(tiny_net(), data, ProxySettings(epochs=1, batch_size=85))
    assert isinstance(result, ProxyResult), result


def test_proxy_resolution_resizes_the_data(data):
    seen: list[tuple[int, ...]] = []

    class Recording(TinyNet):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen.append(tuple(x.shape[1:]))
            return super().forward(x)

    result = train(Recording(), data, dataclasses.replace(QUICK, resolution=8))
    assert isinstance(result, ProxyResult) and result.resolution == 8
    assert set(seen) == {(3, 8, 8)}


def test_time_limit_stops_after_the_current_epoch(data):
    result = train(tiny_net(), data, ProxySettings(epochs=3, batch_size=32, max_steps_per_epoch=2, time_limit_s=1e-9))
    assert isinstance(result, ProxyResult)
    assert result.epochs_run == 1 and len(result.history) == 1
    assert result.time_limited


def test_a_training_whose_pace_would_pass_the_time_limit_stops_at_its_first_epochs_end(data, monkeypatch):
    """Each training step takes one second of a fake clock: 4 epochs of 2 steps need 8 s against a 7 s limit."""
    train_module = sys.modules[train.__module__]  # the package exports the function under the module's name
    clock = {"now": 0.0}

    class OneSecondSteps(TinyNet):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            clock["now"] += 1.0 if self.training else 0.0
            return super().forward(x)

    monkeypatch.setattr(train_module, "time", types.SimpleNamespace(perf_counter=lambda: clock["now"]))
    settings = ProxySettings(epochs=4, batch_size=32, max_steps_per_epoch=2, time_limit_s=7.0)
    cut = train(OneSecondSteps(), data, settings)
    assert isinstance(cut, ProxyResult) and cut.time_limited and cut.epochs_run == 1  # 2 s done, 8 s projected
    clock["now"] = 0.0
    whole = train(OneSecondSteps(), data, dataclasses.replace(settings, time_limit_s=8.5))
    assert not whole.time_limited and whole.epochs_run == 4


def test_flips_are_off_by_default_for_one_channel_data(data, monkeypatch):
    flips: list[int] = []

    def counting_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        flips.append(images.shape[0])
        return images

    monkeypatch.setattr(augment_module, "random_flip", counting_flip)
    grey = corner_squares(channels=1, name="greyscale")
    assert isinstance(train(tiny_net(in_channels=1), grey, QUICK), ProxyResult)
    assert flips == []
    assert isinstance(train(tiny_net(), data, QUICK), ProxyResult)
    assert flips  # RGB natural-image data is flipped
    flips.clear()
    assert isinstance(train(tiny_net(), data, dataclasses.replace(QUICK, augment=False)), ProxyResult)
    assert flips == []


# --- reproducibility ------------------------------------------------------------


def comparable(result: ProxyResult) -> tuple:
    """Everything but wall times."""
    return (
        result.accuracy,
        result.train_loss,
        [(r.epoch, r.train_loss, r.train_accuracy, r.lr, r.val_accuracy) for r in result.history],
    )


def test_same_seed_is_bit_identical_and_another_seed_differs(data):
    settings = ProxySettings(epochs=2, batch_size=32, eval_each_epoch=True)
    first = train(tiny_net(seed=5), data, dataclasses.replace(settings, seed=3))
    second = train(tiny_net(seed=5), data, dataclasses.replace(settings, seed=3))
    other = train(tiny_net(seed=5), data, dataclasses.replace(settings, seed=4))
    assert isinstance(first, ProxyResult) and isinstance(second, ProxyResult) and isinstance(other, ProxyResult)
    assert comparable(first) == comparable(second)
    assert first.train_loss != other.train_loss
    assert [r.train_loss for r in first.history] != [r.train_loss for r in other.history]


def test_training_leaves_the_callers_random_state_alone(data):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train(tiny_net(), data, ProxySettings(epochs=1, batch_size=32, max_steps_per_epoch=2))
    assert torch.equal(torch.rand(3), expected)


# --- failures -------------------------------------------------------------------


class NaNAfter(TinyNet):
    """Returns NaN logits from the ``calls``-th training forward on."""

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.calls_left = calls

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = super().forward(x)
        if self.training:
            self.calls_left -= 1
            if self.calls_left < 0:
                return logits * float("nan")
        return logits


class Raising(TinyNet):
    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise self.error


def test_nan_loss_stops_at_once(data):
    result = train(NaNAfter(calls=0), data, QUICK)
    assert result == TrainingFailure("nan_loss", result.message, epochs_run=0)
    assert "nan" in result.message.lower()


def test_nan_loss_in_a_later_epoch_reports_epochs_completed(data):
    steps_per_epoch = 256 // 32
    result = train(NaNAfter(calls=steps_per_epoch + 2), data, ProxySettings(epochs=3, batch_size=32))
    assert isinstance(result, TrainingFailure)
    assert result.reason == "nan_loss" and result.epochs_run == 1


def test_out_of_memory_is_reported_not_raised(data):
    error = torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
    result = train(Raising(error), data, QUICK)
    assert isinstance(result, TrainingFailure) and result.reason == "out_of_memory"
    assert "Tried to allocate" in result.message


def test_classifier_with_wrong_input_size_is_a_shape_error(data):
    model = TinyNet()
    model.classifier = nn.Linear(7, 2)  # the features have 32 values
    result = train(model, data, QUICK)
    assert isinstance(result, TrainingFailure) and result.reason == "shape_error"
    assert "\n" not in result.message and result.message.startswith("RuntimeError")


def test_wrong_number_of_classes_is_a_shape_error(data):
    result = train(TinyNet(num_classes=3), data, QUICK)
    assert isinstance(result, TrainingFailure) and result.reason == "shape_error"
    assert "(32, 2)" in result.message


def test_unexpected_exception_is_an_error_with_its_type(data):
    result = train(Raising(LookupError("no such table\n  second line")), data, QUICK)
    assert result == TrainingFailure("error", "LookupError: no such table second line", epochs_run=0)
    assert result.reason in FAILURE_REASONS


def test_keyboard_interrupt_propagates_and_releases_the_device(data):
    with pytest.raises(KeyboardInterrupt):
        train(Raising(KeyboardInterrupt()), data, QUICK)
    acquired = threading.Event()

    def measure() -> None:
        with hold_device("cpu", exclusive=True):
            acquired.set()

    worker = threading.Thread(target=measure, daemon=True)
    worker.start()
    assert acquired.wait(timeout=30)


def test_spec_is_adapted_to_the_data_then_built(data, monkeypatch):
    built: list[object] = []

    @dataclasses.dataclass(frozen=True)
    class FakeSpec:
        in_channels: int = 1
        num_classes: int = 1000
        resolution: int = 224

        def __post_init__(self) -> None:
            if self.resolution < 10:
                raise ValueError(f"resolution {self.resolution} is too small for this net")

        def digest(self) -> str:
            return f"fake-{self.in_channels}-{self.num_classes}-{self.resolution}"

    def build(spec: FakeSpec) -> nn.Module:
        built.append(spec)
        return TinyNet(in_channels=spec.in_channels, num_classes=spec.num_classes)

    monkeypatch.setitem(sys.modules, "searchspace", types.SimpleNamespace(build=build))

    result = train(FakeSpec(), data, QUICK)
    assert isinstance(result, ProxyResult), result
    assert built == [FakeSpec(in_channels=3, num_classes=2, resolution=12)]

    too_small = train(FakeSpec(), data, dataclasses.replace(QUICK, resolution=8))
    assert isinstance(too_small, TrainingFailure) and too_small.reason == "invalid_spec"
    assert "too small" in too_small.message


def test_spec_weights_come_from_the_seed(data, monkeypatch):
    @dataclasses.dataclass(frozen=True)
    class FakeSpec:
        in_channels: int = 3
        num_classes: int = 2
        resolution: int = 12

        def digest(self) -> str:
            return "fake"

    monkeypatch.setitem(sys.modules, "searchspace", types.SimpleNamespace(build=lambda spec: TinyNet()))
    first = train(FakeSpec(), data, dataclasses.replace(QUICK, seed=7))
    second = train(FakeSpec(), data, dataclasses.replace(QUICK, seed=7))
    assert isinstance(first, ProxyResult) and isinstance(second, ProxyResult)
    assert comparable(first) == comparable(second)


# --- device lock ----------------------------------------------------------------


class SignalsFirstForward(TinyNet):
    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.started.set()
        return super().forward(x)


def test_exclusive_holder_blocks_training_until_released(data):
    holding, release = threading.Event(), threading.Event()

    def measurement() -> None:
        with hold_device("cpu", exclusive=True):
            holding.set()
            release.wait(timeout=60)

    holder = threading.Thread(target=measurement, daemon=True)
    holder.start()
    assert holding.wait(timeout=30)

    model = SignalsFirstForward()
    results: list[object] = []
    trainer = threading.Thread(target=lambda: results.append(train(model, data, QUICK)), daemon=True)
    trainer.start()
    # While the measurement holds the device, training must not start.  (If
    # the lock were broken this could only pass by luck, never fail by it.)
    assert not model.started.wait(timeout=1.0)
    release.set()
    assert model.started.wait(timeout=60)
    trainer.join(timeout=120)
    holder.join(timeout=30)
    assert len(results) == 1 and isinstance(results[0], ProxyResult)


def test_training_holds_the_device_shared(data):
    class ProbesTheLock(TinyNet):
        """On its first forward, starts an exclusive measurement and notes whether it got through."""

        def __init__(self) -> None:
            super().__init__()
            self.measured = threading.Event()
            self.measured_during_training: bool | None = None

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if self.measured_during_training is None:

                def measure() -> None:
                    with hold_device("cpu", exclusive=True):
                        self.measured.set()

                threading.Thread(target=measure, daemon=True).start()
                self.measured_during_training = self.measured.wait(timeout=1.0)
            return super().forward(x)

    model = ProbesTheLock()
    assert isinstance(train(model, data, QUICK), ProxyResult)
    assert model.measured_during_training is False
    assert model.measured.wait(timeout=30)  # and it got the device once training ended


# --- auxiliary heads -------------------------------------------------------------


class WithAuxHeads(TinyNet):
    def __init__(self) -> None:
        super().__init__()
        self.aux_a = nn.Linear(32, 2)
        self.aux_b = nn.Linear(32, 2)
        self.aux_calls = 0
        self.plain_calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.plain_calls += 1
        return super().forward(x)

    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        self.aux_calls += 1
        features = self.features(x)
        return self.classifier(features), [self.aux_a(features), self.aux_b(features)]


def test_aux_heads_are_trained_through_forward_with_aux(data):
    model = WithAuxHeads()
    aux_before = model.aux_a.weight.detach().clone()
    result = train(model, data, ProxySettings(epochs=1, batch_size=32))
    assert isinstance(result, ProxyResult), result
    assert model.aux_calls == 256 // 32  # every training step
    assert model.plain_calls > 0  # validation uses the plain forward
    assert not torch.equal(model.aux_a.weight, aux_before)  # the aux loss reached its head


def test_aux_loss_weight_is_googlenets():
    torch.manual_seed(0)
    labels = torch.tensor([0, 1, 1, 0])
    main, aux_a, aux_b = torch.randn(4, 2), torch.randn(4, 2), torch.randn(4, 2)
    expected = F.cross_entropy(main, labels) + 0.3 * (F.cross_entropy(aux_a, labels) + F.cross_entropy(aux_b, labels))
    assert AUX_LOSS_WEIGHT == 0.3
    assert torch.allclose(classification_loss(main, [aux_a, aux_b], labels, 0.0), expected)
    assert torch.allclose(classification_loss(main, [], labels, 0.0), F.cross_entropy(main, labels))


def test_aux_head_with_wrong_shape_is_a_shape_error(data):
    class BadAux(WithAuxHeads):
        def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
            logits, _ = super().forward_with_aux(x)
            return logits, [logits[:, :1]]

    result = train(BadAux(), data, QUICK)
    assert isinstance(result, TrainingFailure) and result.reason == "shape_error"


def test_reported_numbers_are_finite(data):
    result = train(tiny_net(), data, QUICK)
    assert isinstance(result, ProxyResult)
    assert all(math.isfinite(value) for value in (result.accuracy, result.train_loss, result.seconds))
    assert 0.0 <= result.accuracy <= 1.0


def test_flat_tuple_outputs_in_training_mode_count_as_aux_heads(data):
    class FlatTuple(TinyNet):
        """Like torchvision's GoogLeNet: (logits, aux2, aux1) while training, logits in eval."""

        def __init__(self) -> None:
            super().__init__()
            self.aux = nn.Linear(32, 2)

        def forward(self, x: torch.Tensor):
            features = self.features(x)
            logits = self.classifier(features)
            return (logits, self.aux(features), None) if self.training else logits

    model = FlatTuple()
    aux_before = model.aux.weight.detach().clone()
    result = train(model, data, QUICK)
    assert isinstance(result, ProxyResult), result
    assert not torch.equal(model.aux.weight, aux_before)
