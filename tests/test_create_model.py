"""create_model against timm and torchvision: names, pretrained weights, feature maps."""

from __future__ import annotations

import logging
import warnings

import pytest
import torch

from searchspace import SpecError, build, create_model, encode, feature_info, zoo
from tests.zoo_reference import (
    assert_logits_close,
    assert_outputs_equal_reference,
    random_images,
    randomize_,
    reference_model,
)

RESOLUTION = 64


def timm_model(name: str, **kwargs) -> torch.nn.Module:
    import timm

    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        return timm.create_model(name, pretrained=False, **kwargs).eval()


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ---- names -------------------------------------------------------------------------------

# Each library's own name for a net, with the library that uses it.
NAMES = [
    ("resnet50", "timm"), ("resnet50", "torchvision"),
    ("mobilenetv3_large_100", "timm"), ("mobilenet_v3_large", "torchvision"),
    ("mobilenetv2_100", "timm"), ("mobilenet_v2", "torchvision"),
    ("efficientnet_b0", "timm"), ("efficientnet_b0", "torchvision"),
    ("regnety_004", "timm"), ("regnet_y_400mf", "torchvision"),
    ("mnasnet_100", "timm"), ("mnasnet1_0", "torchvision"),
    ("densenet121", "timm"), ("resnext50_32x4d", "torchvision"),
]


@pytest.mark.parametrize(("name", "library"), NAMES)
def test_each_librarys_name_gives_that_librarys_net(name: str, library: str) -> None:
    import timm
    import torchvision

    known = timm.list_models() if library == "timm" else torchvision.models.list_models()
    assert name in known
    with torch.device("meta"):
        ours = create_model(name)
    reference = timm_model(name) if library == "timm" else reference_model(zoo.info(name))  # torchvision's get_model
    assert parameter_count(ours) == parameter_count(reference)


@pytest.mark.parametrize("alias", sorted(zoo.aliases()))
def test_every_alias_is_a_timm_name_with_timms_parameters(alias: str) -> None:
    import timm

    assert alias in timm.list_models()
    with torch.device("meta"):
        assert parameter_count(build(zoo.get(alias))) == parameter_count(timm_model(alias))


@pytest.mark.parametrize("alias", ["mobilenetv3_large_100", "mobilenetv3_small_100", "mobilenetv2_100", "mnasnet_050",
                                   "regnety_004", "regnetx_008"])
def test_an_alias_computes_timms_outputs_with_timms_weights(alias: str) -> None:
    assert_outputs_equal_reference(alias, RESOLUTION)


@pytest.mark.parametrize("name", ["efficientnet_b0", "resnet18", "densenet121"])
def test_a_name_both_libraries_use_takes_timms_weights_too(name: str) -> None:
    reference = randomize_(timm_model(name))
    ours = create_model(name, pretrained=reference.state_dict(), resolution=RESOLUTION).eval()
    images = random_images(RESOLUTION)
    with torch.no_grad():
        assert_logits_close(ours(images), reference(images))


def test_an_alias_takes_torchvisions_weights_as_well() -> None:
    reference = randomize_(reference_model(zoo.info("regnet_y_400mf")))
    ours = create_model("regnety_004", pretrained=reference.state_dict(), resolution=RESOLUTION).eval()
    images = random_images(RESOLUTION)
    with torch.no_grad():
        assert_logits_close(ours(images), reference(images))


def test_specs_strings_and_files_are_accepted_and_settings_replaced(tmp_path) -> None:
    spec = zoo.get("resnet18")
    path = tmp_path / "net.json"
    path.write_text(spec.to_json())
    for source in (spec, encode(spec), path, str(path)):
        assert create_model(source).spec == spec
    made = create_model(encode(spec), num_classes=10, in_chans=1, resolution=32).spec
    assert (made.num_classes, made.in_channels, made.resolution) == (10, 1, 32)
    assert made.stages == spec.stages


def test_bad_names_and_options_are_one_line_errors() -> None:
    with pytest.raises(zoo.ZooError, match=r"^net 'mobilenetv3_large' is not a zoo name, a spec string or a spec file "
                                           r"\(did you mean mobilenet_v3_large, mobilenetv3_large_100"):
        create_model("mobilenetv3_large")
    with pytest.raises(SpecError, match="pretrained = True is not allowed: nothing is downloaded"):
        create_model("resnet18", pretrained=True)
    with pytest.raises(SpecError, match="out_indices needs features_only=True"):
        create_model("resnet18", out_indices=(1, 2))
    with pytest.raises(SpecError, match=r"out_indices = \(0, 5\) is not allowed: this net has 5 feature maps .* from -5 to 4"):
        create_model("resnet18", features_only=True, out_indices=(0, 5))
    with pytest.raises(zoo.ZooError, match="pretrained = '/no/such.pth' is not allowed: no such file"):
        create_model("resnet18", pretrained="/no/such.pth")
    with pytest.raises(SpecError, match=r"out_indices = \(\) is not allowed: must be a non-empty sequence of integers"):
        create_model("resnet18", features_only=True, out_indices=())
    with pytest.raises(SpecError, match="this net never reduces its input, so it has no feature maps"):
        create_model("net_r16 | conv_c8 | basic_c8 | head", features_only=True)


# ---- pretrained weights --------------------------------------------------------------------


def test_pretrained_with_other_classes_reinitialises_only_the_classifier(caplog: pytest.LogCaptureFixture) -> None:
    reference = randomize_(reference_model(zoo.info("resnet18")))
    with caplog.at_level(logging.WARNING, logger="searchspace"):
        ours = create_model("resnet18", num_classes=10, pretrained=reference.state_dict(), resolution=RESOLUTION).eval()
    assert "pretrained classifier has 1000 classes, this net 10: head.classifier.fc.weight, head.classifier.fc.bias re-initialised" in caplog.text
    # torchvision's net with our new classifier computes our logits: everything else came from it.
    reference.fc = torch.nn.Linear(512, 10)
    reference.fc.load_state_dict({"weight": ours.head.classifier.fc.weight, "bias": ours.head.classifier.fc.bias})
    images = random_images(RESOLUTION)
    with torch.no_grad():
        assert_logits_close(ours(images), reference(images))


def test_pretrained_from_a_file_and_from_this_toolkits_own_state_dict(tmp_path) -> None:
    reference = randomize_(reference_model(zoo.info("mobilenet_v3_small")))
    path = tmp_path / "weights.pth"
    torch.save({"state_dict": reference.state_dict()}, path)  # wrapped, as training scripts save them
    first = create_model("mobilenet_v3_small", pretrained=path, resolution=RESOLUTION).eval()
    again = create_model(encode(first.spec), pretrained=first.state_dict()).eval()  # own keys: no zoo name needed
    images = random_images(RESOLUTION)
    with torch.no_grad():
        assert_logits_close(first(images), reference(images))
        assert_logits_close(again(images), reference(images))


def test_a_foreign_state_dict_needs_a_zoo_name() -> None:
    reference = randomize_(reference_model(zoo.info("resnet18")))
    with pytest.raises(zoo.ZooError, match="the state dict's keys are not this net's, and only a zoo net"):
        create_model(encode(zoo.get("resnet18")), pretrained=reference.state_dict())


@pytest.mark.parametrize("in_chans", [1, 2, 4, 5])
def test_other_input_channels_adapt_the_first_conv_as_timm_does(in_chans: int) -> None:
    from timm.models import adapt_input_conv

    reference = randomize_(reference_model(zoo.info("resnet18")))
    ours = create_model("resnet18", in_chans=in_chans, pretrained=reference.state_dict())
    expected = adapt_input_conv(in_chans, reference.conv1.weight.detach().clone())
    torch.testing.assert_close(ours.stem[0].conv.weight.detach(), expected)


# ---- feature maps --------------------------------------------------------------------------

TIMM_FEATURES = ["resnet50", "mobilenetv3_large_100", "mobilenetv3_small_100", "regnety_004", "densenet121"]


@pytest.mark.parametrize("name", TIMM_FEATURES)
def test_feature_channels_and_reductions_equal_timms_from_the_spec_alone(name: str) -> None:
    expected = timm_model(name, features_only=True).feature_info
    info = feature_info(zoo.get(name))  # no module built
    assert (info.channels(), info.reduction()) == (expected.channels(), expected.reduction())
    picked = feature_info(zoo.get(name), out_indices=(1, -1))
    chosen = timm_model(name, features_only=True, out_indices=(1, 4)).feature_info
    assert (picked.channels(), picked.reduction()) == (chosen.channels(), chosen.reduction())


def test_efficientnets_deepest_map_is_the_head_conv_where_timm_takes_the_last_block() -> None:
    expected = timm_model("efficientnet_b0", features_only=True).feature_info
    info = feature_info(zoo.get("efficientnet_b0"))
    assert info.channels()[:4] == expected.channels()[:4] and info.reduction() == expected.reduction()
    assert (info.channels()[-1], info.module_name()[-1]) == (zoo.get("efficientnet_b0").head.conv_channels, "head.conv")


@pytest.mark.parametrize(("name", "out_indices"), [("resnet50", None), ("mobilenetv3_large_100", (1, 2, 4)), ("resnet50", (0, 2))])
def test_feature_maps_equal_timms_with_the_same_weights(name: str, out_indices: tuple[int, ...] | None) -> None:
    reference = randomize_(timm_model(name))
    selection = {} if out_indices is None else {"out_indices": out_indices}
    expected_net = timm_model(name, features_only=True, **selection).to_empty(device="cpu")
    outcome = expected_net.load_state_dict(reference.state_dict(), strict=False)
    assert not outcome.missing_keys
    ours = create_model(name, pretrained=reference.state_dict(), features_only=True, resolution=RESOLUTION, **selection).eval()
    images = random_images(RESOLUTION)
    with torch.no_grad():
        actual, expected = ours(images), expected_net(images)
    assert len(actual) == len(expected) == len(ours.feature_info)
    for ours_map, timm_map in zip(actual, expected):
        assert_logits_close(ours_map, timm_map)


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v3_small", "efficientnet_b0", "densenet121", "googlenet",
                                  "shufflenet_v2_x0_5", "vgg11", "mnasnet0_5", "mobilenetv4_conv_small"])
def test_feature_info_describes_what_forward_returns(name: str) -> None:
    resolution = 96
    model = create_model(name, features_only=True, resolution=resolution).eval()
    with torch.no_grad():
        maps = model(torch.randn(1, 3, resolution, resolution))
    info = model.feature_info
    assert [m.shape[1] for m in maps] == info.channels()
    assert [resolution // m.shape[-1] for m in maps] == info.reduction()


def test_a_feature_extractor_keeps_only_what_its_maps_need() -> None:
    full = create_model("resnet18")
    partial = create_model("resnet18", features_only=True, out_indices=(1, 2))
    assert set(partial.state_dict()) < set(full.state_dict())
    assert not any(key.startswith(("stages.2", "stages.3", "head")) for key in partial.state_dict())
    assert partial.feature_info.out_indices == (1, 2)
