"""The one number formatter (mlci.numbers): what tables, reasons, charts and the terminal show."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlci.numbers import (
    format_delta,
    format_pair,
    format_percent,
    format_size_pair,
    format_value,
    plain_decimal,
)


@pytest.mark.parametrize(("value", "text"), [
    (0.95, "0.95"), (0.1539, "0.1539"), (1e6, "1000000"), (41, "41"), (-0.0, "0"),
    (0.00012, "0.00012"), (1e-20, "1e-20"), (2.32e20, "2.32e+20"),  # no float noise
    (10**300, "1e+300"), (float("nan"), "NaN"), (float("inf"), "inf"), (None, "-"),
    (True, "true"), ("v2", "v2"),
])
def test_values_read_plainly_and_nan_is_spelt_one_way(value: object, text: str) -> None:
    assert format_value(value) == text  # type: ignore[arg-type]


def test_a_pair_gets_the_digits_that_tell_its_values_apart() -> None:
    assert format_pair(1e6, 1000000.1) == ("1000000", "1000000.1")
    assert format_pair(0.1234567, 0.1234568) == ("0.1234567", "0.1234568")
    assert format_pair(0.912, 0.891) == ("0.912", "0.891")
    assert format_pair(float("nan"), float("nan")) == ("NaN", "NaN")


@given(st.floats(allow_nan=False, allow_infinity=False),
       st.floats(allow_nan=False, allow_infinity=False))
def test_different_numbers_never_print_the_same(base: float, head: float) -> None:
    before, after = format_pair(base, head)
    assert (before == after) == (base == head)


@pytest.mark.parametrize(("percent", "text"), [
    (2.3026, "+2.3%"), (282.9, "+283%"), (31150.0, "+31,150%"), (0.0194, "+0.0194%"),
    (-16.84, "-16.8%"), (0.0, "0%"), (1e-7, "+<0.0001%"), (1e300, "+" + f"{1e300:,.0f}%"),
])
def test_percentages_never_use_an_exponent(percent: float, text: str) -> None:
    assert format_percent(percent) == text
    assert "e" not in format_percent(percent)


def test_a_real_change_never_reads_as_zero_percent() -> None:
    # data/raw grew 4 B of 20.2 KiB: the table said "+0.0%".
    assert format_delta(4, 4 / 20700) == "+4 (+0.0193%)"
    assert format_delta(-0.021, -0.023) == "-0.021 (-2.3%)"
    assert format_delta(float("nan"), None) == "NaN"
    assert format_delta(None, None) == ""


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False).filter(lambda v: v != 0))
def test_plain_decimals_keep_the_leading_digits(value: float) -> None:
    text = plain_decimal(value, 6)
    assert "e" not in text
    assert math.isclose(float(text), value, rel_tol=1e-5)


def test_two_sizes_that_differ_never_read_the_same() -> None:
    assert format_size_pair(20700, 20704) == ("20.21 KiB", "20.22 KiB")
    assert format_size_pair(2_400_000, 2_450_000) == ("2.29 MiB", "2.34 MiB")
    assert format_size_pair(10**12, 10**12 + 1) == ("1,000,000,000,000 B",
                                                    "1,000,000,000,001 B")
    assert format_size_pair(None, 5) == ("-", "5 B")
