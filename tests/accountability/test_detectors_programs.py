"""no_business_outcome, champion_not_officer and roadmap_unfunded."""

from decimal import Decimal

import pytest

from accountability.choices import FlagKind, Severity, SubjectType
from accountability.detectors.programs import (
    detect_champion_not_officer,
    detect_no_business_outcome,
    detect_roadmap_unfunded,
)
from metrics.choices import Kind, Level, MetricStatus
from programs.choices import StageStatus
from tests.factories import MetricFactory, PersonFactory, ProgramFactory, RoadmapStageFactory

from .detector_helpers import ago, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization)


# --- no_business_outcome ---------------------------------------------------------------


def test_program_without_outcome_metric(organization, program):
    MetricFactory(program=program, level=Level.STRATEGIC, kind=Kind.PERCEPTION)
    MetricFactory(program=program, level=Level.TACTICAL, kind=Kind.OUTCOME)
    MetricFactory(program=program, level=Level.STRATEGIC, kind=Kind.OUTCOME, status=MetricStatus.RETIRED)
    [finding] = run(detect_no_business_outcome, organization)
    assert finding.kind == FlagKind.NO_BUSINESS_OUTCOME
    assert (finding.subject_type, finding.subject_id) == (SubjectType.PROGRAM, program.id)
    assert finding.severity == Severity.HIGH
    assert finding.owner_id == program.customer_champion_id
    assert program.name in finding.title


def test_program_with_active_strategic_outcome_metric(organization, program):
    MetricFactory(program=program, level=Level.STRATEGIC, kind=Kind.OUTCOME)
    assert run(detect_no_business_outcome, organization) == []


# --- champion_not_officer --------------------------------------------------------------


def test_missing_champion_is_high(organization):
    program = ProgramFactory(organization=organization, customer_champion=None)
    [finding] = run(detect_champion_not_officer, organization)
    assert finding.kind == FlagKind.CHAMPION_NOT_OFFICER
    assert finding.subject_id == program.id
    assert finding.severity == Severity.HIGH
    assert finding.owner_id == program.executive_sponsor_id
    assert finding.evidence["champion_id"] is None


def test_champion_not_officer_is_high_even_with_full_time(organization):
    manager = PersonFactory(organization=organization, is_officer=False, title="Customer manager")
    program = ProgramFactory(organization=organization, customer_champion=manager, champion_time_pct=100)
    [finding] = run(detect_champion_not_officer, organization)
    assert finding.severity == Severity.HIGH
    assert finding.evidence["champion_is_officer"] is False
    assert finding.evidence["champion"] == manager.name
    assert finding.owner_id == program.executive_sponsor_id
    assert "not an officer" in finding.title


def test_inactive_champion_counts_as_missing(organization):
    gone = PersonFactory(organization=organization, is_officer=True, active=False)
    ProgramFactory(organization=organization, customer_champion=gone, champion_time_pct=80)
    [finding] = run(detect_champion_not_officer, organization)
    assert finding.severity == Severity.HIGH
    assert finding.evidence["champion_active"] is False


@pytest.mark.parametrize(("pct", "severity"), [(0, Severity.MEDIUM), (49, Severity.MEDIUM), (50, None), (80, None)])
def test_champion_time_threshold(organization, pct, severity):
    program = ProgramFactory(organization=organization, champion_time_pct=pct)
    findings = run(detect_champion_not_officer, organization)
    if severity is None:
        assert findings == []
        return
    [finding] = findings
    assert finding.severity == severity
    assert finding.evidence["champion_time_pct"] == pct
    assert finding.evidence["min_time_pct"] == 50
    assert finding.owner_id == program.executive_sponsor_id


# --- roadmap_unfunded ------------------------------------------------------------------


@pytest.mark.parametrize("budget", [None, Decimal("0")])
def test_stage_in_progress_without_budget(organization, program, budget):
    stage = RoadmapStageFactory(program=program, status=StageStatus.IN_PROGRESS, budget=budget, starts_on=ago(200))
    [finding] = run(detect_roadmap_unfunded, organization)
    assert finding.kind == FlagKind.ROADMAP_UNFUNDED
    assert (finding.subject_type, finding.subject_id) == (SubjectType.STAGE, stage.id)
    assert finding.severity == Severity.MEDIUM
    assert finding.owner_id == program.customer_champion_id
    assert finding.evidence["budget"] == (None if budget is None else "0.00")
    assert finding.evidence["status"] == StageStatus.IN_PROGRESS


def test_funded_or_done_stages_are_fine(organization, program):
    RoadmapStageFactory(program=program, status=StageStatus.IN_PROGRESS, budget=Decimal("0.01"))
    RoadmapStageFactory(program=program, status=StageStatus.DONE, budget=None, starts_on=ago(10))
    assert run(detect_roadmap_unfunded, organization) == []


@pytest.mark.parametrize(
    ("starts_in", "flagged"),
    [(-1, False), (0, True), (45, True), (90, True), (91, False)],
)
def test_planned_stage_starting_within_90_days(organization, program, starts_in, flagged):
    stage = RoadmapStageFactory(program=program, status=StageStatus.PLANNED, budget=None, starts_on=ago(-starts_in))
    findings = run(detect_roadmap_unfunded, organization)
    assert [f.subject_id for f in findings] == ([stage.id] if flagged else [])
    if flagged:
        assert findings[0].evidence["starts_on"] == ago(-starts_in).isoformat()


def test_planned_stage_without_start_date_is_not_flagged(organization, program):
    RoadmapStageFactory(program=program, status=StageStatus.PLANNED, budget=None, starts_on=None)
    assert run(detect_roadmap_unfunded, organization) == []
