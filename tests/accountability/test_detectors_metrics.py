"""metric_unowned, metric_not_cascaded and metric_stale."""

import pytest

from accountability.choices import FlagKind, Severity, SubjectType
from accountability.detectors.metrics import detect_metric_not_cascaded, detect_metric_stale, detect_metric_unowned
from metrics.choices import Cadence, Kind, Level, MetricStatus
from tests.factories import MeasurementFactory, MetricFactory, PersonFactory, ProgramFactory

from .detector_helpers import ago, at, by_subject, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization)


def measured(metric, days_ago: int):
    MeasurementFactory(metric=metric, period_end=ago(days_ago))
    return metric


# --- metric_unowned --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "severity"),
    [(Level.STRATEGIC, Severity.HIGH), (Level.TACTICAL, Severity.MEDIUM), (Level.OPERATIONAL, Severity.MEDIUM)],
)
def test_metric_without_owner(organization, program, level, severity):
    metric = MetricFactory(program=program, level=level, owner=None)
    [finding] = run(detect_metric_unowned, organization)
    assert finding.kind == FlagKind.METRIC_UNOWNED
    assert (finding.subject_type, finding.subject_id) == (SubjectType.METRIC, metric.id)
    assert finding.severity == severity
    assert finding.owner_id == program.customer_champion_id
    assert finding.evidence["owner_id"] is None
    assert "has no owner" in finding.title


def test_metric_with_inactive_owner(organization, program):
    gone = PersonFactory(organization=organization, active=False)
    metric = MetricFactory(program=program, level=Level.TACTICAL, owner=gone)
    [finding] = run(detect_metric_unowned, organization)
    assert finding.subject_id == metric.id
    assert finding.severity == Severity.MEDIUM
    assert finding.evidence["owner_id"] == gone.id
    assert finding.evidence["owner_active"] is False
    assert gone.name in finding.title


def test_owned_or_retired_metrics_are_not_unowned(organization, program):
    MetricFactory(program=program)
    MetricFactory(program=program, owner=None, status=MetricStatus.RETIRED)
    assert run(detect_metric_unowned, organization) == []


# --- metric_not_cascaded ---------------------------------------------------------------


def test_strategic_metric_with_active_operational_grandchild_is_cascaded(organization, program):
    top = MetricFactory(program=program, level=Level.STRATEGIC)
    mid = MetricFactory(program=program, parent=top, level=Level.TACTICAL)
    MetricFactory(program=program, parent=mid, level=Level.OPERATIONAL)
    assert run(detect_metric_not_cascaded, organization) == []


def test_strategic_metric_with_direct_operational_child_is_cascaded(organization, program):
    top = MetricFactory(program=program, level=Level.STRATEGIC)
    MetricFactory(program=program, parent=top, level=Level.OPERATIONAL)
    assert run(detect_metric_not_cascaded, organization) == []


def test_strategic_metric_stopping_at_tactical_is_not_cascaded(organization, program):
    top = MetricFactory(program=program, level=Level.STRATEGIC)
    mid = MetricFactory(program=program, parent=top, level=Level.TACTICAL)
    [finding] = run(detect_metric_not_cascaded, organization)
    assert finding.kind == FlagKind.METRIC_NOT_CASCADED
    assert finding.subject_id == top.id
    assert finding.severity == Severity.MEDIUM
    assert finding.owner_id == top.owner_id
    assert finding.evidence["active_tactical_descendant_ids"] == [mid.id]


def test_only_retired_operational_descendants_do_not_count(organization, program):
    top = MetricFactory(program=program, level=Level.STRATEGIC)
    mid = MetricFactory(program=program, parent=top, level=Level.TACTICAL)
    MetricFactory(program=program, parent=mid, level=Level.OPERATIONAL, status=MetricStatus.RETIRED)
    MetricFactory(program=program, parent=top, level=Level.OPERATIONAL, status=MetricStatus.RETIRED)
    assert by_subject(run(detect_metric_not_cascaded, organization)).keys() == {top.id}


def test_operational_under_a_sibling_tree_does_not_count(organization, program):
    top = MetricFactory(program=program, level=Level.STRATEGIC)
    other = MetricFactory(program=program, level=Level.STRATEGIC)
    MetricFactory(program=program, parent=other, level=Level.OPERATIONAL)
    assert by_subject(run(detect_metric_not_cascaded, organization)).keys() == {top.id}


def test_retired_or_non_strategic_metrics_need_no_cascade(organization, program):
    MetricFactory(program=program, level=Level.STRATEGIC, status=MetricStatus.RETIRED)
    MetricFactory(program=program, level=Level.TACTICAL)
    assert run(detect_metric_not_cascaded, organization) == []


# --- metric_stale ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cadence", "days", "severity"),
    [
        (Cadence.MONTHLY, 60, None),
        (Cadence.MONTHLY, 61, Severity.LOW),
        (Cadence.MONTHLY, 120, Severity.LOW),
        (Cadence.MONTHLY, 121, Severity.MEDIUM),
        (Cadence.WEEKLY, 14, None),
        (Cadence.WEEKLY, 15, Severity.LOW),
        (Cadence.WEEKLY, 28, Severity.LOW),
        (Cadence.WEEKLY, 29, Severity.MEDIUM),
        (Cadence.QUARTERLY, 182, None),
        (Cadence.QUARTERLY, 183, Severity.LOW),
        (Cadence.QUARTERLY, 364, Severity.LOW),
        (Cadence.QUARTERLY, 365, Severity.MEDIUM),
    ],
)
def test_stale_thresholds_from_latest_measurement(organization, program, cadence, days, severity):
    metric = MetricFactory(program=program, reporting_cadence=cadence, created_at=at(ago(900)))
    measured(metric, days + 100)
    measured(metric, days)
    findings = run(detect_metric_stale, organization)
    if severity is None:
        assert findings == []
        return
    [finding] = findings
    assert finding.kind == FlagKind.METRIC_STALE
    assert finding.subject_id == metric.id
    assert finding.severity == severity
    assert finding.owner_id == metric.owner_id
    assert finding.evidence["latest_period_end"] == ago(days).isoformat()
    assert finding.evidence["days_since"] == days


@pytest.mark.parametrize(("days", "severity"), [(60, None), (61, Severity.LOW), (121, Severity.MEDIUM)])
def test_stale_counts_from_creation_while_never_measured(organization, program, days, severity):
    metric = MetricFactory(program=program, created_at=at(ago(days), hour=23))
    found = by_subject(run(detect_metric_stale, organization))
    assert (found[metric.id].severity if metric.id in found else None) == severity
    if severity:
        assert found[metric.id].evidence["latest_period_end"] is None
        assert found[metric.id].evidence["created_on"] == ago(days).isoformat()
        assert "never been measured" in found[metric.id].title


def test_stale_ignores_measurements_after_as_of(organization, program):
    metric = MetricFactory(program=program, created_at=at(ago(900)))
    measured(metric, 90)
    measured(metric, -10)
    [finding] = run(detect_metric_stale, organization)
    assert finding.evidence["latest_period_end"] == ago(90).isoformat()


def test_retired_metrics_are_never_stale(organization, program):
    MetricFactory(program=program, status=MetricStatus.RETIRED, created_at=at(ago(900)))
    assert run(detect_metric_stale, organization) == []


def test_stale_identity_ignores_day_count_but_not_severity(organization, program):
    metric = MetricFactory(program=program, kind=Kind.OPERATIONAL, created_at=at(ago(900)))
    measured(metric, 70)
    [low] = run(detect_metric_stale, organization)
    [still_low] = run(detect_metric_stale, organization, as_of=ago(-10))
    [medium] = run(detect_metric_stale, organization, as_of=ago(-60))
    assert low.fingerprint == still_low.fingerprint
    assert medium.severity == Severity.MEDIUM and medium.fingerprint != low.fingerprint


@pytest.mark.parametrize("owner_active", [None, False])
def test_metric_findings_without_active_owner_go_to_the_champion(organization, program, owner_active):
    owner = None if owner_active is None else PersonFactory(organization=organization, active=False)
    metric = MetricFactory(program=program, level=Level.STRATEGIC, owner=owner, created_at=at(ago(200)))
    for detector in (detect_metric_stale, detect_metric_not_cascaded):
        [finding] = run(detector, organization)
        assert finding.subject_id == metric.id
        assert finding.owner_id == program.customer_champion_id
