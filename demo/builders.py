"""Small writers the demo stories share: programs with a dated history, metrics, initiatives, assessments."""

import datetime as dt
from decimal import Decimal

from metrics.choices import Cadence, Direction
from metrics.models import Metric
from metrics.services import metric_update
from programs.choices import COMMITMENT_QUESTIONS, InitiativeStatus, Rag
from programs.models import CommitmentAssessment, Initiative, Person, Program, ProgressUpdate, RoadmapStage
from programs.services import program_transition

from .timeline import at, recorded, redate_history, save_dated


def new_program(cast, *, created: dt.date, **fields) -> Program:
    """A draft program whose creation is dated `created` in its history."""
    program = Program(organization=cast.organization, created_at=at(created, 9), **fields)
    save_dated(program, at(created, 9), reason="created")
    return program


def transition(program: Program, to: str, when: dt.date, reason: str = "", force: bool = False) -> None:
    """`program_transition` on a past date; its history row is re-dated to match."""
    program_transition(program=program, to=to, reason=reason, force=force, at=at(when, 10))
    redate_history(program, at(when, 10))
    program.refresh_from_db()


def new_stage(program: Program, created: dt.date, **fields) -> RoadmapStage:
    stage = RoadmapStage(program=program, **fields)
    save_dated(stage, at(created, 9))
    return stage


def new_metric(
    program: Program,
    created: dt.date,
    name: str,
    *,
    level: str,
    kind: str,
    owner: Person | None,
    baseline: str,
    target: str,
    target_on: dt.date,
    direction: str = Direction.INCREASE,
    cadence: str = Cadence.MONTHLY,
    unit: str = "",
    parent: Metric | None = None,
    **extra,
) -> Metric:
    metric = Metric(
        program=program,
        name=name,
        level=level,
        kind=kind,
        owner=owner,
        baseline=Decimal(baseline),
        baseline_on=created,
        target=Decimal(target),
        target_on=target_on,
        direction=direction,
        reporting_cadence=cadence,
        unit=unit,
        parent=parent,
        created_at=at(created, 9),
        **extra,
    )
    save_dated(metric, at(created, 9))
    return metric


def revise(metric: Metric, when: dt.date, reason: str, approved_in=None, **changes) -> None:
    """A guarded metric change through `metric_update`, dated `when` (revision and history row)."""
    metric._history_date = recorded(at(when, 11))
    metric_update(metric=metric, changes=changes, reason=reason, approved_in=approved_in, at=at(when, 11))
    del metric._history_date


def new_initiative(
    program: Program,
    name: str,
    *,
    owner: Person,
    status: str,
    starts_on: dt.date,
    due_on: dt.date,
    stage: RoadmapStage | None = None,
    units=(),
    description: str = "",
    updates: list[tuple[dt.date, str, int, str]] = (),
) -> Initiative:
    """An initiative and its progress updates (date, rag, percent, note); percent follows the latest."""
    initiative = Initiative(
        program=program,
        name=name,
        owner=owner,
        status=status,
        starts_on=starts_on,
        due_on=due_on,
        stage=stage,
        description=description,
        percent_complete=updates[-1][2] if updates else (100 if status == InitiativeStatus.DONE else 0),
    )
    save_dated(initiative, at(starts_on - dt.timedelta(days=14), 9))
    if units:
        initiative.business_units.set(units)
    ProgressUpdate.objects.bulk_create(
        ProgressUpdate(
            initiative=initiative,
            organization_id=program.organization_id,
            author=owner,
            reported_on=day,
            rag=rag,
            percent_complete=pct,
            note=note,
            created_at=at(day, 17),
        )
        for day, rag, pct, note in updates
    )
    return initiative


def steady_updates(
    start: dt.date, last: dt.date, every_days: int, start_pct: int, end_pct: int, notes: list[str]
) -> list[tuple[dt.date, str, int, str]]:
    """Regular green updates from `start` to `last` (inclusive), percent rising evenly."""
    days, day = [], start
    while day <= last:
        days.append(day)
        day += dt.timedelta(days=every_days)
    if days and days[-1] != last:
        days.append(last)
    out = []
    for i, day in enumerate(days):
        pct = start_pct + (end_pct - start_pct) * i // max(1, len(days) - 1)
        out.append((day, Rag.GREEN, pct, notes[i % len(notes)]))
    return out


def assess(program: Program, assessor: Person, on: dt.date, answers: list[int], note: str = "") -> None:
    """A CEO commitment assessment; the score (mean × 20) is computed by the database."""
    CommitmentAssessment.objects.create(
        program=program,
        assessed_on=on,
        assessor=assessor,
        note=note,
        **{q: a for (q, _), a in zip(COMMITMENT_QUESTIONS, answers, strict=True)},
    )
