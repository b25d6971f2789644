"""Forum detectors and the forum facts the risk assessment reuses.

Forum detectors look at active forums only: a forum switched off is no longer a place
where anyone is held to account (readiness separately demands at least one active forum).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef, Q

from programs.models import Organization, Program

from ..choices import SessionStatus
from ..models import Attendance, Forum, ForumSession
from .common import day_start, iso, local_date, scope_q

SPONSOR_WINDOW_DAYS = 180
CANCELLED_STATUSES = (SessionStatus.CANCELLED, SessionStatus.POSTPONED)


@dataclass(frozen=True)
class SponsorPresence:
    """Held sessions of the sponsor's forums in the window, and how many the sponsor attended in person."""

    held: int
    present: int
    sessions: list[dict] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        return None if self.held == 0 else self.present / self.held


def _window_bounds(as_of: dt.date, days: int) -> tuple[dt.datetime, dt.datetime]:
    """Date-times whose date d satisfies as_of - days < d <= as_of."""
    return day_start(as_of - dt.timedelta(days=days - 1)), day_start(as_of + dt.timedelta(days=1))


def _scanned_program_ids(organization: Organization, program_ids: Collection[int] | None) -> list[int]:
    return list(Program.objects.filter(scope_q(organization, program_ids, prefix="")).values_list("id", flat=True))


def sponsor_presence(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> dict[int, SponsorPresence]:
    """Per scanned program: the sponsor's in-person presence over the last 180 days.

    Counts held sessions dated in (as_of - 180, as_of] of the program's forums (active or
    not) where the program's executive sponsor is the chair or a member; the sponsor is
    present when their Attendance row says `present` (a delegate does not count). Every
    scanned program in scope has an entry (held 0 without a sponsor or sessions).
    Two queries, read-only.
    """
    start, end = _window_bounds(as_of, SPONSOR_WINDOW_DAYS)
    sponsor = OuterRef("forum__program__executive_sponsor_id")
    is_member = Exists(Forum.members.through.objects.filter(forum_id=OuterRef("forum_id"), person_id=sponsor))
    present = Exists(Attendance.objects.filter(session_id=OuterRef("pk"), person_id=sponsor, present=True))
    rows = (
        ForumSession.objects.filter(
            scope_q(organization, program_ids, prefix="forum__program__"),
            status=SessionStatus.HELD,
            scheduled_for__gte=start,
            scheduled_for__lt=end,
            forum__program__executive_sponsor__isnull=False,
        )
        .annotate(is_member=is_member, sponsor_present=present)
        .filter(Q(forum__chair_id=F("forum__program__executive_sponsor_id")) | Q(is_member=True))
        .order_by("scheduled_for", "id")
        .values("id", "scheduled_for", "status", "forum_id", "forum__name", "forum__program_id", "sponsor_present")
    )
    sessions: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        sessions[row["forum__program_id"]].append(
            {
                "id": row["id"],
                "date": iso(local_date(row["scheduled_for"])),
                "status": row["status"],
                "forum_id": row["forum_id"],
                "forum": row["forum__name"],
                "present": bool(row["sponsor_present"]),
            }
        )
    out = {}
    for program_id in _scanned_program_ids(organization, program_ids):
        items = sessions.get(program_id, [])
        out[program_id] = SponsorPresence(
            held=len(items), present=sum(1 for s in items if s["present"]), sessions=items
        )
    return out


def session_cancellation(
    *, organization: Organization, as_of: dt.date, days: int = 90, program_ids: Collection[int] | None = None
) -> dict[int, tuple[int, int]]:
    """Per scanned program: (cancelled or postponed, scheduled) sessions dated in (as_of - days, as_of].

    `scheduled` counts every session in the window whatever its status. Every scanned
    program in scope has an entry ((0, 0) without sessions). Two queries, read-only.
    """
    start, end = _window_bounds(as_of, days)
    rows = (
        ForumSession.objects.filter(
            scope_q(organization, program_ids, prefix="forum__program__"),
            scheduled_for__gte=start,
            scheduled_for__lt=end,
        )
        .values("forum__program_id")
        .annotate(total=Count("id"), cancelled=Count("id", filter=Q(status__in=CANCELLED_STATUSES)))
        .order_by()
    )
    counts = {row["forum__program_id"]: (row["cancelled"], row["total"]) for row in rows}
    return {pid: counts.get(pid, (0, 0)) for pid in _scanned_program_ids(organization, program_ids)}
