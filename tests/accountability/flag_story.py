"""A flag's story told by real scans of past days, for the as-of tests of the selectors, the
dashboard, the API and the board packs (SPEC §2: a flag's severity and status as of D).

Two initiatives of one program, owned by Olive (who reports to Max), scanned on D0, D0+7,
D0+14, D0+31 and D0+40 (`scan_organization` with each as_of, oldest first):

- "Late", due the day before D0: `initiative_overdue` raises it medium on D0 ("1 days
  overdue"), refreshes it medium up to D0+14 ("15 days overdue"), and high from D0+31
  ("32 days overdue", more than 30 days), "41 days overdue" on D0+40;
- "Long", due 40 days before D0: high from D0, so the ladder takes it to Olive's manager
  on D0+7 (level 1) and to the sponsor on D0+14 (level 2); no board contact, so no level 3.
"""

import datetime as dt

from django.utils import timezone

from accountability.choices import FlagKind, SubjectType
from accountability.models import Flag
from accountability.scans import scan_organization
from tests.factories import InitiativeFactory, PersonFactory, ProgramFactory

TODAY = timezone.localdate()
D0 = TODAY - dt.timedelta(days=70)
SCANS = [D0 + dt.timedelta(days=n) for n in (0, 7, 14, 31, 40)]
BETWEEN = D0 + dt.timedelta(days=20)  # after the D0+14 scan (medium), before the D0+31 one (high)
AFTER = D0 + dt.timedelta(days=35)  # after the D0+31 scan, before the D0+40 one
LEVEL_1_ON = D0 + dt.timedelta(days=7)
LEVEL_2_ON = D0 + dt.timedelta(days=14)


def late_title(name: str, days: int) -> str:
    return f"Initiative '{name}' is {days} days overdue"


def build_story(organization, *, name: str = "Story") -> dict:
    manager = PersonFactory(organization=organization, name="Max Manager")
    owner = PersonFactory(organization=organization, name="Olive Owner", reports_to=manager)
    program = ProgramFactory(organization=organization, name=f"{name} program")
    late = InitiativeFactory(program=program, owner=owner, name=f"Late {name}", due_on=D0 - dt.timedelta(days=1))
    long = InitiativeFactory(program=program, owner=owner, name=f"Long {name}", due_on=D0 - dt.timedelta(days=40))
    for day in SCANS:
        scan_organization(organization=organization, as_of=day)

    def flag_of(initiative) -> Flag:
        return Flag.objects.get(
            kind=FlagKind.INITIATIVE_OVERDUE, subject_type=SubjectType.INITIATIVE, subject_id=initiative.pk
        )

    return {
        "program": program,
        "owner": owner,
        "manager": manager,
        "late": late,
        "long": long,
        "late_flag": flag_of(late),
        "long_flag": flag_of(long),
    }
