"""LeNet-5, AlexNet, VGG, GoogLeNet, Inception-v3 and DenseNet beyond the generic zoo tests.

tests/test_zoo.py checks every entry's parameters, MACs and outputs at its
default options.  Here: LeNet-5 against its paper, the ``aux_logits`` option
of GoogLeNet and Inception-v3 against torchvision built with the same
argument (auxiliary logits included), dropout placement, and the input
convention of torchvision's pretrained Inception weights.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision.models import get_model_weights

from evaluators.cost import cost
from searchspace import build, zoo
from tests.test_zoo import smallest_accepted_resolution
from tests.zoo_reference import (
    assert_logits_close,
    assert_outputs_equal_reference,
    converted_zoo_net,
    meta_macs,
    random_images,
    randomize_,
    reference_model,
)

AUX_NETS = ("googlenet", "inception_v3")
CLASSIC_TORCHVISION = [n for n in zoo.names() if zoo.info(n).family in ("alexnet", "vgg")]
NEW_TORCHVISION = CLASSIC_TORCHVISION + [n for n in zoo.names() if zoo.info(n).family in ("inception", "densenet")]


# ---- LeNet-5 (no library reference: the paper's numbers) ---------------------------------


def test_lenet5_has_the_published_parameter_count() -> None:
    spec = zoo.get("lenet5")
    assert cost(spec).params == 61706
    assert sum(p.numel() for p in build(spec).parameters()) == 61706


def test_lenet5_has_the_papers_feature_maps() -> None:
    # C1 6@28x28, S2 6@14x14, C3 16@10x10, S4 16@5x5 on a 32x32 grey image; ten outputs.
    spec = zoo.get("lenet5")
    assert cost(spec).stage_shapes == ((6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5))
    logits = build(spec).eval()(torch.zeros(3, 1, 32, 32))
    assert logits.shape == (3, 10)


# ---- ZF-Net (no library reference: the layer table of Zeiler & Fergus 2013, Fig. 3) ----------

# (input channels, output channels, kernel) of each conv with its bias, then each fully connected layer.
ZF_CONVS = ((3, 96, 7), (96, 256, 5), (256, 384, 3), (384, 384, 3), (384, 256, 3))
ZF_LINEARS = ((6 * 6 * 256, 4096), (4096, 4096), (4096, 1000))
# Maps after layer 1's conv and pool, layer 2's conv and pool, layers 3, 4, 5 and the last pool.
ZF_MAPS = ((96, 110), (96, 55), (256, 26), (256, 13), (384, 13), (384, 13), (256, 13), (256, 6))


def test_zfnet_parameters_follow_from_its_layer_table() -> None:
    expected = sum(c_in * c_out * k * k + c_out for c_in, c_out, k in ZF_CONVS)
    expected += sum(n_in * n_out + n_out for n_in, n_out in ZF_LINEARS)
    assert expected == 62_357_608  # the table's sum, written out once for the reader
    spec = zoo.get("zfnet")
    assert cost(spec).params == expected
    with torch.device("meta"):
        net = build(spec)
    assert sum(p.numel() for p in net.parameters()) == expected
    assert cost(spec).macs == meta_macs(net, spec.resolution)


def test_zfnet_has_the_figures_map_sizes() -> None:
    spec = zoo.get("zfnet")
    layers = (*spec.stem, *spec.stages)
    maps = [(c, h) for (c, h, w), layer in zip(cost(spec).stage_shapes, layers) if layer.block.kind != "lrn"]
    assert tuple(maps) == ZF_MAPS


# ---- aux_logits: both choices against torchvision built with the same argument --------------


@pytest.mark.parametrize("aux_logits", [False, True])
@pytest.mark.parametrize("name", AUX_NETS)
def test_aux_logits_option_has_the_references_params_and_macs(name: str, aux_logits: bool) -> None:
    spec = zoo.get(name, aux_logits=aux_logits)
    reference = reference_model(zoo.info(name), aux_logits=aux_logits)
    assert cost(spec).params == sum(p.numel() for p in reference.parameters())
    assert cost(spec).macs == meta_macs(reference, spec.resolution)  # inference: auxiliary heads do not run


@pytest.mark.parametrize("name", AUX_NETS)
def test_default_aux_choice_matches_torchvisions_published_count(name: str) -> None:
    # GoogLeNet's published weights come without auxiliary heads, Inception-v3's with them.
    published = get_model_weights(name).DEFAULT.meta["num_params"]
    assert cost(zoo.get(name)).params == published


@pytest.mark.parametrize("aux_logits", [False, True])
@pytest.mark.parametrize("name", AUX_NETS)
def test_aux_logits_option_outputs_equal_the_reference(name: str, aux_logits: bool) -> None:
    resolution = smallest_accepted_resolution(name, aux_logits=aux_logits)
    assert_outputs_equal_reference(name, resolution, aux_logits=aux_logits)


@pytest.mark.parametrize("aux_logits", [False, True])
@pytest.mark.parametrize("name", AUX_NETS)
def test_forward_with_aux_in_training_has_the_references_outputs(name: str, aux_logits: bool) -> None:
    # Shapes only, on the meta device; 7 classes and a batch of 3 so that no size agrees by accident.
    resolution = zoo.info(name).reference.resolution
    reference = reference_model(zoo.info(name), aux_logits=aux_logits, num_classes=7).train()
    with torch.device("meta"):
        ours = build(zoo.get(name, aux_logits=aux_logits, num_classes=7)).train()
    images = torch.empty(3, 3, resolution, resolution, device="meta")
    expected = reference(images)
    logits, aux = ours.forward_with_aux(images)
    # torchvision returns bare logits when it has no auxiliary heads, else (logits, *aux).
    expected_logits, *expected_aux = (expected,) if isinstance(expected, torch.Tensor) else expected
    assert logits.shape == expected_logits.shape == (3, 7)
    assert [a.shape for a in aux] == [a.shape for a in expected_aux]
    assert len(aux) == (0 if not aux_logits else 2 if name == "googlenet" else 1)


@pytest.mark.parametrize("name", AUX_NETS)
def test_aux_logits_equal_the_references(name: str) -> None:
    resolution = smallest_accepted_resolution(name, aux_logits=True)
    reference = randomize_(reference_model(zoo.info(name), aux_logits=True))
    ours = converted_zoo_net(name, reference, resolution, aux_logits=True)
    # torchvision runs its auxiliary heads only while its top module is training; its
    # submodules stay in eval mode so that dropout and batch statistics keep out of the way.
    reference.training = True
    images = random_images(resolution)
    with torch.no_grad():
        expected_logits, *expected_aux = reference(images)
        logits, aux = ours.forward_with_aux(images)
    assert_logits_close(logits, expected_logits)
    # torchvision lists the deepest auxiliary head first (GoogLeNet: logits, aux2, aux1); ours go from the input.
    assert len(aux) == len(expected_aux) == (2 if name == "googlenet" else 1)
    for actual, expected in zip(aux, reversed(expected_aux)):
        assert_logits_close(actual, expected)


def test_aux_logits_must_be_a_bool() -> None:
    with pytest.raises(zoo.ZooError, match=r"option aux_logits = 'yes' is not allowed: must be True or False"):
        zoo.get("googlenet", aux_logits="yes")
    with pytest.raises(zoo.ZooError, match=r"option aux_logits = 1 is not allowed"):
        zoo.get("inception_v3", aux_logits=1)


# ---- dropout placement (invisible to parameters, MACs and eval outputs) ------------------------


def _dropout_rates(model: nn.Module) -> list[float]:
    return [m.p for m in model.modules() if isinstance(m, nn.Dropout)]


def _layer_sequence(layers: nn.Module) -> list[tuple[str, float | int | None]]:
    """Each layer's class with its dropout rate or output width: where dropout sits between linears."""
    return [(type(m).__name__, getattr(m, "p", getattr(m, "out_features", None))) for m in layers.children()]


@pytest.mark.parametrize("name", NEW_TORCHVISION)
def test_dropout_rates_equal_the_references(name: str) -> None:
    options = {"aux_logits": True} if name in AUX_NETS else {}
    reference = reference_model(zoo.info(name), **options)
    with torch.device("meta"):
        ours = build(zoo.get(name, **options))
    # Both register auxiliary heads before the main classifier, so the order carries over.
    assert _dropout_rates(ours) == _dropout_rates(reference)


@pytest.mark.parametrize("name", CLASSIC_TORCHVISION)
def test_classifier_layers_are_in_the_references_order(name: str) -> None:
    reference = reference_model(zoo.info(name))
    with torch.device("meta"):
        ours = build(zoo.get(name))
    assert _layer_sequence(ours.head.classifier) == _layer_sequence(reference.classifier)


# ---- torchvision's pretrained Inception weights and their input convention -------------------


@pytest.mark.parametrize("name", AUX_NETS)
def test_pretrained_input_convention_of_the_entry_note(name: str) -> None:
    """torchvision's pretrained GoogLeNet and Inception-v3 run with transform_input=True.

    The entry notes say: normalise with mean 0.5 and std 0.5 for the zoo net, and it
    computes what torchvision computes on images normalised with its ImageNet statistics.
    """
    transforms = get_model_weights(name).DEFAULT.transforms()
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (transforms.mean, transforms.std))
    resolution = smallest_accepted_resolution(name, aux_logits=False)
    reference = randomize_(reference_model(zoo.info(name), aux_logits=False, transform_input=True))
    ours = converted_zoo_net(name, reference, resolution, aux_logits=False)
    pixels = torch.rand(2, 3, resolution, resolution, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = reference((pixels - mean) / std)
        actual = ours((pixels - 0.5) / 0.5)
    assert_logits_close(actual, expected)
    assert "mean 0.5 and std 0.5" in zoo.info(name).note
