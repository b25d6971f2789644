"""A realistic program built with the factories, with every number the dashboard shows
known in advance (see EXPECTED). Used by the selector, view and browser tests."""

import datetime as dt
import itertools
from decimal import Decimal

from accountability.choices import FlagKind, SessionStatus, Severity, SubjectType
from metrics.choices import Direction, Kind, Level
from programs.choices import InitiativeStatus, StageStatus
from tests.factories import (
    AttendanceFactory,
    FlagFactory,
    ForumFactory,
    ForumSessionFactory,
    InitiativeFactory,
    MeasurementFactory,
    MetricFactory,
    MetricRevisionFactory,
    PersonFactory,
    ProgramFactory,
    ProgressUpdateFactory,
    RiskAssessmentFactory,
    RoadmapStageFactory,
)

_subjects = itertools.count(10_000)

# What build_program produces, as the card must show it.
EXPECTED = {
    "month_of_horizon": 14,
    "horizon": 60,
    "risk_score": 62,
    "risk_level": "high",
    "previous_score": 48,
    "trend": "rising",
    "flags": {"critical": 1, "high": 2, "medium": 1, "low": 1},
    "health": {"off_track": 1, "at_risk": 1, "on_track": 1, "no_data": 1},
    "forum_held": 5,
    "forum_scheduled": 6,
    "sponsor_present": 2,
    "sponsor_held": 5,
    "stalled": 1,
}


def _monthly(metric, as_of: dt.date, values: list[str]) -> None:
    """One measurement per month, the last one 10 days before as_of."""
    for i, value in enumerate(reversed(values)):
        MeasurementFactory(metric=metric, period_end=as_of - dt.timedelta(days=10 + 30 * i), value=Decimal(value))


def build_program(
    organization, as_of: dt.date, *, name: str | None = None, calm: bool = False, future_assessment: bool = True
):
    """A program 13 months and a bit into a 60-month horizon, with a full cascade.

    calm=True builds the same shape with low risk and no flag (a card that needs no attention).
    """
    # Month 14: started on the 1st of the month thirteen months before as_of's month.
    year, month = divmod(as_of.year * 12 + as_of.month - 1 - 13, 12)
    started = dt.date(year, month + 1, 1)
    kwargs = {"name": name} if name else {}
    program = ProgramFactory(organization=organization, started_on=started, committed_horizon_months=60, **kwargs)
    sponsor = program.executive_sponsor
    base_on, target_on = as_of - dt.timedelta(days=365), as_of + dt.timedelta(days=365)

    def metric(**kw):
        return MetricFactory(program=program, baseline_on=base_on, target_on=target_on, **kw)

    # Expected now = halfway: baseline 50 → target 70 gives 60 (on track at 61).
    root = metric(name="Customer retention", level=Level.STRATEGIC, kind=Kind.OUTCOME, baseline=50, target=70)
    _monthly(root, as_of, ["52", "55", "57", "61"])
    # Off track: 20 → 40, expected ~30 at the last period, value 22.
    nps = metric(
        name="Net promoter score",
        parent=root,
        level=Level.TACTICAL,
        kind=Kind.PERCEPTION,
        baseline=20,
        target=40,
        unit="pts",
    )
    _monthly(nps, as_of, ["21", "23", "22"])
    MetricRevisionFactory(
        metric=nps,
        field="target",
        old_value="45",
        new_value="40",
        reason="Market is harder than planned",
        changed_at=dt.datetime.combine(as_of - dt.timedelta(days=100), dt.time(12), tzinfo=dt.UTC),
    )
    # At risk (decrease is better): 300 → 200 s, expected ~250 at the last period, value 252.
    wait = metric(
        name="Average wait time",
        parent=nps,
        level=Level.OPERATIONAL,
        kind=Kind.OPERATIONAL,
        baseline=300,
        target=200,
        unit="s",
        direction=Direction.DECREASE,
    )
    _monthly(wait, as_of, ["290", "270", "252"])
    metric(name="First-contact resolution", parent=nps, level=Level.OPERATIONAL, kind=Kind.OPERATIONAL)

    score, previous = (12, 15) if calm else (EXPECTED["risk_score"], EXPECTED["previous_score"])
    RiskAssessmentFactory(program=program, as_of=as_of - dt.timedelta(days=60), score=30, level="elevated")
    RiskAssessmentFactory(
        program=program, as_of=as_of - dt.timedelta(days=30), score=previous, level="low" if calm else "elevated"
    )
    RiskAssessmentFactory(
        program=program,
        as_of=as_of - dt.timedelta(days=1),
        score=score,
        level="low" if calm else EXPECTED["risk_level"],
        factors=[
            {"code": "early_phase", "points": 5, "evidence": {"started_on": started.isoformat(), "months": 13}},
            {"code": "sponsor_absent", "points": 20, "evidence": {"held": 5, "present": 2, "ratio": 0.4}},
        ],
    )
    # A risk assessment after as_of must not count.
    if future_assessment:
        RiskAssessmentFactory(program=program, as_of=as_of + dt.timedelta(days=5), score=99, level="critical")

    flags = []
    if not calm:
        for severity, n in EXPECTED["flags"].items():
            for _ in range(n):
                flags.append(
                    FlagFactory(
                        program=program,
                        kind=FlagKind.METRIC_STALE,
                        subject_type=SubjectType.METRIC,
                        subject_id=next(_subjects),
                        severity=severity,
                        title=f"{Severity(severity).label} flag of {program.name}",
                        first_detected_on=as_of - dt.timedelta(days=20),
                        evidence={"metric": "Net promoter score", "days_since": 70, "metric_id": nps.id},
                    )
                )
        # A resolved flag never counts.
        FlagFactory(program=program, severity=Severity.CRITICAL, status="resolved", title="Old resolved flag")

    champion = program.customer_champion
    members = [champion, PersonFactory(organization=organization), PersonFactory(organization=organization)]
    forum = ForumFactory(program=program, name=f"Customer council of {program.name}", chair=sponsor)
    forum.members.set(members)
    # Six sessions in the last 90 days: five held, one cancelled; sponsor present at two.
    for i in range(6):
        when = dt.datetime.combine(as_of - dt.timedelta(days=5 + 14 * i), dt.time(9), tzinfo=dt.UTC)
        status = SessionStatus.CANCELLED if i == 2 else SessionStatus.HELD
        session = ForumSessionFactory(forum=forum, scheduled_for=when, status=status)
        if status == SessionStatus.HELD:
            AttendanceFactory(session=session, person=sponsor, present=i in (0, 3))
            for person in members:
                AttendanceFactory(session=session, person=person, present=True)
    # Outside both windows (90 days for forums, 180 for sponsor presence): counted nowhere.
    ForumSessionFactory(
        forum=forum, scheduled_for=dt.datetime.combine(as_of - dt.timedelta(days=200), dt.time(9), tzinfo=dt.UTC)
    )

    stalled = InitiativeFactory(
        program=program,
        name=f"Rebuild the complaint process ({program.name})",
        starts_on=as_of - dt.timedelta(days=100),
        status=InitiativeStatus.IN_PROGRESS,
    )
    fresh = InitiativeFactory(
        program=program, starts_on=as_of - dt.timedelta(days=100), status=InitiativeStatus.BLOCKED
    )
    ProgressUpdateFactory(initiative=fresh, reported_on=as_of - dt.timedelta(days=3))
    RoadmapStageFactory(program=program, sequence=1, name="Foundations", budget=250000, status=StageStatus.IN_PROGRESS)
    RoadmapStageFactory(program=program, sequence=2, name="Scale", budget=None)
    return {
        "program": program,
        "root": root,
        "nps": nps,
        "wait": wait,
        "flags": flags,
        "forum": forum,
        "stalled": stalled,
        "sponsor": sponsor,
    }
