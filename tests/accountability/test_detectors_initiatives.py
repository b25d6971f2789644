"""initiative_stalled, initiative_overdue and the stalled_initiatives counts."""

import pytest

from accountability.choices import FlagKind, Severity, SubjectType
from accountability.detectors.initiatives import (
    detect_initiative_overdue,
    detect_initiative_stalled,
    stalled_initiatives,
)
from programs.choices import InitiativeStatus, ProgramStatus
from tests.factories import InitiativeFactory, ProgramFactory, ProgressUpdateFactory

from .detector_helpers import AS_OF, ago, by_subject, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization, stall_after_days=30)


# --- initiative_stalled ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "severity"),
    [(30, None), (31, Severity.MEDIUM), (60, Severity.MEDIUM), (61, Severity.HIGH)],
)
def test_stalled_thresholds_from_last_update(organization, program, days, severity):
    initiative = InitiativeFactory(program=program, starts_on=ago(400))
    ProgressUpdateFactory(initiative=initiative, reported_on=ago(300))
    ProgressUpdateFactory(initiative=initiative, reported_on=ago(days))
    findings = run(detect_initiative_stalled, organization)
    if severity is None:
        assert findings == []
        return
    [finding] = findings
    assert finding.kind == FlagKind.INITIATIVE_STALLED
    assert (finding.subject_type, finding.subject_id) == (SubjectType.INITIATIVE, initiative.id)
    assert finding.severity == severity
    assert finding.owner_id == initiative.owner_id
    assert finding.program_id == program.id
    assert finding.evidence["last_update_on"] == ago(days).isoformat()
    assert finding.evidence["days_since_activity"] == days
    assert finding.evidence["stall_after_days"] == 30
    assert f"for {days} days" in finding.title
    assert initiative.name in finding.title


@pytest.mark.parametrize(("days", "severity"), [(30, None), (31, Severity.MEDIUM), (61, Severity.HIGH)])
def test_stalled_counts_from_starts_on_without_updates(organization, program, days, severity):
    initiative = InitiativeFactory(program=program, starts_on=ago(days))
    found = by_subject(run(detect_initiative_stalled, organization))
    assert (found[initiative.id].severity if initiative.id in found else None) == severity
    if severity:
        assert found[initiative.id].evidence["last_update_on"] is None
        assert found[initiative.id].evidence["starts_on"] == ago(days).isoformat()


def test_stalled_uses_the_programs_own_threshold(organization):
    program = ProgramFactory(organization=organization, stall_after_days=10)
    initiative = InitiativeFactory(program=program, starts_on=ago(11))
    [finding] = run(detect_initiative_stalled, organization)
    assert finding.subject_id == initiative.id
    assert finding.severity == Severity.MEDIUM
    assert finding.evidence["high_after_days"] == 20


def test_stalled_skips_initiatives_without_update_or_start(organization, program):
    InitiativeFactory(program=program, starts_on=None)
    assert run(detect_initiative_stalled, organization) == []


def test_stalled_ignores_updates_after_as_of(organization, program):
    initiative = InitiativeFactory(program=program, starts_on=ago(90))
    ProgressUpdateFactory(initiative=initiative, reported_on=ago(40))
    ProgressUpdateFactory(initiative=initiative, reported_on=ago(-5))  # written after the scan date
    [finding] = run(detect_initiative_stalled, organization)
    assert finding.evidence["last_update_on"] == ago(40).isoformat()


@pytest.mark.parametrize(
    ("status", "flagged"),
    [
        (InitiativeStatus.IN_PROGRESS, True),
        (InitiativeStatus.BLOCKED, True),
        (InitiativeStatus.PLANNED, False),
        (InitiativeStatus.DONE, False),
        (InitiativeStatus.CANCELLED, False),
    ],
)
def test_stalled_only_in_flight_statuses(organization, program, status, flagged):
    InitiativeFactory(program=program, status=status, starts_on=ago(100))
    assert bool(run(detect_initiative_stalled, organization)) is flagged


def test_stalled_identity_ignores_the_growing_day_count(organization, program):
    InitiativeFactory(program=program, starts_on=ago(40))
    [today] = run(detect_initiative_stalled, organization)
    [tomorrow] = run(detect_initiative_stalled, organization, as_of=ago(-1))
    assert today.evidence != tomorrow.evidence
    assert today.fingerprint == tomorrow.fingerprint


def test_stalled_initiatives_counts_per_program(organization, program):
    quiet = ProgramFactory(organization=organization)
    ProgramFactory(organization=organization, status=ProgramStatus.COMPLETED)
    InitiativeFactory(program=program, starts_on=ago(31))  # stalled
    InitiativeFactory(program=program, status=InitiativeStatus.BLOCKED, starts_on=ago(100))  # stalled
    fresh = InitiativeFactory(program=program, starts_on=ago(100))
    ProgressUpdateFactory(initiative=fresh, reported_on=ago(3))
    InitiativeFactory(program=program, starts_on=None)  # in flight, never stalled
    InitiativeFactory(program=program, status=InitiativeStatus.DONE, starts_on=ago(100))  # not in flight
    counts = stalled_initiatives(organization=organization, as_of=AS_OF)
    assert counts == {program.id: (2, 4), quiet.id: (0, 0)}
    assert stalled_initiatives(organization=organization, as_of=AS_OF, program_ids=[quiet.id]) == {quiet.id: (0, 0)}


# --- initiative_overdue ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_past", "severity"),
    [(-1, None), (0, None), (1, Severity.MEDIUM), (30, Severity.MEDIUM), (31, Severity.HIGH)],
)
def test_overdue_thresholds(organization, program, days_past, severity):
    initiative = InitiativeFactory(program=program, due_on=ago(days_past))
    findings = run(detect_initiative_overdue, organization)
    if severity is None:
        assert findings == []
        return
    [finding] = findings
    assert finding.kind == FlagKind.INITIATIVE_OVERDUE
    assert finding.subject_id == initiative.id
    assert finding.severity == severity
    assert finding.owner_id == initiative.owner_id
    assert finding.evidence["due_on"] == ago(days_past).isoformat()
    assert finding.evidence["days_overdue"] == days_past
    assert f"{days_past} days overdue" in finding.title


@pytest.mark.parametrize(
    ("status", "flagged"),
    [
        (InitiativeStatus.PLANNED, True),
        (InitiativeStatus.IN_PROGRESS, True),
        (InitiativeStatus.BLOCKED, True),
        (InitiativeStatus.DONE, False),
        (InitiativeStatus.CANCELLED, False),
    ],
)
def test_overdue_statuses(organization, program, status, flagged):
    InitiativeFactory(program=program, status=status, due_on=ago(5))
    assert bool(run(detect_initiative_overdue, organization)) is flagged


def test_overdue_without_due_date_is_never_flagged(organization, program):
    InitiativeFactory(program=program, due_on=None)
    assert run(detect_initiative_overdue, organization) == []
