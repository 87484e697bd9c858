from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backoffice.money import quantize, to_decimal


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("19.9", Decimal("19.90")),
        (19.9, Decimal("19.90")),
        ("0.005", Decimal("0.01")),
        (2, Decimal("2.00")),
    ],
)
def test_platform_amounts_parse_exactly_and_round_half_up(raw, expected):
    assert quantize(to_decimal(raw)) == expected


def test_to_decimal_rejects_text_that_is_no_amount():
    with pytest.raises(ValueError, match="not an amount"):
        to_decimal("R$ doze")


@given(st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=6))
def test_quantize_is_idempotent_and_within_half_a_cent(value):
    once = quantize(value)
    assert quantize(once) == once
    assert abs(once - value) <= Decimal("0.005")
