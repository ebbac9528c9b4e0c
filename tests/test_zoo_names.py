"""The torch-free list of zoo names (searchspace/zoo_names.py) is exactly the zoo's, so the command line's early check agrees."""

from __future__ import annotations

import subprocess
import sys

import pytest

from searchspace import zoo
from searchspace.zoo.registry import ZooEntry, register
from searchspace.zoo_names import TIMM_ALIASES, ZOO_NAMES, ZooError, check_zoo_name


def test_the_light_list_is_the_zoo_in_its_order() -> None:
    assert list(ZOO_NAMES) == zoo.names()


def test_the_light_aliases_are_the_zoos() -> None:
    assert {name: target for name, (target, _) in TIMM_ALIASES.items()} == zoo.aliases()


def test_a_net_missing_from_the_light_list_cannot_register() -> None:
    stray = ZooEntry("not_listed_net", "resnet", zoo.info("resnet18").make, zoo.info("resnet18").reference)
    with pytest.raises(RuntimeError, match="missing from searchspace/zoo_names.py"):
        register(stray)
    assert "not_listed_net" not in zoo.names()


@pytest.mark.parametrize("name", ["resnet18", "mobilenetv3_large_100"])
def test_zoo_names_and_aliases_pass_the_check(name: str) -> None:
    check_zoo_name(name)
    assert zoo.info(name).name == name


def test_an_unknown_name_gets_the_same_error_from_the_check_and_the_zoo() -> None:
    with pytest.raises(ZooError) as light:
        check_zoo_name("resnet51")
    with pytest.raises(ZooError) as full:
        zoo.info("resnet51")
    assert str(light.value) == str(full.value)
    assert "did you mean resnet50" in str(light.value)


def test_the_check_does_not_import_torch() -> None:
    code = "import sys, searchspace.zoo_names as z; z.is_zoo_name('resnet18'); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
