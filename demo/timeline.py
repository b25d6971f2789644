"""Dates and small writers shared by the demo stories: everything is placed relative to `today`."""

import calendar
import datetime as dt
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.utils import timezone

from accountability.choices import AgendaOutcome, SessionStatus
from accountability.models import AgendaItem, Attendance, Forum, ForumSession
from metrics.choices import Cadence, Direction
from metrics.models import Measurement, Metric
from programs.models import Person

SESSION_HOUR = 14  # meetings start at 14:00 UTC


def add_months(day: dt.date, months: int) -> dt.date:
    year, month0 = divmod(day.month - 1 + months, 12)
    year += day.year
    return dt.date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def at(day: dt.date, hour: int = SESSION_HOUR) -> dt.datetime:
    """An aware date-time on `day` (the project runs in UTC)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def recorded(when: dt.date | dt.datetime) -> dt.datetime:
    """When something the story dates `when` was written down: then, or now if the story
    dates it later (a planned initiative entered before it starts): a record is never dated
    in the future."""
    return min(at(when) if not isinstance(when, dt.datetime) else when, timezone.now())


def redate_history(instance: models.Model, when: dt.date | dt.datetime) -> None:
    """Give the latest simple-history row of `instance` the date it happened in the story.

    Services (program_transition) save their own copy of the row, so `_history_date` cannot
    be set beforehand; the row they wrote is re-dated instead.
    """
    when = recorded(when)
    history = type(instance).history.model
    latest = history.objects.filter(id=instance.pk).order_by("-history_id").values_list("history_id", flat=True)[:1]
    history.objects.filter(history_id__in=list(latest)).update(history_date=when)


def save_dated(instance: models.Model, when: dt.date | dt.datetime, reason: str = "", **changes) -> None:
    """Change fields and save, the history row dated `when` (a past budget cut, a champion change)."""
    for name, value in changes.items():
        setattr(instance, name, value)
    instance._history_date = recorded(when)
    if reason:
        instance._change_reason = reason
    instance.save()
    del instance._history_date


def period_ends(cadence: str, start: dt.date, until: dt.date) -> list[dt.date]:
    """Period ends of a reporting cadence after `start`, up to and including `until`."""
    out: list[dt.date] = []
    if cadence == Cadence.WEEKLY:
        day = start + dt.timedelta(days=(6 - start.weekday()) % 7 or 7)  # Sundays
        while day <= until:
            out.append(day)
            day += dt.timedelta(days=7)
        return out
    step = 3 if cadence == Cadence.QUARTERLY else 1
    day = month_end(start)
    if cadence == Cadence.QUARTERLY:
        while day.month % 3:
            day = month_end(add_months(day, 1))
    if day <= start:
        day = month_end(add_months(day, step))
    while day <= until:
        out.append(day)
        day = month_end(add_months(day, step))
    return out


@dataclass
class Trend:
    """How a metric's values move: from `start` towards `end` over the measured span, with noise."""

    start: float
    end: float
    noise: float = 0.0
    decimals: int = 1


def measure(
    metric: Metric, trend: Trend, *, since: dt.date, until: dt.date, rng: random.Random, source: str = "demo"
) -> list[Measurement]:
    """Bulk-write one measurement per period of the metric's cadence between `since` and `until`."""
    ends = period_ends(metric.reporting_cadence, since, until)
    rows = []
    for i, end in enumerate(ends):
        share = i / max(1, len(ends) - 1)
        value = trend.start + (trend.end - trend.start) * share + rng.uniform(-trend.noise, trend.noise)
        rows.append(
            Measurement(
                metric=metric,
                organization_id=metric.program.organization_id,
                period_end=end,
                value=Decimal(str(round(value, trend.decimals))),
                source=source,
                recorded_at=recorded(end + dt.timedelta(days=3)),
            )
        )
    return Measurement.objects.bulk_create(rows)


def better(direction: str, value: float, by: float) -> float:
    return value + by if direction == Direction.INCREASE else value - by


# --- forums -------------------------------------------------------------------------------


@dataclass
class Meeting:
    """What happened at one session: its status, who came, what was on the agenda."""

    status: str = SessionStatus.HELD
    present: Iterable[Person] = ()
    delegates: dict[int, Person] = field(default_factory=dict)  # absent person id → who came instead
    agenda: list[tuple[str, str, dict]] = field(default_factory=list)  # (title, outcome, extra fields)
    notes: str = ""


def schedule(start: dt.date, cadence_days: int, until: dt.date) -> list[dt.date]:
    """Meeting dates from `start` every cadence (calendar months for monthly and quarterly)."""
    out, day, i = [], start, 0
    while day <= until:
        out.append(day)
        i += 1
        if cadence_days in (30, 91):
            day = add_months(start, i * (1 if cadence_days == 30 else 3))
        else:
            day = start + dt.timedelta(days=i * cadence_days)
    return out


def hold_sessions(
    forum: Forum, dates: list[dt.date], story: Callable[[int, dt.date], Meeting], members: list[Person]
) -> list[ForumSession]:
    """Write the sessions of `forum` on `dates`, each as `story(index, date)` tells it, in bulk."""
    meetings = [story(i, day) for i, day in enumerate(dates)]
    organization_id = forum.program.organization_id
    sessions = ForumSession.objects.bulk_create(
        ForumSession(
            forum=forum, organization_id=organization_id, scheduled_for=at(day), status=m.status, notes=m.notes
        )
        for day, m in zip(dates, meetings, strict=True)
    )
    attendance, agenda = [], []
    for session, meeting in zip(sessions, meetings, strict=True):
        if meeting.status != SessionStatus.HELD:
            continue
        present = {p.pk for p in meeting.present}
        for person in members:
            attendance.append(
                Attendance(
                    session=session,
                    organization_id=organization_id,
                    person=person,
                    present=person.pk in present,
                    delegate=meeting.delegates.get(person.pk),
                )
            )
        for title, outcome, extra in meeting.agenda:
            agenda.append(
                AgendaItem(
                    session=session,
                    organization_id=organization_id,
                    title=title,
                    outcome=outcome,
                    **extra,
                )
            )
    Attendance.objects.bulk_create(attendance)
    AgendaItem.objects.bulk_create(agenda)
    return sessions


def discussed(title: str, **extra) -> tuple[str, str, dict]:
    return (title, AgendaOutcome.DISCUSSED, extra)


def deferred(title: str, **extra) -> tuple[str, str, dict]:
    return (title, AgendaOutcome.DEFERRED, extra)


def dropped(title: str, **extra) -> tuple[str, str, dict]:
    return (title, AgendaOutcome.DROPPED, extra)
