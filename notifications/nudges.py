"""The day's email: the nudges a scan found due (`accountability.nudges`), each told once,
and the day's low and medium flags for people who chose a daily digest
(`Person.low_medium_emails`), grouped into one email per person and day.

- Each (nudge key, person) is told once: a `Nudge` row records it, unique in the database.
- A person gets at most one nudge email a day (key `nudges:<person id>:<as_of>`): the
  nudges of a second scan that day for somebody already emailed wait for the next day's
  scan (most are still within their lead days; the email lists everything due then).
- Written in the scan's transaction (the outbox), sent after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Q

from accountability.choices import LIVE_FLAG_STATUSES, Severity
from accountability.models import Flag
from programs.choices import AlertPreference
from programs.models import Person

from .mail import Email, recipients_of, write
from .models import Notification, Nudge
from .webhooks import dashboard_url

DIGESTED_SEVERITIES = (Severity.LOW, Severity.MEDIUM)


def nudge_email_key(person_id: int, as_of: dt.date) -> str:
    return f"nudges:{person_id}:{as_of.isoformat()}"


def digest_flags(organization_id: int, as_of: dt.date) -> dict[int, list[Flag]]:
    """Person id → the low and medium flags first found on `as_of` that they own or
    champion, for active people with an email who chose the daily digest. One query."""
    daily = AlertPreference.DAILY
    flags = (
        Flag.objects.filter(
            organization_id=organization_id,
            first_detected_on=as_of,
            status__in=LIVE_FLAG_STATUSES,
            severity__in=DIGESTED_SEVERITIES,
        )
        .filter(Q(owner__low_medium_emails=daily) | Q(program__customer_champion__low_medium_emails=daily))
        .select_related("owner", "program__customer_champion")
        .order_by("id")
    )
    by_person: dict[int, list[Flag]] = {}
    for flag in flags:
        for person in {p.pk: p for p in (flag.owner, flag.program.customer_champion) if p}.values():
            if person.low_medium_emails == daily and person.active and person.email:
                by_person.setdefault(person.pk, []).append(flag)
    return by_person


def write_daily(organization_id: int, nudges: Sequence, as_of: dt.date) -> list[int]:
    """Write the day's email of each person with a nudge not told before or a flag for the
    daily digest, and record those nudges. Seven queries whatever the number. Returns the
    emails queued."""
    flags = digest_flags(organization_id, as_of)
    if not nudges and not flags:
        return []
    told = set(
        Nudge.objects.filter(key__in={n.key for n in nudges}, person_id__in={n.person_id for n in nudges}).values_list(
            "key", "person_id"
        )
    )
    fresh: dict[int, list] = {person_id: [] for person_id in flags}
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
        new_flags = [{"flag": f, "url": dashboard_url(f.program_id, f.id)} for f in flags.get(person_id, [])]
        emails.append(
            Email(
                organization_id=organization_id,
                key=nudge_email_key(person_id, as_of),
                subject=_subject(items, len(new_flags), as_of),
                recipients=recipients_of(person),
                template="nudges",
                context={
                    "person": person,
                    "as_of": as_of,
                    "items": [_item(n, as_of) for n in items],
                    "flags": new_flags,
                },
            )
        )
        records += [
            Nudge(
                organization_id=organization_id,
                person_id=person_id,
                key=n.key,
                kind=n.kind,
                asked=n.ask[:400],
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


def _subject(items: list, flag_count: int, as_of: dt.date) -> str:
    flags = f"{flag_count} new flag{'s' if flag_count != 1 else ''}"
    if not items:
        return f"[cxgov] Daily digest: {flags}"
    if len(items) == 1:
        reminders = f"Reminder: {items[0].ask}"
    else:
        reminders = f"{len(items)} reminders: the first due {_when(items[0].days_left(as_of))}"
    return f"[cxgov] {reminders}" + (f"; {flags}" if flag_count else "")
