import datetime as dt

import factory

from accountability.choices import (
    LIVE_FLAG_STATUSES,
    ActionStatus,
    Cadence,
    FlagKind,
    FlagStatus,
    SessionStatus,
    Severity,
    SubjectType,
)
from accountability.models import (
    ActionItem,
    AgendaItem,
    Attendance,
    Escalation,
    Flag,
    Forum,
    ForumSession,
    RiskAssessment,
)

from ..programs.factories import InitiativeFactory, PersonFactory, ProgramFactory


class ForumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Forum

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Forum {n}")
    cadence = Cadence.MONTHLY
    started_on = dt.date(2024, 1, 1)
    chair = factory.SelfAttribute("program.executive_sponsor")
    dedicated = True


class ForumSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ForumSession

    forum = factory.SubFactory(ForumFactory)
    scheduled_for = dt.datetime(2024, 2, 1, 9, 0, tzinfo=dt.UTC)
    status = SessionStatus.HELD


class AttendanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attendance

    session = factory.SubFactory(ForumSessionFactory)
    person = factory.SubFactory(
        PersonFactory, organization=factory.SelfAttribute("..session.forum.program.organization")
    )
    present = True


class AgendaItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgendaItem

    session = factory.SubFactory(ForumSessionFactory)
    title = factory.Sequence(lambda n: f"Agenda item {n}")
    customer_item = True


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    program = factory.SubFactory(ProgramFactory)
    owner = factory.SubFactory(PersonFactory, organization=factory.SelfAttribute("..program.organization"))
    description = factory.Sequence(lambda n: f"Action {n}")
    due_on = dt.date(2024, 3, 1)
    status = ActionStatus.OPEN


class EscalationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Escalation

    program = factory.SubFactory(ProgramFactory)
    initiative = factory.SubFactory(InitiativeFactory, program=factory.SelfAttribute("..program"))
    raised_by = factory.SelfAttribute("program.customer_champion")
    raised_to = factory.SelfAttribute("program.executive_sponsor")
    raised_on = dt.date(2024, 3, 1)


class FlagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flag

    program = factory.SubFactory(ProgramFactory)
    organization = factory.SelfAttribute("program.organization")
    kind = FlagKind.NO_BUSINESS_OUTCOME
    severity = Severity.HIGH
    subject_type = SubjectType.PROGRAM
    subject_id = factory.SelfAttribute("program.id")
    owner = factory.SelfAttribute("program.executive_sponsor")
    title = factory.Sequence(lambda n: f"Flag {n}")
    status = FlagStatus.OPEN
    first_detected_on = dt.date(2024, 6, 1)
    last_detected_on = dt.date(2024, 6, 1)
    # A closed flag has the day it closed (a database constraint): by default its last detection.
    closed_on = factory.LazyAttribute(lambda f: None if f.status in LIVE_FLAG_STATUSES else f.last_detected_on)


class RiskAssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RiskAssessment

    program = factory.SubFactory(ProgramFactory)
    as_of = dt.date(2024, 6, 1)
    score = 30
    level = "elevated"
