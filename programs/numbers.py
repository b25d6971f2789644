"""Numbers people and integrations type: ASCII digits only, ids in the bigint range.

`str.isdigit()`, `int()` and `Decimal()` take every script's digits ("３" full-width, "٣"
Arabic-Indic), and `int()` and `Decimal()` read "_" as a digit separator ("1_000" is
1000), so text would be read as a number its sender may not have meant. The API, the
measurement rules, the spreadsheet imports and the dashboard's forms ask these questions
(SPEC section 5: a wrong format is refused, not guessed).
"""

#: The largest id a bigint column holds.
MAX_ID = 2**63 - 1


def is_digits(text: str) -> bool:
    """Whether `text` is one or more ASCII digits 0-9 and nothing else."""
    return text.isascii() and text.isdigit()


def is_number_text(text: str) -> bool:
    """Whether a numeric text may be handed to `Decimal()`: ASCII only and no `_`."""
    return text.isascii() and "_" not in text


def parse_id(data) -> int | None:
    """An id: an integer, or a text of ASCII digits (a query value, a CSV cell), in
    1..MAX_ID; else None (a boolean is not an id)."""
    if isinstance(data, bool):
        return None
    if isinstance(data, int):
        value = data
    elif isinstance(data, str) and is_digits(data) and len(data) <= 19:
        value = int(data)
    else:
        return None
    return value if 1 <= value <= MAX_ID else None
