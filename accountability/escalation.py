"""The escalation ladder (SPEC section 4): an open high or critical flag nobody acts on
climbs to people who can make someone act.

Levels: 0 the owner, 1 the owner's manager (`reports_to`), 2 the program's sponsor, 3 the
organization's board contact. A flag is due at level 1, 2, 3 once it has been open
`CXGOV_ESCALATION_DAYS` (7, 14, 21) days, counted from its first detection to the scan's
`as_of` (a flag first found on 1 June is due at level 1 on 8 June).

Decisions where the spec is silent (docs/escalation.md):
- A level with nobody is skipped: no manager, an inactive person, or somebody already
  told (the owner, or a lower level's person: the sponsor who owns a flag about
  themselves). The flag then waits, at the level it has, until the next level with
  somebody is due; it never jumps ahead of the days.
- Only `open` flags climb: acknowledging stops the climb (and the level stays where it
  was); a flag resolved or dismissed has no ladder.
- A flag only climbs, never comes down, and one scan moves it at most to the level due
  that day (skipping the empty ones), so re-running a scan changes nothing.
- `escalated_at` is the time of the scan when it runs for today; for a scan of another
  date, the start of that day (the ladder's day is the scan's `as_of`, like a flag's
  detection days).
"""

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from programs.changelog import bulk_history
from programs.dates import day_start, local_date
from programs.models import Organization, Person

from . import events
from .choices import EscalationLevel, FlagStatus, Severity
from .models import Flag

ESCALATED_SEVERITIES = (Severity.HIGH, Severity.CRITICAL)
# How messages and pages name who a level reaches.
LADDER_ROLES = {
    EscalationLevel.OWNER: "the owner",
    EscalationLevel.MANAGER: "the owner's manager",
    EscalationLevel.SPONSOR: "the sponsor",
    EscalationLevel.BOARD: "the board contact",
}
# Where each level's person is, from the flag: the ladder reads them all in its one query,
# and My items asks the database which flags sit at a person's level by the same paths.
LADDER_PATHS = {
    EscalationLevel.MANAGER: "owner__reports_to",
    EscalationLevel.SPONSOR: "program__executive_sponsor",
    EscalationLevel.BOARD: "organization__board_contact",
}
LADDER_RELATED = tuple(LADDER_PATHS.values())


@dataclass(frozen=True)
class Climb:
    """One flag moved up the ladder: from `previous_level` to `level`, whose person is `person`."""

    flag: Flag
    previous_level: int
    level: int
    person: Person


def escalation_days() -> dict[int, int]:
    """Days open after which a flag is due at each level (1, 2, 3), from settings."""
    first, second, third = settings.CXGOV_ESCALATION_DAYS
    return {EscalationLevel.MANAGER: first, EscalationLevel.SPONSOR: second, EscalationLevel.BOARD: third}


def due_level(first_detected_on: dt.date, as_of: dt.date) -> int:
    """The highest level a flag first found on `first_detected_on` is due at on `as_of`."""
    age = (as_of - first_detected_on).days
    due = EscalationLevel.OWNER
    for level, days in escalation_days().items():
        if age >= days:
            due = level
    return int(due)


def ladder_people(flag: Flag) -> dict[int, Person | None]:
    """Who sits at each level of a flag's ladder (None: nobody there), with LADDER_RELATED
    loaded (no query). Levels whose person is inactive, or was already told at a lower
    level (the owner included), are empty: they are skipped."""
    owner = flag.owner
    candidates = {level: _follow(flag, path) for level, path in LADDER_PATHS.items()}
    told = {owner.pk} if owner else set()
    people: dict[int, Person | None] = {}
    for level, person in candidates.items():
        if person is None or not person.active or person.pk in told:
            people[int(level)] = None
            continue
        told.add(person.pk)
        people[int(level)] = person
    return people


def _follow(flag: Flag, path: str):
    """The object at the end of a `LADDER_PATHS` path (None past an empty link: no owner)."""
    obj = flag
    for name in path.split("__"):
        obj = getattr(obj, name) if obj is not None else None
    return obj


def escalated_to(flag: Flag) -> Person | None:
    """The person at a flag's current level (None at level 0, or when that person has gone)."""
    if not flag.escalation_level:
        return None
    return ladder_people(flag).get(flag.escalation_level)


def next_climb(flag: Flag, as_of: dt.date) -> tuple[int, Person] | None:
    """The level an open high/critical flag climbs to on `as_of`, with its person, or None.

    The highest level above the flag's own that is due and has somebody."""
    if flag.status != FlagStatus.OPEN or flag.severity not in ESCALATED_SEVERITIES:
        return None
    due = due_level(flag.first_detected_on, as_of)
    people = ladder_people(flag)
    for level in range(due, flag.escalation_level, -1):
        if people.get(level) is not None:
            return level, people[level]
    return None


def _climb_time(as_of: dt.date) -> dt.datetime:
    now = timezone.now()
    return now if local_date(now) == as_of else day_start(as_of)


@transaction.atomic
def flags_escalate(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Climb]:
    """Move every open high or critical flag of `organization` (narrowed to `program_ids`)
    that is due up the ladder on `as_of`; record each climb on the flag and in its history,
    and announce them (`events.flags_changed(climbed=...)`, inside this transaction: the
    receivers write the email to the new person and the `flag.escalated` deliveries).

    A fixed number of queries whatever the number of flags: one read with every level's
    people, one UPDATE per target level, the history, the events. Safe to re-run: a flag
    already at the level due stays there.
    """
    candidates = Flag.objects.filter(
        organization=organization,
        status=FlagStatus.OPEN,
        severity__in=ESCALATED_SEVERITIES,
        escalation_level__lt=EscalationLevel.BOARD,
        # Not due at any level yet: not worth reading.
        first_detected_on__lte=as_of - dt.timedelta(days=min(escalation_days().values())),
    )
    if program_ids is not None:
        candidates = candidates.filter(program_id__in=list(program_ids))
    climbs: list[Climb] = []
    for flag in candidates.select_related(*LADDER_RELATED).select_for_update(of=("self",)).order_by("id"):
        step = next_climb(flag, as_of)
        if step is None:
            continue
        level, person = step
        climbs.append(Climb(flag=flag, previous_level=flag.escalation_level, level=level, person=person))
    if not climbs:
        return []
    at = _climb_time(as_of)
    by_level: dict[int, list[int]] = {}
    for climb in climbs:
        by_level.setdefault(climb.level, []).append(climb.flag.pk)
    for level, ids in by_level.items():
        # Conditional on the flag still being open below that level: a person acknowledging
        # it at this very moment wins, and the flag does not climb.
        Flag.objects.filter(pk__in=ids, status=FlagStatus.OPEN, escalation_level__lt=level).update(
            escalation_level=level, escalated_at=at
        )
    for climb in climbs:
        climb.flag.escalation_level, climb.flag.escalated_at = climb.level, at
    bulk_history(Flag, [c.flag for c in climbs], update=True, reason=f"escalated by the scan as of {as_of}")
    events.flags_changed(climbed=[(c.flag, c.previous_level, c.person) for c in climbs])
    return climbs
