"""Days and windows: the one copy of the date arithmetic every app counts with.

Day convention (detectors, risk, selectors, dashboard): a date-time belongs to the
calendar day it falls on in the project time zone (UTC). "The end of D" is the first
instant of D + 1, so `at < end_of(D)` means "on or before D". A window of N days ending
on D holds the days d with D - N < d <= D (D itself and the N - 1 days before it).
"""

import calendar
import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible

# Every date the domain stores, and every `as_of` a read accepts, lies in this range: the
# windows and histories count years back and ahead from it, and Python's dates stop at
# years 1 and 9999.
AS_OF_MIN, AS_OF_MAX = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
# A scan may look ahead at most this far (SPEC §2): flags dated in a far future would be
# resolved by every real scan after them.
SCAN_AHEAD_DAYS = 366
DATE_RANGE_CODE = "date_out_of_range"


# [0-9], not \d (any Unicode digit); fullmatch, not `$` (which also matches before a newline).
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def is_iso_date_text(text: str) -> bool:
    """Whether `text` is YYYY-MM-DD in ASCII digits (`strptime` and `fromisoformat` take any
    script's digits, and strptime one-digit months and days)."""
    return bool(_ISO_DATE.fullmatch(text))


def _day(value: dt.date | dt.datetime) -> dt.date:
    return local_date(value) if isinstance(value, dt.datetime) else value


def date_range_message(value: dt.date | dt.datetime) -> str:
    """The refusal every entry point shows for a date outside AS_OF_MIN..AS_OF_MAX."""
    return f"Dates go from {AS_OF_MIN} to {AS_OF_MAX}; {_day(value)} is outside that range."


def is_sane_date(value: dt.date | dt.datetime | None) -> bool:
    """Whether a date (or the day of a date-time) lies in AS_OF_MIN..AS_OF_MAX; None is sane."""
    return value is None or AS_OF_MIN <= _day(value) <= AS_OF_MAX


@deconstructible(path="programs.dates.SaneDateValidator")
class SaneDateValidator:
    """The one rule "dates are sane" (SPEC §2), as a validator of model and form fields.

    Model fields carry it (`validators=[sane_date]`), so the admin's forms and DRF's model
    serializers apply it; the API's date fields and filters add it themselves
    (`cxgov.api.fields`, `cxgov.api.filters`), and services that write dates without
    `full_clean` call `check_sane_dates`. Refuses with `date_range_message`.
    """

    code = DATE_RANGE_CODE

    def __call__(self, value) -> None:
        if not is_sane_date(value):
            raise ValidationError(date_range_message(value), code=self.code)

    def __eq__(self, other) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))


sane_date = SaneDateValidator()


def check_sane_dates(**dates: dt.date | dt.datetime | None) -> None:
    """Raise ValidationError by field name for each date outside the range (services use it)."""
    errors = {name: [date_range_message(value)] for name, value in dates.items() if not is_sane_date(value)}
    if errors:
        raise ValidationError(errors)


def scan_as_of_max(today: dt.date | None = None) -> dt.date:
    """The latest `as_of` a scan accepts: today + 366 days (SPEC §2)."""
    return (today or timezone.localdate()) + dt.timedelta(days=SCAN_AHEAD_DAYS)


def check_scan_as_of(as_of: dt.date, *, today: dt.date | None = None) -> dt.date:
    """A scan's `as_of`, or ValidationError({"as_of": ...}) saying the range.

    Every scan entry point (the API, the command, the admin action, `scan_queue` and
    `scan_organization` themselves) calls this, so no scan ever runs on an absurd date.
    """
    if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
        raise ValidationError({"as_of": ["A scan's as_of is a date (YYYY-MM-DD)."]})
    latest = scan_as_of_max(today)
    if not AS_OF_MIN <= as_of <= latest:
        raise ValidationError(
            {
                "as_of": [
                    f"A scan's as_of goes from {AS_OF_MIN} to {latest} (today + {SCAN_AHEAD_DAYS} days); "
                    f"{as_of} is outside that range."
                ]
            },
            code=DATE_RANGE_CODE,
        )
    return as_of


def day_start(day: dt.date) -> dt.datetime:
    """The aware date-time at which `day` begins in the project time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def end_of(day: dt.date) -> dt.datetime:
    """The aware date-time at which `day` ends: date-times `< end_of(day)` fall on or before it."""
    return day_start(day + dt.timedelta(days=1))


def window_start(as_of: dt.date, days: int) -> dt.date:
    """The first day of the `days`-day window ending on `as_of` (as_of - days + 1)."""
    return as_of - dt.timedelta(days=days - 1)


def window_bounds(as_of: dt.date, days: int) -> tuple[dt.datetime, dt.datetime]:
    """Date-times [start, end) whose day d satisfies as_of - days < d <= as_of."""
    return day_start(window_start(as_of, days)), end_of(as_of)


def local_date(value: dt.datetime | dt.date | None) -> dt.date | None:
    """The calendar date of a date-time in the project time zone (dates pass through)."""
    if value is None or not isinstance(value, dt.datetime):
        return value
    return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (or earlier), held to the month's last day (Jan 31 + 1 month = Feb 28/29)."""
    year, month0 = divmod(day.month - 1 + months, 12)
    year += day.year
    return dt.date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


@deconstructible(path="programs.dates.ScanAsOfValidator")
class ScanAsOfValidator(SaneDateValidator):
    """`check_scan_as_of` as a field validator (the API's `POST scans/`); it stands in for the
    general date range, which it narrows, so a field carrying it says the scan's range."""

    def __call__(self, value) -> None:
        try:
            check_scan_as_of(value)
        except ValidationError as refused:
            raise ValidationError(refused.messages, code=DATE_RANGE_CODE) from None
