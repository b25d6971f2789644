"""Early-bail risk: every factor on both sides of its threshold, levels, cap, upsert, events."""

import datetime as dt

import pytest

from accountability.choices import FlagKind, FlagStatus, SessionStatus, SubjectType
from accountability.models import Attendance, ForumSession, RiskAssessment
from accountability.risk import add_months, assess_risk, early_bail_findings
from notifications.models import WebhookDelivery
from programs.choices import ProgramStatus
from programs.models import Program, ProgramStatusChange
from tests.factories import (
    CommitmentAssessmentFactory,
    FlagFactory,
    ForumFactory,
    InitiativeFactory,
    MetricFactory,
    PersonFactory,
    ProgramFactory,
    ProgressUpdateFactory,
    RoadmapStageFactory,
    WebhookFactory,
)

AS_OF = dt.date(2025, 6, 15)
LONG_AGO = dt.date(2022, 1, 10)  # more than 24 months before AS_OF

pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def session_on(forum, days: int, status: str = SessionStatus.HELD) -> ForumSession:
    """An unsaved session of `forum` held (or not) `days` ago, for `bulk_create`, which does
    not call `save`: the organization it carries is set here."""
    return ForumSession(
        forum=forum, organization_id=forum.program.organization_id, scheduled_for=at(days_ago(days)), status=status
    )


def days_ago(n: int) -> dt.date:
    return AS_OF - dt.timedelta(days=n)


@pytest.fixture
def program(organization):
    """A healthy program: long started, 60-month horizon, an officer champion at 80%."""
    p = ProgramFactory(organization=organization, started_on=LONG_AGO)
    stamp_history(p, at(LONG_AGO))
    return p


def stamp_history(obj, when: dt.datetime) -> None:
    """Date the latest simple-history row of `obj` (saves are stamped with the real clock)."""
    row = type(obj).history.filter(id=obj.pk).order_by("-history_id").first()
    row.history_date = when
    row.save()


def assess(program, as_of=AS_OF):
    (assessment,) = [
        a for a in assess_risk(organization=program.organization, as_of=as_of) if a.program_id == program.pk
    ]
    return assessment


def points(program, code, as_of=AS_OF) -> int:
    return sum(f["points"] for f in assess(program, as_of).factors if f["code"] == code)


def factor(program, code, as_of=AS_OF) -> dict:
    return next(f for f in assess(program, as_of).factors if f["code"] == code)


def set_status(program, status) -> None:
    Program.objects.filter(pk=program.pk).update(status=status)
    program.refresh_from_db()


# --- A healthy program, levels, cap --------------------------------------------------


def test_a_healthy_program_scores_zero_and_low(program):
    assessment = assess(program)
    assert (assessment.score, assessment.level, assessment.factors) == (0, "low", [])


@pytest.mark.parametrize(
    ("score", "level"),
    [(24, "low"), (25, "elevated"), (49, "elevated"), (50, "high"), (74, "high"), (75, "critical"), (100, "critical")],
)
def test_level_boundaries(program, settings, score, level):
    settings.CXGOV_RISK_WEIGHTS = {**settings.CXGOV_RISK_WEIGHTS, "program_paused": score}
    set_status(program, ProgramStatus.PAUSED)
    assessment = assess(program)
    assert (assessment.score, assessment.level) == (score, level)


def test_the_score_is_capped_at_100_while_every_factor_is_listed(organization):
    program = ProgramFactory(
        organization=organization,
        status=ProgramStatus.PAUSED,  # 35
        started_on=days_ago(100),  # early_phase 10
        first_results_due_on=days_ago(10),  # results_expected_early 10
        customer_champion=None,  # champion_weak 15
        committed_horizon_months=24,  # short_horizon 15
    )
    for _ in range(4):  # metrics_negotiated 20
        FlagFactory(
            program=program,
            kind=FlagKind.METRIC_NEGOTIATED_AWAY,
            subject_type=SubjectType.METRIC,
            subject_id=MetricFactory(program=program).pk,
        )
    assessment = assess(program)
    assert sum(f["points"] for f in assessment.factors) == 105
    assert (assessment.score, assessment.level) == (100, "critical")


def test_weights_come_from_settings(program, settings):
    settings.CXGOV_RISK_WEIGHTS = {**settings.CXGOV_RISK_WEIGHTS, "champion_weak_not_officer": 7}
    Program.objects.filter(pk=program.pk).update(customer_champion=None)
    assert points(program, "champion_weak") == 7


# --- Factors -------------------------------------------------------------------------------


def test_program_paused(program):
    assert points(program, "program_paused") == 0
    set_status(program, ProgramStatus.PAUSED)
    assert points(program, "program_paused") == 35


def _activate(program, horizon: int) -> None:
    ProgramStatusChange.objects.create(
        program=program, from_status="draft", to_status="active", committed_horizon_months=horizon, at=at(LONG_AGO)
    )


@pytest.mark.parametrize(("now", "expected"), [(60, 0), (59, 20), (24, 20)])
def test_horizon_shortened_against_the_first_activation(program, now, expected):
    _activate(program, 60)
    # A later resume at a shorter horizon does not move the reference.
    ProgramStatusChange.objects.create(
        program=program, from_status="paused", to_status="active", committed_horizon_months=30, at=at(days_ago(300))
    )
    Program.objects.filter(pk=program.pk).update(committed_horizon_months=now)
    assert points(program, "horizon_shortened") == expected
    # short_horizon never adds up with horizon_shortened.
    assert points(program, "short_horizon") == 0


def test_horizon_shortened_evidence(program):
    _activate(program, 60)
    Program.objects.filter(pk=program.pk).update(committed_horizon_months=48)
    assert factor(program, "horizon_shortened")["evidence"] == {
        "committed_horizon_months": 48,
        "at_activation_months": 60,
        "activated_on": LONG_AGO.isoformat(),
    }


@pytest.mark.parametrize(("months", "expected"), [(36, 0), (35, 15)])
def test_short_horizon_under_36_months(program, months, expected):
    _activate(program, months)  # committed that short from the start: not "shortened"
    Program.objects.filter(pk=program.pk).update(committed_horizon_months=months)
    assert points(program, "short_horizon") == expected


@pytest.mark.parametrize(
    ("started_on", "expected"),
    [
        (add_months(AS_OF, -12), 10),  # exactly 12 months ago
        (add_months(AS_OF, -12) - dt.timedelta(days=1), 5),  # 12 months and a day
        (add_months(AS_OF, -24), 5),
        (add_months(AS_OF, -24) - dt.timedelta(days=1), 0),
        (AS_OF, 10),
    ],
)
def test_early_phase(program, started_on, expected):
    Program.objects.filter(pk=program.pk).update(started_on=started_on)
    assert points(program, "early_phase") == expected


def test_add_months_holds_the_end_of_the_month():
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2025, 3, 31), -13) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2024, 12, 15), 12) == dt.date(2025, 12, 15)


def _sponsor_sessions(program, held: int, present: int) -> None:
    """`held` held sessions of a forum chaired by the sponsor in the last 180 days, `present` attended."""
    forum = ForumFactory(program=program)
    sessions = ForumSession.objects.bulk_create(session_on(forum, i % 180) for i in range(held))
    Attendance.objects.bulk_create(
        Attendance(session=s, organization=program.organization, person=program.executive_sponsor, present=i < present)
        for i, s in enumerate(sessions)
    )


@pytest.mark.parametrize(
    ("held", "present", "expected"),
    [(100, 49, 20), (100, 50, 10), (100, 74, 10), (100, 75, 0), (4, 1, 20), (4, 2, 10), (4, 3, 0)],
)
def test_sponsor_absent(program, held, present, expected):
    _sponsor_sessions(program, held, present)
    assert points(program, "sponsor_absent") == expected


@pytest.mark.parametrize(("held", "expected"), [(2, 0), (3, 20)])
def test_sponsor_absent_needs_three_held_sessions_like_sponsor_disengaged(program, held, expected):
    _sponsor_sessions(program, held, 0)
    assert points(program, "sponsor_absent") == expected


def test_sponsor_absent_ignores_sessions_older_than_180_days_and_delegates(program):
    forum = ForumFactory(program=program)
    old = ForumSession.objects.bulk_create(session_on(forum, 180 + i) for i in range(5))
    recent = ForumSession.objects.bulk_create(session_on(forum, i) for i in range(4))
    delegate = PersonFactory(organization=program.organization)
    Attendance.objects.bulk_create(
        [
            Attendance(session=s, organization=program.organization, person=program.executive_sponsor, present=False)
            for s in old
        ]
        + [
            Attendance(session=s, organization=program.organization, person=program.executive_sponsor, present=True)
            for s in recent[:2]
        ]
        + [
            Attendance(
                session=s,
                organization=program.organization,
                person=program.executive_sponsor,
                present=False,
                delegate=delegate,
            )
            for s in recent[2:]
        ]
    )
    evidence = factor(program, "sponsor_absent")
    assert evidence["points"] == 10  # 2 of 4 in person: 50%, under 75%
    assert (evidence["evidence"]["held"], evidence["evidence"]["present"]) == (4, 2)


def _sessions(program, total: int, cancelled: int, postponed: int = 0, *, oldest_days: int = 89) -> None:
    forum = ForumFactory(program=program, chair=PersonFactory(organization=program.organization))
    statuses = [SessionStatus.CANCELLED] * cancelled + [SessionStatus.POSTPONED] * postponed
    statuses += [SessionStatus.HELD] * (total - len(statuses))
    ForumSession.objects.bulk_create(
        session_on(forum, i % (oldest_days + 1), status) for i, status in enumerate(statuses)
    )


@pytest.mark.parametrize(("cancelled", "expected"), [(39, 0), (40, 15)])
def test_forums_cancelled_at_40_percent(program, cancelled, expected):
    _sessions(program, 100, cancelled - 10, postponed=10)
    assert points(program, "forums_cancelled") == expected


def test_forums_cancelled_only_counts_the_last_90_days(program):
    forum = ForumFactory(program=program, chair=PersonFactory(organization=program.organization))
    ForumSession.objects.bulk_create(
        [session_on(forum, 90, SessionStatus.CANCELLED)]
        + [session_on(forum, 89, SessionStatus.CANCELLED)]
        + [session_on(forum, d) for d in (1, 2)]
    )
    # In the window: 1 cancelled of 3 (33%); the one 90 days back is outside.
    assert points(program, "forums_cancelled") == 0


@pytest.mark.parametrize(
    ("champion", "time_pct", "expected"),
    [("missing", 80, 15), ("not_officer", 80, 15), ("inactive", 80, 15), ("officer", 49, 10), ("officer", 50, 0)],
)
def test_champion_weak(program, champion, time_pct, expected):
    person = (
        None
        if champion == "missing"
        else PersonFactory(
            organization=program.organization, is_officer=champion != "not_officer", active=champion != "inactive"
        )
    )
    Program.objects.filter(pk=program.pk).update(customer_champion=person, champion_time_pct=time_pct)
    assert points(program, "champion_weak") == expected


def _change(program, when: dt.date, **fields) -> None:
    for name, value in fields.items():
        setattr(program, name, value)
    program.save()
    stamp_history(program, at(when, 12))


@pytest.mark.parametrize(("changed_days_ago", "expected"), [(179, 10), (180, 0), (0, 10)])
def test_champion_turnover_in_the_last_180_days(program, changed_days_ago, expected):
    _change(program, days_ago(changed_days_ago), customer_champion=PersonFactory(organization=program.organization))
    assert points(program, "champion_turnover") == expected


def test_naming_a_first_champion_is_not_turnover(organization):
    program = ProgramFactory(organization=organization, started_on=LONG_AGO, customer_champion=None)
    stamp_history(program, at(LONG_AGO))
    _change(program, days_ago(10), customer_champion=PersonFactory(organization=organization, is_officer=True))
    assert points(program, "champion_turnover") == 0


def test_champion_changes_after_as_of_do_not_count(program):
    _change(program, AS_OF + dt.timedelta(days=1), customer_champion=PersonFactory(organization=program.organization))
    assert points(program, "champion_turnover") == 0


@pytest.mark.parametrize(
    ("new_budget", "changed_days_ago", "expected"),
    [(80000, 179, 15), (80000, 180, 0), (120000, 10, 0), (None, 10, 15), (100000, 10, 0)],
)
def test_program_budget_cut(program, new_budget, changed_days_ago, expected):
    _change(program, days_ago(400), budget=100000)
    _change(program, days_ago(changed_days_ago), budget=new_budget)
    assert points(program, "budget_cut") == expected


@pytest.mark.parametrize(("old", "new", "expected"), [(100000, 50000, 15), (None, 50000, 0), (50000, 60000, 0)])
def test_stage_budget_cut(program, old, new, expected):
    stage = RoadmapStageFactory(program=program, budget=old)
    stamp_history(stage, at(days_ago(400)))
    stage.budget = new
    stage.save()
    stamp_history(stage, at(days_ago(30)))
    assert points(program, "budget_cut") == expected


def test_budget_cut_evidence_names_the_stage(program):
    stage = RoadmapStageFactory(program=program, budget=100000, name="Fix the basics")
    stamp_history(stage, at(days_ago(400)))
    stage.budget = 40000
    stage.save()
    stamp_history(stage, at(days_ago(30)))
    (cut,) = factor(program, "budget_cut")["evidence"]["cuts"]
    assert cut["what"] == "stage" and cut["stage"] == "Fix the basics"
    assert (cut["from"], cut["to"], cut["on"]) == ("100000.00", "40000.00", days_ago(30).isoformat())


def _negotiated(program, status=FlagStatus.OPEN):
    return FlagFactory(
        program=program,
        kind=FlagKind.METRIC_NEGOTIATED_AWAY,
        subject_type=SubjectType.METRIC,
        subject_id=MetricFactory(program=program).pk,
        status=status,
    )


@pytest.mark.parametrize(("flags", "expected"), [(0, 0), (1, 5), (3, 15), (4, 20), (5, 20)])
def test_metrics_negotiated_5_per_live_flag_at_most_20(program, flags, expected):
    for _ in range(flags):
        _negotiated(program)
    assert points(program, "metrics_negotiated") == expected


def test_metrics_negotiated_counts_acknowledged_but_not_closed_flags(program):
    _negotiated(program, FlagStatus.ACKNOWLEDGED)
    _negotiated(program, FlagStatus.RESOLVED)
    _negotiated(program, FlagStatus.DISMISSED)
    assert points(program, "metrics_negotiated") == 5


@pytest.mark.parametrize(
    ("status", "closed_days_ago", "expected"),
    [(FlagStatus.OPEN, None, 25), (FlagStatus.ACKNOWLEDGED, None, 25), (FlagStatus.RESOLVED, 1, 0)],
)
def test_commitment_breached_25_for_an_open_flag(program, status, closed_days_ago, expected):
    FlagFactory(
        program=program,
        kind=FlagKind.COMMITMENT_BREACHED,
        subject_type=SubjectType.PROGRAM,
        subject_id=program.pk,
        status=status,
        first_detected_on=days_ago(30),
        closed_on=days_ago(closed_days_ago) if closed_days_ago is not None else None,
    )
    assert points(program, "commitment_breached") == expected
    if expected:
        assert factor(program, "commitment_breached")["evidence"]["since"] == days_ago(30).isoformat()


def test_commitment_breached_counts_the_flag_open_on_as_of(program):
    FlagFactory(
        program=program,
        kind=FlagKind.COMMITMENT_BREACHED,
        subject_type=SubjectType.PROGRAM,
        subject_id=program.pk,
        first_detected_on=days_ago(-1),  # found after as_of
    )
    assert points(program, "commitment_breached") == 0


def _delegated_sessions(program, held: int, delegated: int) -> None:
    forum = ForumFactory(program=program)
    stand_in = PersonFactory(organization=program.organization)
    sessions = ForumSession.objects.bulk_create(session_on(forum, 10 + i) for i in range(held))
    Attendance.objects.bulk_create(
        Attendance(
            session=s,
            organization=program.organization,
            person=program.executive_sponsor,
            present=i >= delegated,
            delegate=stand_in if i < delegated else None,
        )
        for i, s in enumerate(sessions)
    )


@pytest.mark.parametrize(
    ("held", "delegated", "expected"), [(2, 2, 0), (3, 1, 0), (3, 2, 10), (4, 2, 10), (5, 2, 0), (10, 5, 10)]
)
def test_sponsor_delegating_10_on_the_flags_condition(program, held, delegated, expected):
    _delegated_sessions(program, held, delegated)
    assert points(program, "sponsor_delegating") == expected
    if expected:
        evidence = factor(program, "sponsor_delegating")["evidence"]
        assert (evidence["held"], evidence["delegated"], len(evidence["sessions"])) == (held, delegated, delegated)


def test_the_new_weights_come_from_settings(program, settings):
    settings.CXGOV_RISK_WEIGHTS = {**settings.CXGOV_RISK_WEIGHTS, "sponsor_delegating": 7}
    _delegated_sessions(program, 3, 3)
    assert points(program, "sponsor_delegating") == 7


def _initiatives(program, stalled: int, fresh: int) -> None:
    for _ in range(stalled):
        InitiativeFactory(program=program, starts_on=days_ago(60))  # no update for 60 days > 30
    for _ in range(fresh):
        ProgressUpdateFactory(
            initiative=InitiativeFactory(program=program, starts_on=days_ago(60)), reported_on=days_ago(5)
        )
    InitiativeFactory(program=program, starts_on=days_ago(300), status="done")  # not in flight


@pytest.mark.parametrize(("stalled", "fresh", "expected"), [(3, 7, 10), (3, 8, 0), (0, 0, 0), (1, 0, 10)])
def test_work_stalled_at_30_percent_of_in_flight(program, stalled, fresh, expected):
    _initiatives(program, stalled, fresh)
    assert points(program, "work_stalled") == expected


def _commitment(program, on: dt.date, answers: list[int]):
    names = [
        "clear_destination",
        "understands_scope",
        "builds_new_skills",
        "commits_resources",
        "true_partner",
        "insists_on_patience",
        "pushes_customer_metrics",
        "drives_reliability",
        "defines_differentiation",
    ]
    return CommitmentAssessmentFactory(program=program, assessed_on=on, **dict(zip(names, answers, strict=True)))


SUM_40 = [5, 5, 5, 5, 4, 4, 4, 4, 4]  # score 88.9
SUM_34 = [4, 4, 4, 4, 4, 4, 4, 3, 3]  # 85% of it exactly
SUM_35 = [4, 4, 4, 4, 4, 4, 4, 4, 3]  # 87.5% of it


@pytest.mark.parametrize(("latest", "expected"), [(SUM_34, 10), (SUM_35, 0), (SUM_40, 0)])
def test_commitment_declining_by_15_percent(program, latest, expected):
    _commitment(program, days_ago(200), SUM_40)
    _commitment(program, days_ago(20), latest)
    assert points(program, "commitment_declining") == expected


def test_commitment_declining_ignores_assessments_after_as_of_and_needs_two(program):
    _commitment(program, days_ago(200), SUM_40)
    assert points(program, "commitment_declining") == 0
    _commitment(program, AS_OF + dt.timedelta(days=1), SUM_34)
    assert points(program, "commitment_declining") == 0
    assert points(program, "commitment_declining", as_of=AS_OF + dt.timedelta(days=1)) == 10


@pytest.mark.parametrize(
    ("due", "expected"),
    [(dt.date(2024, 12, 31), 10), (dt.date(2025, 1, 1), 0), (None, 0)],
)
def test_results_expected_within_12_months(program, due, expected):
    Program.objects.filter(pk=program.pk).update(started_on=dt.date(2024, 1, 1), first_results_due_on=due)
    assert points(program, "results_expected_early") == expected


# --- Scope, upsert, queries, events, findings ----------------------------------------------


def test_only_active_and_paused_programs_of_the_organization_are_assessed(organization, other_organization):
    active = ProgramFactory(organization=organization)
    paused = ProgramFactory(organization=organization, status=ProgramStatus.PAUSED)
    ProgramFactory(organization=organization, status=ProgramStatus.DRAFT)
    ProgramFactory(organization=organization, status=ProgramStatus.COMPLETED)
    ProgramFactory(organization=other_organization)

    assessed = assess_risk(organization=organization, as_of=AS_OF)

    assert sorted(a.program_id for a in assessed) == sorted([active.pk, paused.pk])
    assert [a.program_id for a in assess_risk(organization=organization, as_of=AS_OF, program_ids=[paused.pk])] == [
        paused.pk
    ]


def test_a_rescan_of_the_same_day_rewrites_the_assessment(program):
    first = assess(program)
    set_status(program, ProgramStatus.PAUSED)
    second = assess(program)

    stored = RiskAssessment.objects.get(program=program)
    assert stored.pk == first.pk == second.pk
    assert (stored.score, stored.level) == (35, "elevated")
    assess(program, AS_OF + dt.timedelta(days=1))
    assert RiskAssessment.objects.filter(program=program).count() == 2


def test_assessment_uses_a_fixed_number_of_queries(organization, django_assert_max_num_queries):
    def build():
        p = ProgramFactory(organization=organization, started_on=LONG_AGO)
        _sponsor_sessions(p, 4, 1)
        _initiatives(p, 1, 1)
        _commitment(p, days_ago(100), SUM_40)
        _commitment(p, days_ago(10), SUM_34)
        _negotiated(p)
        _activate(p, 60)
        RoadmapStageFactory(program=p)

    build()
    # 21: the assessment's 20 (sponsor presence: counts for every program, then the
    # sessions of those whose factor fires; the programs as on as_of: status changes and
    # history), and the webhook lookup of its risk.level_changed event, whose deliveries
    # are written in the same transaction.
    with django_assert_max_num_queries(21) as one:
        assess_risk(organization=organization, as_of=AS_OF)
    for _ in range(5):
        build()
    with django_assert_max_num_queries(len(one.captured_queries)):
        assessed = assess_risk(organization=organization, as_of=AS_OF)
    assert len(assessed) == 6


@pytest.fixture
def risk_webhook(organization, settings):
    settings.CXGOV_WEBHOOK_ALLOW_PRIVATE = True
    settings.CXGOV_WEBHOOK_MAX_ATTEMPTS = 1
    # Port 9 (discard) refuses at once: the delivery is recorded and given up, no network needed.
    return WebhookFactory(organization=organization, url="http://127.0.0.1:9/hook", events=["risk.level_changed"])


def test_a_level_change_is_announced_once_after_commit(program, risk_webhook, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assess(program, days_ago(1))  # first assessment, low: nothing to announce
    assert WebhookDelivery.objects.count() == 0

    set_status(program, ProgramStatus.PAUSED)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assess(program)
    assert len(callbacks) == 1
    (delivery,) = WebhookDelivery.objects.filter(event="risk.level_changed")
    data = delivery.payload["data"]
    assert (data["previous_level"], data["assessment"]["level"], data["program"]["id"]) == (
        "low",
        "elevated",
        program.pk,
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assess(program)  # the same day again, same level: already announced
    assert callbacks == []


def test_early_bail_findings_for_high_and_critical_only(organization, settings):
    settings.CXGOV_RISK_WEIGHTS = {**settings.CXGOV_RISK_WEIGHTS, "program_paused": 50}
    ceo = PersonFactory(organization=organization, title="CEO", is_officer=True)
    high = ProgramFactory(organization=organization, status=ProgramStatus.PAUSED, started_on=LONG_AGO)
    ProgramFactory(organization=organization, started_on=LONG_AGO)  # low

    (finding,) = early_bail_findings(assess_risk(organization=organization, as_of=AS_OF))
    assert (finding.kind, finding.subject_type, finding.subject_id) == ("early_bail_risk", "program", high.pk)
    assert finding.severity == "high"
    assert finding.owner_id == high.executive_sponsor_id  # no CEO set on the organization
    assert finding.evidence["score"] == 50 and finding.evidence["factors"][0]["code"] == "program_paused"

    organization.ceo = ceo
    organization.save()
    (finding,) = early_bail_findings(assess_risk(organization=organization, as_of=AS_OF))
    assert finding.owner_id == ceo.pk


def test_early_bail_severity_is_the_level(program, settings):
    settings.CXGOV_RISK_WEIGHTS = {**settings.CXGOV_RISK_WEIGHTS, "program_paused": 75}
    set_status(program, ProgramStatus.PAUSED)
    (finding,) = early_bail_findings([assess(program)])
    assert finding.severity == "critical"
