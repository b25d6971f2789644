"""commitment_breached (a stop or a shorter horizon before the earliest review) and champion_overloaded."""

import datetime as dt

import pytest

from accountability.choices import FlagKind, Severity, SubjectType
from accountability.detectors.commitment import detect_champion_overloaded, detect_commitment_breached
from programs.choices import ProgramStatus
from programs.services import program_review_move, program_transition
from tests.factories import OrganizationFactory, PersonFactory, ProgramFactory

from .detector_helpers import ago, at, count_queries, run

pytestmark = pytest.mark.django_db


def redate(program, day: dt.date, hour: int = 10) -> None:
    """Date the program's latest history row in the story (services stamp it now)."""
    rows = type(program).history.model.objects.filter(id=program.pk).order_by("-history_id")
    rows.filter(history_id=rows.values_list("history_id", flat=True)[:1][0]).update(history_date=at(day, hour))


def launched(organization, *, review_on: dt.date | None = None, days_ago: int = 400, horizon: int = 60, **fields):
    """A program launched `days_ago` through the service, its history dated as it happened."""
    program = ProgramFactory(
        organization=organization,
        status=ProgramStatus.DRAFT,
        started_on=None,
        committed_horizon_months=horizon,
        earliest_review_on=review_on,
        **fields,
    )
    redate(program, ago(days_ago + 30))
    program_transition(program=program, to=ProgramStatus.ACTIVE, reason="go", force=True, at=at(ago(days_ago)))
    redate(program, ago(days_ago))
    program.refresh_from_db()
    return program


def move(program, to: str, days_ago: int, reason: str = "a decision") -> None:
    program_transition(program=program, to=to, reason=reason, at=at(ago(days_ago)))
    redate(program, ago(days_ago))


def cut_horizon(program, months: int, days_ago: int) -> None:
    program.committed_horizon_months = months
    program._history_date = at(ago(days_ago), 11)
    program._change_reason = "board wants results sooner"
    program.save()
    del program._history_date


# --- commitment_breached ---------------------------------------------------------------


def test_launch_sets_the_default_review_date_two_years_after_the_start(organization):
    program = launched(organization)
    assert program.started_on == ago(400)
    assert program.earliest_review_on == dt.date(2026, 5, 26)  # 2024-05-26 + 24 months


@pytest.mark.parametrize(("paused_days_ago", "breached"), [(11, True), (10, False)], ids=["day-before", "day-of"])
def test_a_pause_before_the_earliest_review_breaches(organization, paused_days_ago, breached):
    program = launched(organization, review_on=ago(10))
    move(program, ProgramStatus.PAUSED, paused_days_ago)
    findings = run(detect_commitment_breached, organization)
    if not breached:
        assert findings == []
        return
    [finding] = findings
    assert finding.kind == FlagKind.COMMITMENT_BREACHED
    assert (finding.subject_type, finding.subject_id, finding.severity) == (
        SubjectType.PROGRAM,
        program.id,
        Severity.CRITICAL,
    )
    assert (finding.owner_id, finding.escalation_level) == (program.executive_sponsor_id, 3)
    [breach] = finding.evidence["breaches"]
    assert breach["what"] == "paused"
    assert (breach["on"], breach["earliest_review_on"], breach["days_before_review"]) == (
        ago(11).isoformat(),
        ago(10).isoformat(),
        1,
    )
    assert breach["reason"] == "a decision"
    assert finding.evidence["status"] == "paused"


def test_a_resumed_program_no_longer_breaches_but_the_pause_still_shows_on_its_days(organization):
    program = launched(organization)
    move(program, ProgramStatus.PAUSED, 60)
    move(program, ProgramStatus.ACTIVE, 20)
    assert run(detect_commitment_breached, organization) == []
    assert len(run(detect_commitment_breached, organization, as_of=ago(30))) == 1


@pytest.mark.parametrize(("cancelled_days_ago", "breached"), [(364, True), (365, False)])
def test_a_cancellation_breaches_for_365_days(organization, cancelled_days_ago, breached):
    program = launched(organization, days_ago=500)
    move(program, ProgramStatus.CANCELLED, cancelled_days_ago)
    findings = run(detect_commitment_breached, organization)
    assert [f.subject_id for f in findings] == ([program.id] if breached else [])
    if breached:
        assert findings[0].evidence["breaches"][0]["what"] == "cancelled"


def test_a_pause_before_the_review_then_a_cancellation_after_it_is_still_a_breach(organization):
    program = launched(organization, review_on=ago(50))
    move(program, ProgramStatus.PAUSED, 100)
    move(program, ProgramStatus.CANCELLED, 20)
    [finding] = run(detect_commitment_breached, organization)
    [breach] = finding.evidence["breaches"]
    assert (breach["what"], breach["on"]) == ("paused", ago(100).isoformat())
    assert [c["to"] for c in breach["changes"]] == ["paused", "cancelled"]


def test_stopping_after_the_review_date_is_allowed(organization):
    program = launched(organization, review_on=ago(50))
    move(program, ProgramStatus.PAUSED, 40)
    assert run(detect_commitment_breached, organization) == []


def test_a_draft_cancelled_before_launch_broke_no_commitment(organization):
    program = ProgramFactory(organization=organization, status=ProgramStatus.DRAFT, earliest_review_on=ago(-300))
    move(program, ProgramStatus.CANCELLED, 30)
    assert run(detect_commitment_breached, organization) == []


def test_the_review_date_in_force_at_the_pause_decides(organization):
    program = launched(organization, review_on=ago(100))
    move(program, ProgramStatus.PAUSED, 50)  # after the review date then: allowed
    program_review_move(program=program, to=ago(-100), reason="board extends the commitment")
    redate(program, ago(20))
    assert run(detect_commitment_breached, organization) == []


@pytest.mark.parametrize(("cut_days_ago", "breached"), [(11, True), (10, False)], ids=["day-before", "day-of"])
def test_a_horizon_shortened_before_the_review_breaches(organization, cut_days_ago, breached):
    program = launched(organization, review_on=ago(10))
    cut_horizon(program, 24, cut_days_ago)
    findings = run(detect_commitment_breached, organization)
    assert len(findings) == (1 if breached else 0)
    if breached:
        [breach] = findings[0].evidence["breaches"]
        assert (breach["what"], breach["launched_with_months"], breach["committed_horizon_months"]) == (
            "horizon_shortened",
            60,
            24,
        )
        assert breach["cuts"][0]["reason"] == "board wants results sooner"
        assert "horizon cut from 60 to 24 months" in findings[0].title


def test_a_horizon_restored_clears_the_breach(organization):
    program = launched(organization)
    cut_horizon(program, 36, 100)
    assert len(run(detect_commitment_breached, organization)) == 1
    cut_horizon(program, 60, 50)
    assert run(detect_commitment_breached, organization) == []
    assert len(run(detect_commitment_breached, organization, as_of=ago(70))) == 1


def test_a_pause_and_a_cut_are_one_finding_with_both_breaches(organization):
    program = launched(organization)
    cut_horizon(program, 24, 100)
    move(program, ProgramStatus.PAUSED, 30)
    [finding] = run(detect_commitment_breached, organization)
    assert [b["what"] for b in finding.evidence["breaches"]] == ["paused", "horizon_shortened"]


def test_the_breach_is_owned_by_the_sponsor_or_the_ceo_without_one(organization):
    ceo = PersonFactory(organization=organization)
    organization.ceo = ceo
    organization.save()
    program = launched(organization, executive_sponsor=None)
    move(program, ProgramStatus.PAUSED, 30)
    [finding] = run(detect_commitment_breached, organization)
    assert (finding.owner_id, finding.escalation_level) == (ceo.id, 3)


def test_breach_scope_other_organizations_and_program_ids(organization, other_organization):
    mine = launched(organization)
    move(mine, ProgramStatus.PAUSED, 30)
    theirs = launched(other_organization)
    move(theirs, ProgramStatus.PAUSED, 30)
    assert [f.subject_id for f in run(detect_commitment_breached, organization)] == [mine.id]
    assert run(detect_commitment_breached, organization, program_ids=[]) == []
    assert [f.subject_id for f in run(detect_commitment_breached, organization, program_ids=[mine.id])] == [mine.id]


def test_breach_query_count_is_constant():
    small, large = OrganizationFactory(), OrganizationFactory()
    for org, n in ((small, 1), (large, 6)):
        for i in range(n):
            program = launched(org)
            cut_horizon(program, 24, 100)
            move(program, ProgramStatus.PAUSED if i % 2 else ProgramStatus.CANCELLED, 30)
    assert len(run(detect_commitment_breached, large)) == 6 * len(run(detect_commitment_breached, small))
    assert (
        count_queries(lambda: run(detect_commitment_breached, small))
        == count_queries(lambda: run(detect_commitment_breached, large))
        <= 3
    )


# --- champion_overloaded ---------------------------------------------------------------


@pytest.mark.parametrize(("second_pct", "flagged"), [(40, False), (41, True)])
def test_champion_over_100_percent_is_overloaded(organization, second_pct, flagged):
    champion = PersonFactory(organization=organization, is_officer=True)
    first = ProgramFactory(organization=organization, customer_champion=champion, champion_time_pct=60)
    second = ProgramFactory(
        organization=organization, customer_champion=champion, champion_time_pct=second_pct, status="paused"
    )
    findings = run(detect_champion_overloaded, organization)
    if not flagged:
        assert findings == []
        return
    assert [f.subject_id for f in findings] == [first.id, second.id]
    finding = findings[0]
    assert (finding.kind, finding.severity, finding.owner_id) == (
        FlagKind.CHAMPION_OVERLOADED,
        Severity.MEDIUM,
        first.executive_sponsor_id,
    )
    assert finding.evidence["total_time_pct"] == 101
    assert [(p["id"], p["champion_time_pct"]) for p in finding.evidence["programs"]] == [
        (first.id, 60),
        (second.id, 41),
    ]
    assert "101%" in finding.title


@pytest.mark.parametrize("status", [ProgramStatus.DRAFT, ProgramStatus.COMPLETED, ProgramStatus.CANCELLED])
def test_only_active_and_paused_programs_count_towards_the_load(organization, status):
    champion = PersonFactory(organization=organization, is_officer=True)
    ProgramFactory(organization=organization, customer_champion=champion, champion_time_pct=80)
    ProgramFactory(organization=organization, customer_champion=champion, champion_time_pct=80, status=status)
    assert run(detect_champion_overloaded, organization) == []


def test_program_ids_narrow_the_findings_not_the_load(organization, other_organization):
    champion = PersonFactory(organization=organization, is_officer=True)
    first = ProgramFactory(organization=organization, customer_champion=champion, champion_time_pct=70)
    ProgramFactory(organization=organization, customer_champion=champion, champion_time_pct=70)
    ProgramFactory(organization=other_organization, champion_time_pct=100)
    [finding] = run(detect_champion_overloaded, organization, program_ids=[first.id])
    assert (finding.subject_id, finding.evidence["total_time_pct"]) == (first.id, 140)
    assert run(detect_champion_overloaded, other_organization) == []


def test_champion_overloaded_query_count_is_constant():
    small, large = OrganizationFactory(), OrganizationFactory()
    for org, n in ((small, 1), (large, 5)):
        for _ in range(n):
            champion = PersonFactory(organization=org, is_officer=True)
            ProgramFactory(organization=org, customer_champion=champion, champion_time_pct=60)
            ProgramFactory(organization=org, customer_champion=champion, champion_time_pct=60)
    assert len(run(detect_champion_overloaded, large)) == 5 * len(run(detect_champion_overloaded, small)) == 10
    assert (
        count_queries(lambda: run(detect_champion_overloaded, small))
        == count_queries(lambda: run(detect_champion_overloaded, large))
        == 1
    )
