"""Numbers in compact strings: exact, and free of float noise."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from searchspace import BottleneckSpec, SpecStringError, decode, encode, zoo
from searchspace.codec import decode_stage, encode_stage
from searchspace.fields import format_number
from searchspace.spec import Stage

# A decimal with 13 or more significant digits in a spec string is float noise.
NOISY_DECIMAL = re.compile(r"\d\.?\d{12,}")


def read_back(text: str) -> float:
    """A number the way a spec string reads it: as the bottleneck ratio of a stage token."""
    return decode_stage(f"bottleneck_c64_b{text}").block.bottleneck_ratio


@pytest.mark.parametrize("name", zoo.names())
def test_zoo_strings_have_no_float_noise_and_read_back_exactly(name: str) -> None:
    spec = zoo.get(name)
    text = encode(spec)
    assert not NOISY_DECIMAL.search(text), text
    assert decode(text) == spec
    assert decode(text).digest() == spec.digest()


def test_mnasnet_keeps_torchvisions_momentum_and_writes_it_as_a_decay() -> None:
    from torchvision.models import mnasnet

    spec = zoo.get("mnasnet1_0")
    assert spec.norm_momentum == mnasnet._BN_MOMENTUM  # the stored value is torchvision's own float
    assert "m1-0.9997" in encode(spec).split(" | ")[0].split("_")


def test_ratios_of_integer_widths_are_written_as_fractions() -> None:
    stage = Stage(block=BottleneckSpec(out_channels=56, bottleneck_ratio=64 / 56))
    assert encode_stage(stage) == "bottleneck_c56_b8/7"
    assert decode_stage("bottleneck_c56_b8/7") == stage
    assert "e11/3" in encode(zoo.get("mobilenet_v3_small"))  # torchvision's 88 channels from 24


@pytest.mark.parametrize("value", [0.25, 0.1, 1e-05, 0.001, 6.0, 0.2, 1.0000000000000002])
def test_clean_and_unrepresentable_values_keep_their_plain_decimal(value: float) -> None:
    assert format_number(value) == (repr(value) if not value.is_integer() else str(int(value)))


@given(st.floats(min_value=1e-12, max_value=64, allow_nan=False, allow_infinity=False))
def test_every_number_reads_back_to_the_same_float(value: float) -> None:
    assert read_back(format_number(value)) == value


@given(st.integers(1, 999), st.integers(1, 999))
def test_ratios_of_small_integers_are_never_noisy(numerator: int, denominator: int) -> None:
    value = numerator / denominator
    assume(value <= 64)  # the bottleneck ratio's upper bound
    assert not NOISY_DECIMAL.search(format_number(value))
    assert read_back(format_number(value)) == value


@pytest.mark.parametrize("text", ["8/0", "8/", "1/2/3", "1-", "2/b"])
def test_malformed_numbers_are_clear_errors(text: str) -> None:
    with pytest.raises(SpecStringError, match=rf"bottleneck\.bottleneck_ratio: {re.escape(repr(text))} is not a number"):
        read_back(text)
