"""Nudge emails: the nudges a scan found due (`accountability.nudges`), each told once,
grouped into one email per person and day.

- Each (nudge key, person) is told once: a `Nudge` row records it, unique in the database.
- A person gets at most one nudge email a day (key `nudges:<person id>:<as_of>`): the
  nudges of a second scan that day for somebody already emailed wait for the next day's
  scan (most are still within their lead days; the email lists everything due then).
- Written in the scan's transaction (the outbox), sent after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from programs.models import Person

from .mail import Email, recipients_of, write
from .models import Notification, Nudge


def nudge_email_key(person_id: int, as_of: dt.date) -> str:
    return f"nudges:{person_id}:{as_of.isoformat()}"


def write_nudges(nudges: Sequence, as_of: dt.date) -> list[int]:
    """Write the day's grouped nudge email of each person with a nudge not told before,
    and record those nudges. Six queries whatever the number. Returns the emails queued."""
    if not nudges:
        return []
    told = set(
        Nudge.objects.filter(key__in={n.key for n in nudges}, person_id__in={n.person_id for n in nudges}).values_list(
            "key", "person_id"
        )
    )
    fresh: dict[int, list] = {}
    for nudge in nudges:
        if (nudge.key, nudge.person_id) not in told:
            fresh.setdefault(nudge.person_id, []).append(nudge)
    if not fresh:
        return []
    emailed_today = {
        int(key.split(":")[1])
        for key in Notification.objects.filter(key__in=[nudge_email_key(pid, as_of) for pid in fresh]).values_list(
            "key", flat=True
        )
    }
    people = Person.objects.in_bulk([pid for pid in fresh if pid not in emailed_today])
    emails, records = [], []
    for person_id, items in fresh.items():
        person = people.get(person_id)
        if person is None:
            continue
        items = sorted(items, key=lambda n: (n.due_on, n.kind))
        emails.append(
            Email(
                organization_id=items[0].organization_id,
                key=nudge_email_key(person_id, as_of),
                subject=_subject(items, as_of),
                recipients=recipients_of(person),
                template="nudges",
                context={"person": person, "as_of": as_of, "items": [_item(n, as_of) for n in items]},
            )
        )
        records += [
            Nudge(
                organization_id=n.organization_id,
                person_id=person_id,
                key=n.key,
                kind=n.kind,
                due_on=n.due_on,
                sent_on=as_of,
            )
            for n in items
        ]
    queued = write(emails)
    Nudge.objects.bulk_create(records, ignore_conflicts=True, batch_size=500)
    return queued


def _when(days: int) -> str:
    return "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"


def _item(nudge, as_of: dt.date) -> dict:
    days = nudge.days_left(as_of)
    due = "held" if nudge.kind == "attendance_missing" else f"due {_when(days)}"
    return {"ask": nudge.ask, "due_on": nudge.due_on, "due": due, "url": nudge.url, "kind": nudge.kind}


def _subject(items: list, as_of: dt.date) -> str:
    if len(items) == 1:
        return f"[cxgov] Reminder: {items[0].ask}"
    return f"[cxgov] {len(items)} reminders: the first due {_when(items[0].days_left(as_of))}"
