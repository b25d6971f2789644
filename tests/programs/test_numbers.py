"""`programs.numbers.is_digits`: what people type as a whole number is ASCII 0-9 only."""

import pytest

from programs.numbers import is_digits


@pytest.mark.parametrize("text", ["0", "7", "0012", "9" * 30])
def test_ascii_digits_are_digits(text):
    assert is_digits(text)


@pytest.mark.parametrize("text", ["", "３", "٣", "1２", "²", "-1", "+1", "1.0", "1_000", " 1", "1\n"])
def test_anything_else_is_not(text):
    assert not is_digits(text)
