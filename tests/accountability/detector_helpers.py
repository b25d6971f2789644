"""Shared builders for the detector tests: dates around one as_of, a healthy and a troubled program."""

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability.choices import SessionStatus
from metrics.choices import Kind, Level
from programs.choices import InitiativeStatus, ProgramStatus, StageStatus
from programs.dates import add_months
from programs.models import Program, ProgramStatusChange
from tests.factories import (
    ActionItemFactory,
    AgendaItemFactory,
    AttendanceFactory,
    EscalationFactory,
    ExemptionFactory,
    ForumFactory,
    ForumSessionFactory,
    InitiativeFactory,
    MeasurementFactory,
    MetricFactory,
    MetricRevisionFactory,
    PersonFactory,
    ProgramFactory,
    ProgressUpdateFactory,
    RoadmapStageFactory,
)

AS_OF = dt.date(2025, 6, 30)


def ago(days: int, as_of: dt.date = AS_OF) -> dt.date:
    return as_of - dt.timedelta(days=days)


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    """A session or revision time on `day` (UTC, the project's time zone)."""
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=dt.UTC)


def run(detector, organization, as_of: dt.date = AS_OF, program_ids=None):
    return detector(organization=organization, as_of=as_of, program_ids=program_ids)


def by_subject(findings) -> dict:
    return {f.subject_id: f for f in findings}


def count_queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def build_healthy_program(organization, as_of: dt.date = AS_OF):
    """An exemplary program: every governance rule satisfied on `as_of`."""
    program = ProgramFactory(organization=organization, started_on=ago(3 * 365, as_of), champion_time_pct=80)
    sponsor, champion = program.executive_sponsor, program.customer_champion
    others = [PersonFactory(organization=organization) for _ in range(2)]

    # Forum: monthly for three years, held on time, everyone present, customer items discussed.
    forum = ForumFactory(program=program, started_on=ago(36 * 30 + 5, as_of), chair=sponsor)
    forum.members.add(sponsor, champion, *others)
    for n in range(36, 0, -1):
        session = ForumSessionFactory(forum=forum, scheduled_for=at(ago(n * 30 - 20, as_of)))
        for person in (sponsor, champion, *others):
            AttendanceFactory(session=session, person=person, present=True)
        AgendaItemFactory(session=session, outcome="discussed")
        AgendaItemFactory(session=session, outcome="deferred", customer_item=False)
    ForumSessionFactory(forum=forum, scheduled_for=at(as_of + dt.timedelta(days=10)), status=SessionStatus.SCHEDULED)

    # Metrics: strategic outcome → tactical → operational, owned, measured monthly, targets ambitious.
    strategic = MetricFactory(program=program, level=Level.STRATEGIC, kind=Kind.OUTCOME, owner=sponsor)
    tactical = MetricFactory(program=program, parent=strategic, level=Level.TACTICAL, kind=Kind.PERCEPTION)
    operational = MetricFactory(program=program, parent=tactical, level=Level.OPERATIONAL, kind=Kind.OPERATIONAL)
    for metric in (strategic, tactical, operational):
        for n in range(1, 7):
            MeasurementFactory(metric=metric, period_end=ago(n * 30 - 15, as_of), value=Decimal("60"))
    # History that is fine: a loosening long before the window, a tightening inside it,
    # an exemption that has ended.
    MetricRevisionFactory(metric=strategic, old_value="80", new_value="68", changed_at=at(ago(500, as_of)))
    MetricRevisionFactory(metric=strategic, old_value="68", new_value="70", changed_at=at(ago(100, as_of)))
    ExemptionFactory(metric=tactical, starts_on=ago(400, as_of), ends_on=ago(200, as_of))

    # Roadmap: funded stages, including the one starting soon.
    RoadmapStageFactory(program=program, sequence=1, status=StageStatus.DONE, budget=500000)
    stage = RoadmapStageFactory(program=program, sequence=2, status=StageStatus.IN_PROGRESS, budget=750000)
    RoadmapStageFactory(
        program=program, sequence=3, status=StageStatus.PLANNED, budget=900000, starts_on=ago(-60, as_of)
    )

    # Work: updated recently, due in the future; done work past its dates; actions done or not yet due.
    initiative = InitiativeFactory(
        program=program, stage=stage, starts_on=ago(200, as_of), due_on=ago(-90, as_of), owner=champion
    )
    ProgressUpdateFactory(initiative=initiative, reported_on=ago(10, as_of))
    InitiativeFactory(program=program, status=InitiativeStatus.DONE, starts_on=ago(400, as_of), due_on=ago(100, as_of))
    InitiativeFactory(
        program=program, status=InitiativeStatus.PLANNED, starts_on=ago(-30, as_of), due_on=ago(-200, as_of)
    )
    ActionItemFactory(program=program, due_on=ago(-7, as_of))
    ActionItemFactory(program=program, due_on=ago(40, as_of), status="done", completed_on=ago(41, as_of))
    EscalationFactory(program=program, initiative=initiative, raised_on=ago(60, as_of), resolved_on=ago(50, as_of))
    return program


def build_troubled_program(organization, as_of: dt.date = AS_OF, **program_fields):
    """A program that trips every detector kind on `as_of`.

    Its champion also champions a companion program (same status, 80% of their time), on
    `program.companion`: champion_overloaded needs two programs, and flags both.
    """
    fields = {
        "organization": organization,
        "started_on": ago(400, as_of),
        "champion_time_pct": 30,
        "earliest_review_on": add_months(ago(400, as_of), 24),
    }
    fields.update(program_fields)
    program = ProgramFactory(**fields)
    sponsor, champion = program.executive_sponsor, program.customer_champion
    member = PersonFactory(organization=organization)
    program.companion = ProgramFactory(
        organization=organization, customer_champion=champion, champion_time_pct=80, status=program.status
    )

    # Launched 400 days ago on a 60-month horizon, cut to 24 months 100 days ago: long
    # before its earliest review (commitment_breached).
    history = Program.history.model.objects.filter(id=program.pk)
    history.update(history_date=at(ago(410, as_of)))
    ProgramStatusChange.objects.create(
        program=program,
        from_status=ProgramStatus.DRAFT,
        to_status=ProgramStatus.ACTIVE,
        reason="launch",
        committed_horizon_months=60,
        at=at(ago(400, as_of)),
    )
    program.committed_horizon_months = 24
    program._history_date = at(ago(100, as_of))
    program.save()
    del program._history_date

    initiative = InitiativeFactory(program=program, starts_on=ago(100, as_of), due_on=ago(40, as_of))
    ActionItemFactory(program=program, due_on=ago(20, as_of))
    EscalationFactory(program=program, initiative=initiative, raised_on=ago(45, as_of))

    # No strategic outcome metric; a strategic perception metric, loosened, unowned, never cascaded.
    metric = MetricFactory(
        program=program,
        level=Level.STRATEGIC,
        kind=Kind.PERCEPTION,
        owner=None,
        target=Decimal("55"),
        created_at=at(ago(300, as_of)),
    )
    MetricRevisionFactory(metric=metric, old_value="70", new_value="55", changed_at=at(ago(30, as_of)))
    RoadmapStageFactory(program=program, sequence=1, status=StageStatus.IN_PROGRESS, budget=None)

    # A monthly forum, lapsed, with cancellations, deferred customer items, falling attendance
    # and an absent sponsor.
    forum = ForumFactory(program=program, started_on=ago(365, as_of), chair=sponsor)
    forum.members.add(sponsor, champion, member)
    for n, day in enumerate([330, 300, 270, 240, 170, 150, 120]):
        session = ForumSessionFactory(forum=forum, scheduled_for=at(ago(day, as_of)))
        # Absent since the fourth session, sending the member in their place (sponsor_delegating).
        AttendanceFactory(session=session, person=sponsor, present=n < 3, delegate=None if n < 3 else member)
        AttendanceFactory(session=session, person=champion, present=n < 3)
        AttendanceFactory(session=session, person=member, present=True)
        AgendaItemFactory(session=session, outcome="deferred" if n >= 5 else "discussed")
    for day in (90, 60):
        ForumSessionFactory(forum=forum, scheduled_for=at(ago(day, as_of)), status=SessionStatus.CANCELLED)
    return program
