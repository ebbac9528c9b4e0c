"""Every built-in space and example file spaces: valid samples, optuna, replay, known nets, knob listings."""

from __future__ import annotations

import math

import optuna
import pytest

from search.errors import UserError
from search.run.config import RunConfig
from search.spaces import (
    DEFAULT_SPACE,
    FixedSuggest,
    KnobInfo,
    OptunaSuggest,
    RandomSuggest,
    Space,
    SpaceContext,
    builtin_spaces,
    load_space,
)
from searchspace import NetSpec, zoo
from tests.spaces_support import (
    ANYNETX_A,
    ANYNETX_E,
    MIXED,
    REGNET_FILE,
    RecordingSuggest,
    space_from_yaml,
)

BUILTIN = list(builtin_spaces())
FILES = {"anynetx_a": ANYNETX_A, "anynetx_e": ANYNETX_E, "regnet_file": REGNET_FILE, "mixed": MIXED}
SPACES = BUILTIN + list(FILES)
CONTEXTS = (SpaceContext(), SpaceContext(in_channels=1, num_classes=10, resolution=32), SpaceContext(4, 100, 96))
ODD_CONTEXT = SpaceContext(in_channels=1, num_classes=10, resolution=128)


def get_space(name: str) -> Space:
    return builtin_spaces()[name] if name in BUILTIN else space_from_yaml(FILES[name], name)


@pytest.fixture(params=SPACES)
def space(request) -> Space:
    return get_space(request.param)


def test_builtins_are_the_documented_sixteen_with_the_default_first() -> None:
    assert BUILTIN == ["union", "unified", "mobilenet", "resnet", "regnet", "efficientnet", "mobile", "hybrid", "vit",
                       "shufflenet_v1", "classic", "googlenet", "densenet", "convnext", "swin", "xception"]
    assert DEFAULT_SPACE == BUILTIN[0] == RunConfig(name="default").space
    for name in BUILTIN:
        assert load_space(name) is builtin_spaces()[name]
        assert load_space(name).description


def test_the_same_seed_gives_the_same_net(space: Space) -> None:
    assert space.sample(RandomSuggest(3), ODD_CONTEXT) == space.sample(RandomSuggest(3), ODD_CONTEXT)
    digests = {space.sample(RandomSuggest(seed), ODD_CONTEXT).digest() for seed in range(20)}
    assert len(digests) > 10


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_optuna_trials_sample_nets_that_replay_exactly(space: Space, sampler: str) -> None:
    samplers = {
        "random": optuna.samplers.RandomSampler(seed=1),
        "tpe": optuna.samplers.TPESampler(seed=1, n_startup_trials=3),
    }
    study = optuna.create_study(sampler=samplers[sampler])
    knobs = {knob.name: knob for knob in space.knobs()}
    for index in range(6):
        trial = study.ask()
        net = space.sample(OptunaSuggest(trial), ODD_CONTEXT)
        assert set(trial.params) <= set(knobs)
        replay = FixedSuggest(trial.params)
        assert space.sample(replay, ODD_CONTEXT).digest() == net.digest()
        assert replay.unused() == []
        study.tell(trial, net.resolution + index)  # any objective: the sampler only needs feedback
    assert len(study.trials) == 6


def test_fixed_replay_of_a_random_sample_is_the_same_net(space: Space) -> None:
    for seed in range(10):
        original = RandomSuggest(seed)
        net = space.sample(original, ODD_CONTEXT)
        replay = FixedSuggest(original.params)
        assert space.sample(replay, ODD_CONTEXT).digest() == net.digest()
        assert list(replay.used) == list(original.params)


def _baseline_cases() -> list[tuple[str, str]]:
    return [(name, baseline) for name in BUILTIN for baseline in builtin_spaces()[name].baselines]


@pytest.mark.parametrize(("space_name", "zoo_name"), _baseline_cases())
def test_known_points_reproduce_the_zoo_nets_exactly(space_name: str, zoo_name: str) -> None:
    space = builtin_spaces()[space_name]
    replay = FixedSuggest(space.known_point(zoo_name))
    net = space.sample(replay, ODD_CONTEXT)
    expected = zoo.get(zoo_name, resolution=128, num_classes=10, in_channels=1)
    assert net == expected
    assert net.digest() == expected.digest()
    assert replay.unused() == []


@pytest.mark.parametrize(
    ("space_name", "expected"),
    [
        ("unified", {"mobilenet_v2", "resnet18", "regnet_y_400mf", "efficientnet_b0"}),
        ("mobilenet", {"mobilenet_v2"}),
        ("resnet", {"resnet18", "resnet34", "resnet50", "resnext50_32x4d"}),
        ("regnet", {"regnet_x_400mf", "regnet_y_400mf", "regnet_x_800mf", "regnet_y_800mf"}),
        ("efficientnet", {"efficientnet_b0", "efficientnet_b1"}),
        ("vit", {"vit_b_16", "vit_b_32", "vit_tiny_patch16_224", "deit_tiny_patch16_224", "deit_small_patch16_224",
                 "deit_tiny_distilled_patch16_224"}),
        ("shufflenet_v1", {"shufflenet_v1_g3_x1_0", "shufflenet_v1_g8_x0_5"}),
        ("classic", {"lenet5", "alexnet", "zfnet"}),
        ("googlenet", {"googlenet"}),
        ("densenet", {"densenet121", "densenet161", "densenet169", "densenet201"}),
        ("convnext", {"convnext_tiny"}),
        ("swin", {"swin_t", "swin_s", "swin_v2_t"}),
        ("xception", {"xception41", "xception65", "xception71"}),
    ],
)
def test_each_builtin_holds_its_families_reference_nets(space_name: str, expected: set[str]) -> None:
    registered = expected & set(zoo.names())  # a family still being added to the zoo is not a baseline yet
    assert registered <= set(builtin_spaces()[space_name].baselines)


def test_a_net_outside_the_space_has_no_known_point() -> None:
    with pytest.raises(UserError, match="'vgg11' is not a known point of space 'resnet'"):
        builtin_spaces()["resnet"].known_point("vgg11")


def _check_call(knob: KnobInfo, method: str, arguments: dict) -> None:
    assert method == knob.kind, knob.name
    if method == "categorical":
        assert arguments["values"] == knob.values, knob.name
        return
    assert arguments["high"] == knob.high and arguments["log"] == knob.log, knob.name
    if method == "integer":
        # A non_decreasing knob may be asked from a part of its range, on the same grid.
        assert arguments["step"] == knob.step and arguments["low"] >= knob.low, knob.name
        assert (arguments["low"] - knob.low) % knob.step == 0, knob.name
    else:
        assert arguments["low"] == knob.low, knob.name


def test_300_random_samples_are_valid_nets_asking_only_listed_knobs(space: Space) -> None:
    knobs = {knob.name: knob for knob in space.knobs()}
    assert len(knobs) == len(space.knobs()), "knob names are unique"
    unconditional = {name for name, knob in knobs.items() if not knob.when}
    asked_ever: set[str] = set()
    for seed in range(300):
        context = CONTEXTS[seed % len(CONTEXTS)]
        suggest = RecordingSuggest(seed)
        net = space.sample(suggest, context)  # NetSpec construction validates every shape
        assert isinstance(net, NetSpec)
        assert (net.in_channels, net.num_classes) == (context.in_channels, context.num_classes)
        assert 1 <= net.resolution <= round(context.resolution * 1.15**2)  # efficientnet's phi = 2 is the largest
        names = [name for _, name, _ in suggest.calls]
        assert len(names) == len(set(names)), "no knob is asked twice for one net"
        for method, name, arguments in suggest.calls:
            assert name in knobs, f"{name} is suggested but not listed"
            _check_call(knobs[name], method, arguments)
        assert unconditional <= set(names), "a knob without a condition is asked for every net"
        asked_ever |= set(names)
    # per-block knobs of a 12th block are rare in 300 draws: test_spaces_mobile steers to each (and union holds mobile)
    if space.name not in ("mobile", "union"):
        assert asked_ever == set(knobs), f"listed but never asked: {sorted(set(knobs) - asked_ever)}"


def test_size_lies_between_the_unconditional_knobs_and_all_knobs(space: Space) -> None:
    knobs = space.knobs()
    everything = sum(knob.domain.log10_count() for knob in knobs)
    # non_decreasing knobs are counted as sequences, fewer than their product: leave them out of the floor.
    always = sum(knob.domain.log10_count() for knob in knobs if not knob.when and "non_decreasing" not in knob.note)
    size = space.log10_size()
    assert math.isfinite(size)
    assert always - 1e-9 <= size <= everything + 1e-9
