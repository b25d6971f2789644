"""Benchmark forums (sessions, attendance, agenda) and the accountability trail (actions, escalations)."""

import datetime as dt

from accountability.choices import ActionStatus, AgendaOutcome, SessionStatus
from accountability.choices import Cadence as ForumCadence
from accountability.models import ActionItem, AgendaItem, Attendance, Escalation, Forum, ForumSession
from programs.models import CommitmentAssessment, Initiative

from .scale_base import BATCH, Batch, insert_leaves
from .timeline import add_months, at

FORUMS = (
    ("Steering", ForumCadence.BIWEEKLY),
    ("Customer council", ForumCadence.MONTHLY),
    ("Operations review", ForumCadence.MONTHLY),
)
QUESTIONS = [name for name, _ in CommitmentAssessment.QUESTIONS]


def write_forums(batch: Batch) -> tuple[int, int, int]:
    """Three forums per program over two years; returns (sessions, attendance rows, agenda items)."""
    rng, today, org = batch.rng, batch.today, batch.org
    forums = Forum.objects.bulk_create(
        Forum(
            program=p,
            name=name,
            cadence=cadence,
            started_on=add_months(today, -24),
            chair=p.customer_champion,
            dedicated=rng.random() > 0.2,
            active=rng.random() > 0.03,
        )
        for p in batch.programs
        for name, cadence in FORUMS
    )
    sponsors = {p.pk: p.executive_sponsor_id for p in batch.programs}
    members: dict[int, list[int]] = {}
    for f in forums:
        members[f.pk] = sorted({sponsors[f.program_id], f.chair_id, *(org.person().pk for _ in range(3))})
    Forum.members.through.objects.bulk_create(
        (Forum.members.through(forum_id=f.pk, person_id=pid) for f in forums for pid in members[f.pk]),
        batch_size=BATCH,
    )

    sessions = []
    for f in forums:
        step = 14 if f.cadence == ForumCadence.BIWEEKLY else 0
        # Some forums of troubled programs stop meeting months ago (forum_lapsed, forum_sessions_cancelled).
        lapsed_from = today - dt.timedelta(days=rng.randint(60, 150)) if batch.chance(f.program_id, 0.0, 0.15) else None
        cancel = 0.03 + 0.2 * batch.trouble[f.program_id]
        day = f.started_on
        while day <= today + dt.timedelta(days=30):
            if day >= today:
                status = SessionStatus.SCHEDULED
            elif (lapsed_from and day > lapsed_from) or rng.random() < cancel:
                status = rng.choice([SessionStatus.CANCELLED, SessionStatus.POSTPONED])
            else:
                status = SessionStatus.HELD
            sessions.append(
                ForumSession(forum=f, organization_id=org.organization.pk, scheduled_for=at(day), status=status)
            )
            day = day + dt.timedelta(days=step) if step else add_months(day, 1)
    sessions = ForumSession.objects.bulk_create(sessions, batch_size=BATCH)

    # Sponsors of troubled programs stop coming; some forums of such programs empty out over time.
    absent = {p.pk: 0.05 + 0.6 * batch.trouble[p.pk] for p in batch.programs}
    fading = {f.pk for f in forums if batch.chance(f.program_id, 0.0, 0.1)}
    deferring = {p.pk: 0.02 + 0.3 * batch.trouble[p.pk] for p in batch.programs}
    program_of = {f.pk: f.program_id for f in forums}
    organization_id = org.organization.pk
    attendance, agenda = [], []
    for s in sessions:
        if s.status != SessionStatus.HELD:
            continue
        pid = program_of[s.forum_id]
        age = (today - s.scheduled_for.date()).days
        for person in members[s.forum_id]:
            away = absent[pid] if person == sponsors[pid] else 0.1
            if s.forum_id in fading and age < 120:
                away = 0.7
            attendance.append((s.pk, organization_id, person, rng.random() > away))
        for k in range(2):
            outcome = AgendaOutcome.DEFERRED if rng.random() < deferring[pid] else AgendaOutcome.DISCUSSED
            agenda.append((s.pk, organization_id, f"Agenda item {k + 1}", k == 0, outcome))
    a = insert_leaves(Attendance, ["session_id", "organization_id", "person_id", "present"], attendance)
    g = insert_leaves(AgendaItem, ["session_id", "organization_id", "title", "customer_item", "outcome"], agenda)
    return len(sessions), a, g


def write_accountability(batch: Batch, initiatives: list[Initiative]) -> None:
    """20 action items, 3 escalations and 4 quarterly commitment assessments per program."""
    rng, today, org = batch.rng, batch.today, batch.org
    by_program: dict[int, list[Initiative]] = {}
    for ini in initiatives:
        by_program.setdefault(ini.program_id, []).append(ini)
    actions, escalations, assessments = [], [], []
    for p in batch.programs:
        trouble = batch.trouble[p.pk]
        for _ in range(20):
            due = today + dt.timedelta(days=rng.randint(-60, 60))
            done = due < today and rng.random() > 0.03 + 0.3 * trouble  # the rest stay open: action_overdue
            actions.append(
                ActionItem(
                    program=p,
                    owner=org.person(),
                    description="Follow up",
                    due_on=due,
                    status=ActionStatus.DONE if done else ActionStatus.OPEN,
                    completed_on=due if done else None,
                )
            )
        for _ in range(3):
            raised = today - dt.timedelta(days=rng.randint(5, 120))
            resolved = raised + dt.timedelta(days=rng.randint(3, 20))
            open_ = rng.random() < 0.1 + 0.6 * trouble or resolved > today  # no air cover: escalation_unresolved
            escalations.append(
                Escalation(
                    program=p,
                    initiative=rng.choice(by_program[p.pk]),
                    raised_by=p.customer_champion,
                    raised_to=p.executive_sponsor,
                    raised_on=raised,
                    resolved_on=None if open_ else resolved,
                )
            )
        level = 4 - round(2 * trouble)
        declining = trouble > 0.6 and rng.random() < 0.5
        for q in range(4):
            mood = level - (2 if declining and q == 3 else 0)
            answers = {name: max(1, min(5, mood + rng.choice([-1, 0, 0, 1]))) for name in QUESTIONS}
            assessments.append(
                CommitmentAssessment(
                    program=p, assessor=p.customer_champion, assessed_on=add_months(today, -3 * (4 - q)), **answers
                )
            )
    ActionItem.objects.bulk_create(actions, batch_size=BATCH)
    Escalation.objects.bulk_create(escalations, batch_size=BATCH)
    CommitmentAssessment.objects.bulk_create(assessments, batch_size=BATCH)
