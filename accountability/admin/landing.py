"""The admin's landing page: what needs the program office today (SPEC §5, Admin).

Counts of the caller's organizations with links to the lists that show them: live flags
by severity and by escalation level, held sessions without attendance, programs not
ready to be (or stay) live (nudges outstanding come from `notifications`' template tag
`nudge_admin`). A fixed number of queries (three),
whatever the number of flags, sessions or programs.
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib import admin
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse

from programs.admin.programs import not_ready_q
from programs.dates import end_of
from programs.models import Program

from ..choices import EscalationLevel, SessionStatus, Severity
from ..models import Attendance, Flag, ForumSession


@dataclass(frozen=True)
class Tally:
    label: str
    count: int
    url: str


@dataclass(frozen=True)
class OfficeToday:
    flags_by_severity: list[Tally]
    flags_by_level: list[Tally]
    live_flags: int
    sessions_without_attendance: Tally
    programs_not_ready: Tally


def held_without_attendance_q(as_of: dt.date) -> Q:
    """Sessions marked held on or before `as_of` that have no attendance row at all."""
    recorded = Attendance.objects.filter(session=OuterRef("pk"))
    return Q(status=SessionStatus.HELD, scheduled_for__lt=end_of(as_of)) & ~Q(Exists(recorded))


class AttendanceRecordedFilter(admin.SimpleListFilter):
    """Sessions list: "held, attendance not recorded" (the landing page links here)."""

    title = "attendance"
    parameter_name = "attendance"

    def lookups(self, request, model_admin):
        return (("missing", "Held, attendance not recorded"),)

    def queryset(self, request, queryset):
        from django.utils import timezone

        if self.value() == "missing":
            return queryset.filter(held_without_attendance_q(timezone.localdate()))
        return queryset


def office_today(user, *, as_of: dt.date) -> OfficeToday:
    flags = reverse("admin:accountability_flag_changelist")
    rows = (
        Flag.objects.for_user(user)
        .live()
        .order_by()
        .values_list("severity", "escalation_level")
        .annotate(n=Count("id"))
    )
    by_severity = dict.fromkeys(Severity.values, 0)
    by_level = dict.fromkeys(EscalationLevel.values, 0)
    for severity, level, n in rows:
        by_severity[severity] += n
        by_level[level] += n
    sessions = ForumSession.objects.for_user(user).filter(held_without_attendance_q(as_of)).count()
    programs = Program.objects.for_user(user).with_readiness().filter(not_ready_q()).count()
    return OfficeToday(
        flags_by_severity=[
            Tally(Severity(s).label, by_severity[s], f"{flags}?severity__exact={s}") for s in reversed(Severity.values)
        ],
        flags_by_level=[
            Tally(EscalationLevel(level).label, by_level[level], f"{flags}?escalation_level__exact={level}")
            for level in reversed(EscalationLevel.values)
        ],
        live_flags=sum(by_severity.values()),
        sessions_without_attendance=Tally(
            "Held sessions without attendance",
            sessions,
            reverse("admin:accountability_forumsession_changelist") + "?attendance=missing",
        ),
        programs_not_ready=Tally(
            "Programs not ready (draft, active or paused)",
            programs,
            reverse("admin:programs_program_changelist") + "?ready=no",
        ),
    )
