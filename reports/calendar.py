"""Calendar feeds (RFC 5545) of forum sessions, built with the `icalendar` library.

- A person's feed: the sessions, from `CALENDAR_DAYS_BACK` days before `as_of` onward, of
  every forum of the person's organization that they chair or belong to.
- The organization's feed (for the program office): every session of the organization in
  the same window.

What makes calendar clients update events in place (SPEC §5, Calendars):
- `UID` is `session-<id>@cxgov`: stable for the life of the session, whatever changes;
- `SEQUENCE` counts the changes a client must notice, derived from the session's history
  (simple-history snapshots): each time its start moved, or it went from live to
  cancelled/postponed or back. A session with no history (bulk-loaded) is at 0;
- `DTSTAMP` (and `LAST-MODIFIED`) is when the session was last revised in our store (its
  latest snapshot), as RFC 5545 §3.8.7.2 asks of a feed without `METHOD`;
- cancelled and postponed sessions stay in the feed with `STATUS:CANCELLED`, so clients
  strike them out rather than keep a stale event.
Times are UTC. Four queries whatever the number of forums, sessions or agenda items.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from icalendar import Calendar, Event

from accountability.choices import SessionStatus
from accountability.models import AgendaItem, ForumSession
from programs.dates import day_start
from programs.models import Organization, Person

CALENDAR_DAYS_BACK = 90
CANCELLED_STATUSES = {SessionStatus.CANCELLED, SessionStatus.POSTPONED}
PRODID = "-//cxgov//Forum sessions//EN"


def session_uid(session_id: int) -> str:
    return f"session-{session_id}@cxgov"


def meeting_mode_url(session_id: int) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/dashboard/sessions/{session_id}/record/"


def _window_start(as_of: dt.date) -> dt.datetime:
    return day_start(as_of - dt.timedelta(days=CALENDAR_DAYS_BACK))


def person_sessions(person: Person, as_of: dt.date) -> QuerySet[ForumSession]:
    """Sessions of the forums `person` chairs or belongs to, in their own organization only."""
    forums = Q(forum__chair=person) | Q(forum__members=person)
    return (
        ForumSession.objects.filter(forums, forum__program__organization_id=person.organization_id)
        .filter(scheduled_for__gte=_window_start(as_of))
        .distinct()
    )


def organization_sessions(organization_id: int, as_of: dt.date) -> QuerySet[ForumSession]:
    return ForumSession.objects.filter(
        forum__program__organization_id=organization_id, scheduled_for__gte=_window_start(as_of)
    )


def _revisions(session_ids: list[int]) -> dict[int, tuple[int, dt.datetime | None]]:
    """session id → (SEQUENCE, last revised at), from the sessions' snapshots: one query."""
    rows = (
        ForumSession.history.filter(id__in=session_ids)
        .order_by("id", "history_date", "history_id")
        .values_list("id", "scheduled_for", "status", "history_date")
    )
    result: dict[int, tuple[int, dt.datetime | None]] = {}
    previous: dict[int, tuple] = {}
    for session_id, scheduled_for, status, at in rows:
        state = (scheduled_for, status in CANCELLED_STATUSES)
        sequence, _ = result.get(session_id, (0, None))
        if session_id in previous and previous[session_id] != state:
            sequence += 1
        previous[session_id] = state
        result[session_id] = (sequence, at)
    return result


def _agendas(session_ids: list[int]) -> dict[int, list[str]]:
    agendas: dict[int, list[str]] = defaultdict(list)
    for session_id, title in (
        AgendaItem.objects.filter(session_id__in=session_ids).order_by("id").values_list("session_id", "title")
    ):
        agendas[session_id].append(title)
    return agendas


def _description(session: ForumSession, agenda: list[str], url: str) -> str:
    lines = [f"Program: {session.forum.program.name}", f"Status: {SessionStatus(session.status).label}"]
    if agenda:
        lines += ["", "Agenda:"] + [f"- {title}" for title in agenda]
    else:
        lines += ["", "No agenda items yet."]
    lines += ["", f"Meeting mode (record the session): {url}"]
    return "\n".join(lines)


def build_calendar(name: str, sessions: Iterable[ForumSession], *, now: dt.datetime | None = None) -> bytes:
    """The iCalendar file of `sessions` (a queryset, evaluated here with its forum and program)."""
    now = now or timezone.now()
    sessions = list(sessions.select_related("forum__program").order_by("scheduled_for", "id"))
    ids = [s.id for s in sessions]
    revisions = _revisions(ids)
    agendas = _agendas(ids)
    duration = dt.timedelta(minutes=settings.CALENDAR_SESSION_MINUTES)

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for s in sessions:
        sequence, revised_at = revisions.get(s.id, (0, None))
        start = s.scheduled_for.astimezone(dt.UTC)
        stamp = (revised_at or now).astimezone(dt.UTC)
        url = meeting_mode_url(s.id)
        event = Event()
        event.add("uid", session_uid(s.id))
        event.add("dtstamp", stamp)
        event.add("last-modified", stamp)
        event.add("sequence", sequence)
        event.add("dtstart", start)
        event.add("dtend", start + duration)
        event.add("summary", f"{s.forum.name} · {s.forum.program.name}")
        event.add("status", "CANCELLED" if s.status in CANCELLED_STATUSES else "CONFIRMED")
        event.add("description", _description(s, agendas.get(s.id, []), url))
        event.add("url", url)
        event.add("categories", [s.forum.program.name])
        cal.add_component(event)
    return cal.to_ical()


def person_feed(person: Person, as_of: dt.date) -> bytes:
    return build_calendar(f"cxgov: {person.name}", person_sessions(person, as_of))


def organization_feed(organization: Organization, as_of: dt.date) -> bytes:
    return build_calendar(f"cxgov: {organization.name}", organization_sessions(organization.id, as_of))
