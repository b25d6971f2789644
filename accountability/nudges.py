"""Nudges before flags (SPEC section 4): each rule asked "how many days until you fire?".

A nudge names a person, a subject, the day something is due (the last day before the
rule would fire), and a link to the form that does it. The days come from the detectors'
own threshold functions, so a nudge and its flag can never disagree:

| nudge | rule and its function | due on | lead (settings) | to |
|---|---|---|---|---|
| `metric_stale` | `metrics.freshness.stale_due_on` | last day not stale | 5 | the metric's owner (else champion) |
| `initiative_stalled` | `selectors.stall_due_on` | last day not stalled | 7 | the initiative's owner |
| `action_due` | `action_overdue` (due_on passed) | the action's due_on | 3 | the action's owner |
| `forum_lapsed` | `detectors.forums.lapse_due_on`; no session scheduled | last day not lapsed | 14 | the chair |
| `attendance_missing` | held in the last 2 days, no attendance | the session's day | 2 | the chair |

(a forum without a chair: its program's champion, as for the forum flags.)

When a nudge is due on `as_of`, by its lead days N:
- metric_stale, initiative_stalled, forum_lapsed ("will be <flag> within N days"): the flag
  would fire within N days, 1 ≤ (due on + 1 − as_of) ≤ N, i.e. 0 ≤ (due on − as_of) ≤ N − 1
  (`flag_fires_within`); not before, and not once the flag has fired;
- action_due ("due within N days"): 0 ≤ (the action's due_on − as_of) ≤ N;
- attendance_missing ("held in the last N days"): held in the N-day window ending on `as_of`.
Only active people with an email are nudged. `nudges_due` computes the organization's (with
the scan, same `as_of`); `nudges_for_person` one person's (My items). Reads only: the scan
announces them (`events.nudges_found`) and `notifications` writes and sends them, once each.
"""

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.urls import reverse

from metrics.freshness import metric_freshness, stale_due_on
from programs.dates import day_start, end_of, local_date, window_start
from programs.models import Organization, Person

from .choices import ActionStatus, SessionStatus, SubjectType
from .detectors.common import metric_owner, scope_q
from .detectors.forums import forum_owner, lapse_due_on, lapse_rows
from .models import ActionItem, Attendance, ForumSession
from .selectors import in_flight_initiatives, stall_due_on

METRIC_STALE, INITIATIVE_STALLED, ACTION_DUE = "metric_stale", "initiative_stalled", "action_due"
FORUM_LAPSED, ATTENDANCE_MISSING = "forum_lapsed", "attendance_missing"
NUDGE_KINDS = (METRIC_STALE, INITIATIVE_STALLED, ACTION_DUE, FORUM_LAPSED, ATTENDANCE_MISSING)
# What each nudge asks for, in the email and on My items.
ASKS = {
    METRIC_STALE: "Record the next measurement of metric",
    INITIATIVE_STALLED: "Post a progress update on initiative",
    ACTION_DUE: "Complete action",
    FORUM_LAPSED: "Schedule the next session of forum",
    ATTENDANCE_MISSING: "Record who attended the session of",
}


@dataclass(frozen=True)
class Nudge:
    kind: str  # one of NUDGE_KINDS
    organization_id: int
    program_id: int
    subject_type: str  # a SubjectType value (a session: "session")
    subject_id: int
    subject: str  # its name, for the message
    person_id: int
    due_on: dt.date
    url: str  # the form that does it, absolute

    @property
    def ask(self) -> str:
        return f"{ASKS[self.kind]} '{self.subject}'"

    @property
    def key(self) -> str:
        """One per subject and due date: what keeps a nudge from being sent twice."""
        return f"{self.kind}:{self.subject_type}:{self.subject_id}:{self.due_on.isoformat()}"

    def days_left(self, as_of: dt.date) -> int:
        return (self.due_on - as_of).days


def lead_days() -> dict[str, int]:
    return {kind: int(settings.CXGOV_NUDGE_LEAD_DAYS[kind]) for kind in NUDGE_KINDS}


def _url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def flag_fires_within(due_on: dt.date, as_of: dt.date, lead: int) -> bool:
    """Whether a flag whose rule is clear until `due_on` (the last day before it fires; it
    fires on due_on + 1) will fire within `lead` days of `as_of` but has not fired yet:
    1 ≤ (due_on + 1 − as_of) ≤ lead. SPEC §4 "will be <flag> within N days": with lead 5,
    a flag firing in 5 days (due_on = as_of + 4) is nudged, one firing in 6 days is not."""
    fires_in = (due_on - as_of).days + 1
    return 1 <= fires_in <= lead


def _metrics(org, as_of, program_ids, lead) -> list[Nudge]:
    add = reverse("admin:metrics_measurement_add")
    return [
        Nudge(
            METRIC_STALE,
            org.pk,
            row["program_id"],
            SubjectType.METRIC,
            row["id"],
            row["name"],
            metric_owner(row),
            due,
            _url(f"{add}?metric={row['id']}&period_end={due.isoformat()}"),
        )
        for row in metric_freshness(
            as_of=as_of, where=scope_q(org, program_ids), fields=("owner__active", "program__customer_champion_id")
        )
        if flag_fires_within(due := stale_due_on(row["anchor"], row["reporting_cadence"]), as_of, lead)
    ]


def _initiatives(org, as_of, program_ids, lead) -> list[Nudge]:
    add = reverse("admin:programs_progressupdate_add")
    return [
        Nudge(
            INITIATIVE_STALLED,
            org.pk,
            row["program_id"],
            SubjectType.INITIATIVE,
            row["id"],
            row["name"],
            row["owner_id"],
            due,
            _url(f"{add}?initiative={row['id']}&reported_on={as_of.isoformat()}"),
        )
        for row in in_flight_initiatives(as_of=as_of, where=scope_q(org, program_ids))
        if row["last_activity_on"] is not None
        and flag_fires_within(
            due := stall_due_on(row["last_activity_on"], row["program__stall_after_days"]), as_of, lead
        )
    ]


def _actions(org, as_of, program_ids, lead) -> list[Nudge]:
    rows = (
        ActionItem.objects.filter(
            scope_q(org, program_ids),
            status=ActionStatus.OPEN,
            due_on__gte=as_of,
            due_on__lte=as_of + dt.timedelta(days=lead),
        )
        .order_by("id")
        .values("id", "description", "program_id", "owner_id", "due_on")
    )
    return [
        Nudge(
            ACTION_DUE,
            org.pk,
            row["program_id"],
            SubjectType.ACTION_ITEM,
            row["id"],
            row["description"][:80],
            row["owner_id"],
            row["due_on"],
            _url(reverse("admin:accountability_actionitem_change", args=[row["id"]])),
        )
        for row in rows
    ]


def _forums(org, as_of, program_ids, lead) -> list[Nudge]:
    add = reverse("admin:accountability_forumsession_add")
    due = {
        row["id"]: (row, day)
        for row in lapse_rows(org, as_of, program_ids)
        if flag_fires_within(day := lapse_due_on(row["anchor"], row["cadence"]), as_of, lead)
    }
    if not due:
        return []
    scheduled = set(
        ForumSession.objects.filter(
            forum_id__in=list(due), status=SessionStatus.SCHEDULED, scheduled_for__gte=day_start(as_of)
        ).values_list("forum_id", flat=True)
    )
    return [
        Nudge(
            FORUM_LAPSED,
            org.pk,
            row["program_id"],
            SubjectType.FORUM,
            pk,
            row["name"],
            forum_owner(row),
            day,
            _url(f"{add}?forum={pk}"),
        )
        for pk, (row, day) in due.items()
        if pk not in scheduled
    ]


def _attendance(org, as_of, program_ids, lead) -> list[Nudge]:
    rows = (
        ForumSession.objects.filter(
            scope_q(org, program_ids, prefix="forum__program__"),
            status=SessionStatus.HELD,
            scheduled_for__gte=day_start(window_start(as_of, lead)),
            scheduled_for__lt=end_of(as_of),
        )
        .filter(~Exists(Attendance.objects.filter(session_id=OuterRef("pk"))))
        .order_by("id")
        .values(
            "id",
            "scheduled_for",
            "forum__name",
            "forum__program_id",
            "forum__chair_id",
            "forum__program__customer_champion_id",
        )
    )
    return [
        Nudge(
            ATTENDANCE_MISSING,
            org.pk,
            row["forum__program_id"],
            "session",
            row["id"],
            f"{row['forum__name']} on {local_date(row['scheduled_for']):%-d %b %Y}",
            forum_owner(row, "forum__"),
            local_date(row["scheduled_for"]),
            _url(f"/dashboard/sessions/{row['id']}/record/"),
        )
        for row in rows
    ]


_RULES = {
    METRIC_STALE: _metrics,
    INITIATIVE_STALLED: _initiatives,
    ACTION_DUE: _actions,
    FORUM_LAPSED: _forums,
    ATTENDANCE_MISSING: _attendance,
}


def nudges_due(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Nudge]:
    """Every nudge due on `as_of` in `organization`'s scanned programs (narrowed to
    `program_ids`), to active people with an email, ordered by person, due date, kind.
    A fixed number of queries (seven) whatever the organization's size."""
    leads = lead_days()
    found = [n for kind, rule in _RULES.items() for n in rule(organization, as_of, program_ids, leads[kind])]
    reachable = set(
        Person.objects.filter(pk__in={n.person_id for n in found if n.person_id}, active=True)
        .exclude(email="")
        .values_list("pk", flat=True)
    )
    found = [n for n in found if n.person_id in reachable]
    return sorted(found, key=lambda n: (n.person_id, n.due_on, NUDGE_KINDS.index(n.kind), n.subject_id))


def nudges_for_person(*, person: Person, as_of: dt.date) -> list[Nudge]:
    """One person's nudges due on `as_of` (My items): the organization's, kept to theirs."""
    if not person.active or not person.email:
        return []
    return [n for n in nudges_due(organization=person.organization, as_of=as_of) if n.person_id == person.pk]
