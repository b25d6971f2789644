"""Days and windows: the one copy of the date arithmetic every app counts with.

Day convention (detectors, risk, selectors, dashboard): a date-time belongs to the
calendar day it falls on in the project time zone (UTC). "The end of D" is the first
instant of D + 1, so `at < end_of(D)` means "on or before D". A window of N days ending
on D holds the days d with D - N < d <= D (D itself and the N - 1 days before it).
"""

import calendar
import datetime as dt

from django.utils import timezone

# Every date the domain stores, and every `as_of` a read accepts, lies in this range: the
# windows and histories count years back and ahead from it, and Python's dates stop at
# years 1 and 9999.
AS_OF_MIN, AS_OF_MAX = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


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
