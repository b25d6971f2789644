"""Whole numbers typed by people: ASCII digits only.

`str.isdigit()`, `int()` and `Decimal()` take every script's digits ("３" full-width, "٣"
Arabic-Indic), so text a person typed would be read as a number they may not have meant.
The API, the spreadsheet imports and the dashboard's forms accept 0-9 only (SPEC section
5: a wrong format is refused, not guessed).
"""


def is_digits(text: str) -> bool:
    """Whether `text` is one or more ASCII digits 0-9 and nothing else."""
    return text.isascii() and text.isdigit()
