"""My items (SPEC §5): what a person owns or must act on, as of a day.

Read by the dashboard's `/dashboard/me/` and the API's `GET /api/v1/me/` alike. Each
list reuses the rule that already exists elsewhere, never a copy of it:
- flags they own, open or acknowledged on the day and as they stood then
  (`Flag.objects.open_on`, `with_state_on`), with their escalation level, and the flags
  the escalation ladder has brought to them (they are the person at the flag's level:
  `escalation.escalated_to`), which they must make somebody act on;
- their action items open on the day (`ActionItem.objects.open_on`), overdue ones first;
- metrics they own that are due for a value (`metrics.freshness`: a whole reporting
  period since the latest value; stale, as the `metric_stale` flag says, after two);
- initiatives they own that are due for an update (`update_due`, beside the stall rule
  `stall_severity` it anticipates);
- sessions of forums they chair, held or due in the last 90 days, with no attendance
  recorded (meeting mode records them).
Upcoming nudges come from `accountability.nudges` (`upcoming_nudges`).

A person is one Person row per organization: `people_of(user)` finds them (for an API
key, the people of the key's creator in the key's organization). Six queries whatever
the number of items.
"""

import datetime as dt
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import reduce

from django.db.models import Count, Q

from metrics.freshness import metric_freshness
from programs.dates import end_of, window_start
from programs.models import Person, Program
from programs.money import format_day

from .choices import SEVERITY_RANK, SessionStatus
from .escalation import LADDER_PATHS, LADDER_RELATED, LADDER_ROLES, escalated_to
from .models import ActionItem, Flag, ForumSession
from .nudges import nudges_due
from .selectors import FORUM_WINDOW_DAYS, flag_age_days, in_flight_initiatives, update_due


@dataclass
class MyItems:
    people: list[Person]
    as_of: dt.date
    flags: list[Flag] = field(default_factory=list)
    actions: list[ActionItem] = field(default_factory=list)
    metrics: list[dict] = field(default_factory=list)
    initiatives: list[dict] = field(default_factory=list)
    sessions: list[ForumSession] = field(default_factory=list)
    # Filled by `upcoming_nudges` (the nudges work): messages the person will receive soon.
    nudges: list[dict] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(map(len, (self.flags, self.actions, self.metrics, self.initiatives, self.sessions)))


def people_of(user) -> list[Person]:
    """The caller's Person rows: a user's, in each organization they belong to; for an API
    key, its creator's in the key's organization. [] for anyone else."""
    api_key = getattr(user, "api_key", None)
    if api_key is not None:
        if api_key.created_by_id is None:
            return []
        return list(
            Person.objects.filter(
                user_id=api_key.created_by_id, organization_id=api_key.organization_id
            ).select_related("organization")
        )
    if not getattr(user, "is_authenticated", False):
        return []
    people = Person.objects.filter(user=user).select_related("organization")
    if not user.is_superuser:
        people = people.filter(organization__memberships__user=user)
    return list(people.distinct())


def upcoming_nudges(people: Sequence[Person], as_of: dt.date) -> list[dict]:
    """The nudges these people get on `as_of` (`accountability.nudges`, the rules asked how
    many days until they fire), as the template's block and the API's `nudges` list show
    them: one `nudges_due` per organization, whatever the number of people."""
    mine = {p.pk for p in people if p.active and p.email}
    organizations = {p.organization_id: p.organization for p in people if p.pk in mine}
    due = [
        n for org in organizations.values() for n in nudges_due(organization=org, as_of=as_of) if n.person_id in mine
    ]
    return [
        {
            "kind": n.kind,
            "subject": n.subject,
            "due_on": n.due_on,
            "url": n.url,
            "text": f"{n.ask} by {format_day(n.due_on)}.",
        }
        for n in sorted(due, key=lambda n: (n.due_on, n.subject))
    ]


def my_items(*, people: Sequence[Person], as_of: dt.date) -> MyItems:
    ids = [p.pk for p in people]
    items = MyItems(people=list(people), as_of=as_of)
    if not ids:
        return items
    items.flags = sorted(
        _flags(ids, as_of), key=lambda f: (-SEVERITY_RANK.get(f.severity, 0), -f.escalation_level, f.first_detected_on)
    )
    for f in items.flags:
        f.age_days = flag_age_days(f.first_detected_on, as_of)
    items.actions = list(
        ActionItem.objects.open_on(as_of)
        .filter(owner_id__in=ids)
        .select_related("program", "session__forum")
        .order_by("due_on", "id")
    )
    for a in items.actions:
        a.overdue = a.due_on is not None and a.due_on < as_of
    items.metrics = [
        row
        for row in metric_freshness(as_of=as_of, where=Q(owner_id__in=ids), fields=("program__name", "unit"))
        if row["due"]
    ]
    items.initiatives = [
        row
        for row in in_flight_initiatives(as_of=as_of, where=Q(owner_id__in=ids), names=True)
        if update_due(row["last_activity_on"], row["program__stall_after_days"], as_of)
    ]
    _program_names(items.initiatives)  # one query for the programs' names
    items.sessions = list(
        ForumSession.objects.filter(
            forum__chair_id__in=ids,
            status__in=[SessionStatus.SCHEDULED, SessionStatus.HELD],
            scheduled_for__gte=end_of(window_start(as_of, FORUM_WINDOW_DAYS) - dt.timedelta(days=1)),
            scheduled_for__lt=end_of(as_of),
        )
        .annotate(attendance_rows=Count("attendance"))
        .filter(attendance_rows=0)
        .select_related("forum__program")
        .order_by("scheduled_for", "id")
    )
    items.nudges = upcoming_nudges(people, as_of)
    return items


def _flags(ids: list[int], as_of: dt.date) -> list[Flag]:
    """Flags open at the end of `as_of` (`Flag.objects.open_on`) that one of `ids` owns or that
    the ladder brought to one of them; `reached_you_as` names the level's role on the latter
    ("the board contact"). Each is shown as it stood that day (SPEC §2): its status, severity
    and title then (`with_state_on`, the flags list's rule), no acknowledgement made later.
    Owner and escalation level are the flag's current ones (neither has a dated record).
    The SQL narrows to flags at a level where one of them sits; `escalated_to` (the ladder's
    one rule: inactive people and people already told are skipped) decides. One query."""
    at_their_level = reduce(
        operator.or_, (Q(escalation_level=level, **{f"{path}_id__in": ids}) for level, path in LADDER_PATHS.items())
    )
    flags = []
    for flag in (
        Flag.objects.open_on(as_of)
        .with_state_on(as_of)
        .filter(Q(owner_id__in=ids) | at_their_level)
        .select_related("program", *LADDER_RELATED)
    ):
        # Read-only rows of the page: the day's values stand in for the stored ones.
        flag.status, flag.severity, flag.title = flag.status_on, flag.severity_on, flag.title_on
        if flag.acknowledged_at is not None and flag.acknowledged_at >= end_of(as_of):
            flag.acknowledged_at = flag.acknowledged_by_id = flag.acknowledged_by_key_id = None
        flag.reached_you_as = None
        if flag.owner_id not in ids:
            person = escalated_to(flag)
            if person is None or person.pk not in ids:
                continue
            flag.reached_you_as = LADDER_ROLES[flag.escalation_level]
        flags.append(flag)
    return flags


def _program_names(rows: list[dict]) -> None:
    names = dict(Program.objects.filter(pk__in={r["program_id"] for r in rows}).values_list("id", "name"))
    for row in rows:
        row["program__name"] = names.get(row["program_id"])
