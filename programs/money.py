"""Money and dates as people read them: "€2,400,000", "CHF 1,250.50", "12 Nov 2026".

Every reader that shows an amount (dashboard, emails, admin, board packs) formats it with
the Organization's `currency` (SPEC §2), never as the stored "2400000.00".
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from .currencies import DEFAULT_CURRENCY
from .dates import local_date

# Symbols that read unambiguously on their own; every other code is written before the amount.
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹"}


def format_money(amount: Decimal | str | int | float | None, currency: str | None = None) -> str:
    """`amount` in `currency` (ISO 4217): cents only when there are some; "no budget" for None."""
    if amount is None or amount == "":
        return "no budget"
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    if not value.is_finite():
        return str(amount)
    code = (currency or DEFAULT_CURRENCY).upper()
    text = f"{abs(value):,.0f}" if value == value.to_integral() else f"{abs(value):,.2f}"
    sign = "-" if value < 0 else ""
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{code} {text}"


def format_day(value: dt.date | dt.datetime | str | None) -> str:
    """ "12 Nov 2026" for a date, a date-time (its date) or an ISO string; "—" for None."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = local_date(value)
    return f"{value.day} {value:%b %Y}"
