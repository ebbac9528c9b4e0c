"""Argument checking and defaults of evaluators.proxy.train, and the learning-rate schedules."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from evaluators.data.base import ImageDataset
from evaluators.devices import DeviceError
from evaluators.proxy import ProxySettings, TrainingFailure, train
from evaluators.proxy.result import ProxyResult
from evaluators.proxy.train import learning_rate


def data(channels: int = 3, name: str = "tiny", count: int = 64) -> ImageDataset:
    images = torch.zeros(count, channels, 8, 8, dtype=torch.uint8)
    labels = torch.zeros(count, dtype=torch.int64)
    return ImageDataset(name, images, labels, images[:8], labels[:8], 2, (0.5,) * channels, (0.5,) * channels)


DEFAULTS = {
    "epochs": 5,
    "batch_size": 16,
    "lr": None,
    "momentum": 0.9,
    "nesterov": True,
    "weight_decay": 5e-4,
    "schedule": "cosine",
    "warmup_epochs": None,
    "label_smoothing": 0.1,
    "resolution": None,
    "seed": 0,
    "regime": "auto",
    "augment": True,
    "flip": None,
    "time_limit_s": None,
    "max_steps_per_epoch": None,
    "eval_each_epoch": False,
}


def settings(dataset: ImageDataset | None = None, **changes):
    return ProxySettings(**{**DEFAULTS, **changes}).for_dataset(dataset or data())


def test_defaults_are_resolved():
    resolved = settings()
    assert resolved.lr == pytest.approx(0.1 * 16 / 128)
    assert resolved.warmup_epochs == 1.0  # min(1, 5 / 5)
    assert settings(epochs=2).warmup_epochs == pytest.approx(0.4)
    assert resolved.resolution == 8  # the dataset's
    assert resolved.flip is True
    assert settings(data(channels=1)).flip is False
    assert settings(data(channels=1), flip=True).flip is True  # an explicit choice wins


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("epochs", 0, "integer >= 1"),
        ("epochs", 2.5, "integer >= 1"),
        ("batch_size", 65, "at most the 64 training images"),
        ("batch_size", True, "integer >= 1"),
        ("lr", 0.0, "number in (0.0"),
        ("lr", float("nan"), "finite number"),
        ("momentum", 1.0, "[0.0, 1.0)"),
        ("weight_decay", -1e-4, "[0.0"),
        ("schedule", "linear", "'cosine', 'constant', 'step'"),
        ("warmup_epochs", 6.0, "[0.0, 5.0]"),
        ("label_smoothing", 1.0, "[0.0, 1.0)"),
        ("resolution", 0, "integer >= 1"),
        ("seed", -1, "integer >= 0"),
        ("regime", "fp16", "'auto', 'fp32', 'bf16_cl', 'compiled'"),
        ("augment", "yes", "True or False"),
        ("flip", 1, "True or False"),
        ("time_limit_s", 0, "(0.0"),
        ("max_steps_per_epoch", 0, "integer >= 1"),
    ],
)
def test_invalid_arguments_name_field_value_and_what_is_allowed(field, value, allowed):
    with pytest.raises(ValueError) as raised:
        settings(**{field: value})
    message = str(raised.value)
    assert message.startswith(f"{field}={value!r}")
    assert allowed in message


def test_nesterov_needs_momentum():
    with pytest.raises(ValueError, match="nesterov=True"):
        settings(momentum=0.0)
    assert settings(momentum=0.0, nesterov=False).momentum == 0.0


def test_train_rejects_bad_arguments_before_doing_anything():
    with pytest.raises(TypeError, match="nn.Module or a NetSpec"):
        train("resnet18", data())
    with pytest.raises(TypeError, match="ImageDataset"):
        train(nn.Linear(2, 2), [1, 2, 3])
    with pytest.raises(ValueError, match="epochs=0"):
        train(nn.Linear(2, 2), data(), ProxySettings(epochs=0))
    with pytest.raises(DeviceError):
        train(nn.Linear(2, 2), data(), ProxySettings(batch_size=16), device="tpu")


def test_a_candidate_without_parameters_is_a_failure_not_a_crash():
    result = train(nn.Flatten(), data(), ProxySettings(epochs=1, batch_size=16))
    assert isinstance(result, TrainingFailure) and result.reason == "error"
    assert result.message.startswith("ValueError")


def test_failure_reasons_are_checked():
    with pytest.raises(ValueError, match="reason='oops'"):
        TrainingFailure("oops", "message")  # type: ignore[arg-type]
    assert TrainingFailure("error", "m").to_dict() == {"reason": "error", "message": "m", "epochs_run": 0}
    assert not TrainingFailure("error", "m").ok and ProxyResult(0, 0, 0, 0, 0, None, "fp32", 0, ()).ok


# --- schedules -----------------------------------------------------------------------


def rates(schedule: str, total: int = 100, warmup: int = 10) -> list[float]:
    return [learning_rate(step, base_lr=1.0, total_steps=total, warmup_steps=warmup, schedule=schedule) for step in range(total)]


def test_warmup_rises_linearly_to_the_base_rate():
    warm = rates("constant")[:11]
    assert warm[:10] == pytest.approx([(step + 1) / 10 for step in range(10)])
    assert warm[10] == 1.0


def test_cosine_decays_from_base_towards_zero():
    cosine = rates("cosine")[10:]
    assert cosine[0] == 1.0
    assert all(later < earlier for earlier, later in zip(cosine, cosine[1:]))
    assert 0 < cosine[-1] < 0.001
    assert cosine[45] == pytest.approx(0.5)  # half way through the decay


def test_step_schedule_drops_tenfold_at_half_and_three_quarters():
    stepped = rates("step", total=110, warmup=10)[10:]
    assert stepped[:50] == [1.0] * 50
    assert stepped[50:75] == pytest.approx([0.1] * 25)
    assert stepped[75:] == pytest.approx([0.01] * 25)


def test_constant_schedule_and_no_warmup():
    assert rates("constant", warmup=0) == [1.0] * 100
    assert math.isclose(rates("cosine", warmup=0)[0], 1.0)
    with pytest.raises(ValueError, match="schedule='linear'"):
        learning_rate(0, base_lr=1.0, total_steps=10, warmup_steps=0, schedule="linear")


def test_settings_are_checked_when_made_not_when_trained():
    with pytest.raises(ValueError, match=r"^epochs=0 is invalid \(allowed: an integer >= 1\)"):
        ProxySettings(epochs=0)
    with pytest.raises(ValueError, match=r"^warmup_epochs=3.0 is invalid"):
        ProxySettings(epochs=2, warmup_epochs=3.0)
    with pytest.raises(TypeError):
        ProxySettings(5)  # type: ignore[misc]  # keywords only: a bare number says nothing
    with pytest.raises(TypeError, match="settings must be a ProxySettings, got dict"):
        train(nn.Linear(2, 2), data(), {"epochs": 1})  # type: ignore[arg-type]


def test_for_dataset_fills_only_the_data_dependent_defaults():
    given = ProxySettings(epochs=3, batch_size=16, lr=0.05, resolution=4, flip=False, warmup_epochs=0.5)
    assert given.for_dataset(data()) == given  # nothing left to fill
    stepped = ProxySettings(steps=10, batch_size=16).for_dataset(data())  # 4 steps an epoch on 64 images
    assert (stepped.epochs, stepped.warmup_epochs) == (3, pytest.approx(0.2 * 10 / 4))
    assert stepped.steps == 10 and stepped.total_steps(4) == 10
