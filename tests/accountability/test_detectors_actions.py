"""action_overdue and escalation_unresolved."""

import pytest

from accountability.choices import ActionStatus, FlagKind, Severity, SubjectType
from accountability.detectors.actions import detect_action_overdue, detect_escalation_unresolved
from tests.factories import (
    ActionItemFactory,
    EscalationFactory,
    ForumSessionFactory,
    MetricFactory,
    PersonFactory,
    ProgramFactory,
)

from .detector_helpers import ago, at, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization)


# --- action_overdue --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_past", "severity"),
    [(0, None), (1, Severity.LOW), (14, Severity.LOW), (15, Severity.MEDIUM), (90, Severity.MEDIUM)],
)
def test_action_overdue_thresholds(organization, program, days_past, severity):
    session = ForumSessionFactory(forum__program=program, scheduled_for=at(ago(60)))
    action = ActionItemFactory(program=program, session=session, due_on=ago(days_past))
    findings = run(detect_action_overdue, organization)
    if severity is None:
        assert findings == []
        return
    [finding] = findings
    assert finding.kind == FlagKind.ACTION_OVERDUE
    assert (finding.subject_type, finding.subject_id) == (SubjectType.ACTION_ITEM, action.id)
    assert finding.severity == severity
    assert finding.owner_id == action.owner_id
    assert finding.evidence["due_on"] == ago(days_past).isoformat()
    assert finding.evidence["days_overdue"] == days_past
    assert finding.evidence["session_id"] == session.id
    assert finding.evidence["session_date"] == ago(60).isoformat()


@pytest.mark.parametrize("status", [ActionStatus.DONE, ActionStatus.CANCELLED])
def test_closed_actions_are_not_overdue(organization, program, status):
    ActionItemFactory(program=program, due_on=ago(30), status=status, completed_on=ago(20))
    assert run(detect_action_overdue, organization) == []


def test_action_done_after_as_of_was_still_open_on_as_of(organization, program):
    action = ActionItemFactory(program=program, due_on=ago(30), status=ActionStatus.DONE, completed_on=ago(-3))
    [finding] = run(detect_action_overdue, organization)
    assert finding.subject_id == action.id


def test_action_identity_ignores_days_overdue(organization, program):
    ActionItemFactory(program=program, due_on=ago(3))
    [today] = run(detect_action_overdue, organization)
    [tomorrow] = run(detect_action_overdue, organization, as_of=ago(-1))
    assert today.fingerprint == tomorrow.fingerprint


# --- escalation_unresolved -------------------------------------------------------------


@pytest.mark.parametrize(("days_open", "flagged"), [(29, False), (30, False), (31, True), (200, True)])
def test_escalation_threshold(organization, program, days_open, flagged):
    boss = PersonFactory(organization=organization, is_officer=True)
    escalation = EscalationFactory(program=program, raised_on=ago(days_open), raised_to=boss)
    findings = run(detect_escalation_unresolved, organization)
    if not flagged:
        assert findings == []
        return
    [finding] = findings
    assert finding.kind == FlagKind.ESCALATION_UNRESOLVED
    assert (finding.subject_type, finding.subject_id) == (SubjectType.ESCALATION, escalation.id)
    assert finding.severity == Severity.HIGH
    assert finding.owner_id == boss.id
    assert finding.evidence["raised_on"] == ago(days_open).isoformat()
    assert finding.evidence["days_open"] == days_open
    assert finding.evidence["initiative_id"] == escalation.initiative_id
    assert finding.evidence["raised_to"] == boss.name
    assert escalation.initiative.name in finding.title


def test_resolved_escalation_is_not_flagged(organization, program):
    EscalationFactory(program=program, raised_on=ago(90), resolved_on=ago(10))
    EscalationFactory(program=program, raised_on=ago(90), resolved_on=ago(0))
    assert run(detect_escalation_unresolved, organization) == []


def test_escalation_resolved_after_as_of_was_open_on_as_of(organization, program):
    escalation = EscalationFactory(program=program, raised_on=ago(90), resolved_on=ago(-1))
    [finding] = run(detect_escalation_unresolved, organization)
    assert finding.subject_id == escalation.id


def test_escalation_on_a_metric(organization, program):
    metric = MetricFactory(program=program)
    escalation = EscalationFactory(program=program, initiative=None, metric=metric, raised_on=ago(40))
    [finding] = run(detect_escalation_unresolved, organization)
    assert finding.subject_id == escalation.id
    assert finding.evidence["metric_id"] == metric.id
    assert f"metric '{metric.name}'" in finding.title
