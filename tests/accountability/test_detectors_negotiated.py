"""metric_negotiated_away: every reason, its severity steps, the window, and forum approval.

Revisions are written through `metrics.services.metric_update`, so the values are the
strings the real service stores.
"""

import datetime as dt
from decimal import Decimal

import pytest

from accountability.choices import FlagKind, Severity, SubjectType
from accountability.detectors.negotiated import detect_metric_negotiated_away
from metrics.choices import Direction, Kind, Level, MetricStatus
from metrics.services import metric_update
from tests.factories import AttendanceFactory, ExemptionFactory, ForumSessionFactory, MetricFactory, ProgramFactory

from .detector_helpers import AS_OF, ago, at, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization)


@pytest.fixture
def session(program):
    """A held session 40 days ago with the sponsor there in person: an approval that counts."""
    held = ForumSessionFactory(forum__program=program, scheduled_for=at(ago(40)))
    AttendanceFactory(session=held, person=program.executive_sponsor, present=True)
    return held


def change(metric, days_ago: int, approved_in=None, **changes):
    metric_update(metric=metric, changes=changes, reason="negotiated", at=at(ago(days_ago)), approved_in=approved_in)
    return metric


def reasons(finding) -> dict[str, dict]:
    return {r["reason"]: r for r in finding.evidence["reasons"]}


def only_finding(organization, as_of=AS_OF):
    [finding] = run(detect_metric_negotiated_away, organization, as_of=as_of)
    return finding


def increasing(program, **fields):
    defaults = {"baseline": Decimal("50"), "target": Decimal("70"), "kind": Kind.OPERATIONAL}
    return MetricFactory(program=program, direction=Direction.INCREASE, **{**defaults, **fields})


# --- target_loosened -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new_target", "severity", "size"),
    [
        ("67", Severity.LOW, 15.0),
        ("66.1", Severity.LOW, 19.5),
        ("66", Severity.MEDIUM, 20.0),
        ("60.1", Severity.MEDIUM, 49.5),
        ("60", Severity.HIGH, 50.0),
        ("40", Severity.HIGH, 150.0),
    ],
)
def test_target_loosened_size_steps(organization, program, new_target, severity, size):
    metric = change(increasing(program), 30, target=Decimal(new_target))
    finding = only_finding(organization)
    assert finding.kind == FlagKind.METRIC_NEGOTIATED_AWAY
    assert (finding.subject_type, finding.subject_id) == (SubjectType.METRIC, metric.id)
    assert finding.owner_id == metric.owner_id
    reason = reasons(finding)["target_loosened"]
    assert reason["severity"] == severity
    assert reason["size_pct"] == size
    assert reason["target_at_start"] == "70"
    assert reason["target_now"] == new_target
    assert reason["approved_in_forum"] is False
    [revision] = reason["revisions"]
    assert revision["field"] == "target"
    assert (revision["old"], revision["new"]) == ("70", new_target)
    assert revision["changed_at"] == at(ago(30)).isoformat()
    assert revision["reason"] == "negotiated"
    assert revision["approved_in"] is None
    # 40 is also below the baseline (target_not_ambitious, high); otherwise the one reason decides.
    assert finding.severity == severity
    assert ("target_not_ambitious" in reasons(finding)) is (new_target == "40")


def test_target_loosened_for_decreasing_metric(organization, program):
    metric = MetricFactory(
        program=program,
        direction=Direction.DECREASE,
        baseline=Decimal("10"),
        target=Decimal("5"),
        kind=Kind.OPERATIONAL,
    )
    change(metric, 30, target=Decimal("7"))
    reason = reasons(only_finding(organization))["target_loosened"]
    assert reason["severity"] == Severity.MEDIUM
    assert reason["size_pct"] == 40.0


def test_tightening_is_not_loosening(organization, program):
    change(increasing(program), 30, target=Decimal("75"))
    metric = MetricFactory(
        program=program,
        direction=Direction.DECREASE,
        baseline=Decimal("10"),
        target=Decimal("5"),
        kind=Kind.OPERATIONAL,
    )
    change(metric, 30, target=Decimal("4"))
    assert run(detect_metric_negotiated_away, organization) == []


def test_target_loosened_size_without_baseline_is_relative_to_old_target(organization, program):
    change(increasing(program, baseline=None, target=Decimal("100")), 30, target=Decimal("80"))
    reason = reasons(only_finding(organization))["target_loosened"]
    assert (reason["severity"], reason["size_pct"]) == (Severity.MEDIUM, 20.0)


def test_two_small_loosening_revisions_are_high(organization, program):
    metric = change(increasing(program), 60, target=Decimal("69"))
    change(metric, 30, target=Decimal("68"))
    reason = reasons(only_finding(organization))["target_loosened"]
    assert reason["size_pct"] == 10.0
    assert reason["loosening_revisions"] == 2
    assert reason["severity"] == Severity.HIGH
    assert [r["new"] for r in reason["revisions"]] == ["69", "68"]


def test_loosened_then_restored_is_not_loosened(organization, program):
    metric = change(increasing(program), 60, target=Decimal("60"))
    change(metric, 30, target=Decimal("70"))
    assert run(detect_metric_negotiated_away, organization) == []


def test_target_set_then_cut_within_the_window_is_loosened(organization, program):
    metric = change(increasing(program, target=None), 90, target=Decimal("70"))
    change(metric, 30, target=Decimal("66"))
    reason = reasons(only_finding(organization))["target_loosened"]
    assert (reason["target_at_start"], reason["target_now"]) == ("70", "66")
    assert (reason["severity"], reason["loosening_revisions"]) == (Severity.MEDIUM, 1)


def test_deadline_set_then_pushed_within_the_window(organization, program):
    metric = change(increasing(program, target_on=None), 90, target_on=dt.date(2025, 12, 31))
    change(metric, 30, target_on=dt.date(2026, 4, 30))
    reason = reasons(only_finding(organization))["deadline_extended"]
    assert (reason["extended_by_days"], reason["severity"]) == (120, Severity.MEDIUM)


def test_removing_the_target_is_high(organization, program):
    change(increasing(program), 30, target=None)
    reason = reasons(only_finding(organization))["target_loosened"]
    assert reason["severity"] == Severity.HIGH
    assert reason["target_now"] is None


@pytest.mark.parametrize(("days_ago", "in_window"), [(364, True), (365, False)])
def test_window_is_the_last_365_days(organization, program, days_ago, in_window):
    change(increasing(program), days_ago, target=Decimal("60"))
    assert bool(run(detect_metric_negotiated_away, organization)) is in_window


def test_target_in_force_on_as_of_ignores_later_revisions(organization, program):
    metric = change(increasing(program), 30, target=Decimal("60"))
    change(metric, -5, target=Decimal("70"))  # restored after the scan date
    reason = reasons(only_finding(organization))["target_loosened"]
    assert (reason["target_at_start"], reason["target_now"]) == ("70", "60")
    # Seen from after the restore, nothing is loosened any more.
    assert run(detect_metric_negotiated_away, organization, as_of=ago(-10)) == []


def test_revision_made_after_as_of_is_not_yet_counted(organization, program):
    change(increasing(program), -5, target=Decimal("60"))
    assert run(detect_metric_negotiated_away, organization) == []


def test_approved_in_forum_lowers_one_step(organization, program, session):
    change(increasing(program), 30, approved_in=session, target=Decimal("60"))
    finding = only_finding(organization)
    reason = reasons(finding)["target_loosened"]
    assert reason["base_severity"] == Severity.HIGH
    assert reason["severity"] == Severity.MEDIUM
    assert reason["approved_in_forum"] is True
    assert reason["approved_in_sessions"] == [session.id]
    assert reason["revisions"][0]["approved_in"] == session.id
    assert reason["revisions"][0]["approved_in_date"] == ago(40).isoformat()
    assert finding.severity == Severity.MEDIUM


def test_approval_never_goes_below_low(organization, program, session):
    change(increasing(program), 30, approved_in=session, target=Decimal("67"))
    reason = reasons(only_finding(organization))["target_loosened"]
    assert (reason["base_severity"], reason["severity"], reason["approved_in_forum"]) == (
        Severity.LOW,
        Severity.LOW,
        True,
    )


def test_approval_needs_every_revision_of_the_reason(organization, program, session):
    metric = change(increasing(program), 60, approved_in=session, target=Decimal("69"))
    change(metric, 30, target=Decimal("68"))
    reason = reasons(only_finding(organization))["target_loosened"]
    assert reason["severity"] == Severity.HIGH
    assert reason["approved_in_forum"] is False
    assert reason["approved_in_sessions"] == [session.id]


# --- deadline_extended -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "severity"),
    [(89, None), (90, Severity.MEDIUM), (179, Severity.MEDIUM), (180, Severity.HIGH), (-200, None)],
)
def test_deadline_extended_steps(organization, program, days, severity):
    metric = increasing(program, target_on=dt.date(2025, 12, 31))
    change(metric, 30, target_on=dt.date(2025, 12, 31) + dt.timedelta(days=days))
    findings = run(detect_metric_negotiated_away, organization)
    if severity is None:
        assert findings == []
        return
    reason = reasons(findings[0])["deadline_extended"]
    assert reason["severity"] == severity
    assert reason["extended_by_days"] == days
    assert reason["target_on_at_start"] == "2025-12-31"
    assert reason["revisions"][0]["old"] == "2025-12-31"


def test_deadline_extensions_add_up_over_the_window(organization, program, session):
    metric = increasing(program, target_on=dt.date(2025, 12, 31))
    change(metric, 200, target_on=dt.date(2026, 3, 1))
    change(metric, 30, target_on=dt.date(2026, 7, 1))
    reason = reasons(only_finding(organization))["deadline_extended"]
    assert reason["extended_by_days"] == 182
    assert reason["severity"] == Severity.HIGH
    assert len(reason["revisions"]) == 2


def test_deadline_extension_approved_in_forum(organization, program, session):
    metric = increasing(program, target_on=dt.date(2025, 12, 31))
    change(metric, 30, approved_in=session, target_on=dt.date(2026, 4, 30))
    reason = reasons(only_finding(organization))["deadline_extended"]
    assert (reason["base_severity"], reason["severity"]) == (Severity.MEDIUM, Severity.LOW)
    assert reason["approved_in_forum"] is True


# --- retired_without_replacement -------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "severity"),
    [(Kind.OUTCOME, Severity.HIGH), (Kind.PERCEPTION, Severity.HIGH), (Kind.OPERATIONAL, Severity.MEDIUM)],
)
def test_retired_without_replacement(organization, program, kind, severity):
    metric = change(increasing(program, kind=kind), 30, status=MetricStatus.RETIRED)
    finding = only_finding(organization)
    assert finding.subject_id == metric.id
    reason = reasons(finding)["retired_without_replacement"]
    assert reason["severity"] == severity
    assert reason["retired_on"] == ago(30).isoformat()
    assert reason["revisions"][0]["new"] == "retired"
    assert finding.severity == severity


def test_retired_with_active_replacement_is_fine(organization, program):
    replacement = increasing(program, kind=Kind.OUTCOME)  # as strong a kind, asking as much
    metric = increasing(program, kind=Kind.OUTCOME)
    metric_update(
        metric=metric,
        changes={"status": MetricStatus.RETIRED, "replaced_by": replacement},
        reason="superseded",
        at=at(ago(30)),
    )
    assert run(detect_metric_negotiated_away, organization) == []


def test_replacement_that_is_itself_retired_does_not_count(organization, program):
    replacement = increasing(program, status=MetricStatus.RETIRED)
    metric = increasing(program, kind=Kind.OUTCOME)
    metric_update(
        metric=metric,
        changes={"status": MetricStatus.RETIRED, "replaced_by": replacement},
        reason="superseded",
        at=at(ago(30)),
    )
    finding = only_finding(organization)
    assert finding.subject_id == metric.id
    assert reasons(finding)["retired_without_replacement"]["replaced_by_id"] == replacement.id


def test_retired_before_the_window_is_not_flagged(organization, program):
    change(increasing(program, kind=Kind.OUTCOME), 400, status=MetricStatus.RETIRED)
    assert run(detect_metric_negotiated_away, organization) == []


def test_retirement_approved_in_forum(organization, program, session):
    change(increasing(program, kind=Kind.OUTCOME), 30, approved_in=session, status=MetricStatus.RETIRED)
    reason = reasons(only_finding(organization))["retired_without_replacement"]
    assert (reason["severity"], reason["approved_in_forum"]) == (Severity.MEDIUM, True)


# --- incentive_weight_cut --------------------------------------------------------------


@pytest.mark.parametrize(("new", "severity"), [(25, None), (20, None), (19, Severity.MEDIUM), (0, Severity.HIGH)])
def test_incentive_weight_cut(organization, program, new, severity):
    change(increasing(program, incentive_weight=20), 30, incentive_weight=new)
    findings = run(detect_metric_negotiated_away, organization)
    if severity is None:
        assert findings == []
        return
    reason = reasons(findings[0])["incentive_weight_cut"]
    assert reason["severity"] == severity
    assert (reason["weight_at_start"], reason["weight_now"]) == (20, new)


def test_incentive_cut_to_zero_approved_in_forum(organization, program, session):
    change(increasing(program, incentive_weight=20), 30, approved_in=session, incentive_weight=0)
    reason = reasons(only_finding(organization))["incentive_weight_cut"]
    assert (reason["severity"], reason["approved_in_forum"]) == (Severity.MEDIUM, True)


# --- exemption_granted -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "severity"),
    [(Kind.PERCEPTION, Severity.HIGH), (Kind.OUTCOME, Severity.MEDIUM), (Kind.OPERATIONAL, Severity.MEDIUM)],
)
def test_exemption_active_on_as_of(organization, program, kind, severity):
    metric = increasing(program, kind=kind)
    exemption = ExemptionFactory(metric=metric, starts_on=ago(100), ends_on=None)
    finding = only_finding(organization)
    assert finding.subject_id == metric.id
    reason = reasons(finding)["exemption_granted"]
    assert reason["severity"] == severity
    assert reason["revisions"] == []
    [evidence] = reason["exemptions"]
    assert evidence["id"] == exemption.id
    assert evidence["person_id"] == exemption.person_id
    assert evidence["starts_on"] == ago(100).isoformat()


@pytest.mark.parametrize(
    ("starts", "ends", "flagged"),
    [(100, 1, False), (100, 0, True), (0, None, True), (-1, None, False)],
)
def test_exemption_window(organization, program, starts, ends, flagged):
    ExemptionFactory(metric=increasing(program), starts_on=ago(starts), ends_on=None if ends is None else ago(ends))
    assert bool(run(detect_metric_negotiated_away, organization)) is flagged


def test_exemption_on_retired_metric_is_ignored(organization, program):
    metric = increasing(program, status=MetricStatus.RETIRED)
    ExemptionFactory(metric=metric, starts_on=ago(10))
    assert run(detect_metric_negotiated_away, organization) == []


# --- target_not_ambitious --------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "baseline", "target", "flagged"),
    [
        (Direction.INCREASE, "50", "50", True),
        (Direction.INCREASE, "50", "45", True),
        (Direction.INCREASE, "50", "50.01", False),
        (Direction.DECREASE, "10", "10", True),
        (Direction.DECREASE, "10", "12", True),
        (Direction.DECREASE, "10", "9.99", False),
    ],
)
def test_target_not_ambitious(organization, program, direction, baseline, target, flagged):
    metric = MetricFactory(
        program=program, direction=direction, baseline=Decimal(baseline), target=Decimal(target), kind=Kind.OUTCOME
    )
    findings = run(detect_metric_negotiated_away, organization)
    if not flagged:
        assert findings == []
        return
    [finding] = findings
    assert finding.subject_id == metric.id
    reason = reasons(finding)["target_not_ambitious"]
    assert reason["severity"] == Severity.HIGH
    assert (reason["baseline"], reason["target"]) == (baseline, target)
    assert finding.severity == Severity.HIGH


@pytest.mark.parametrize(("baseline", "target"), [(None, "50"), ("50", None)])
def test_target_not_ambitious_needs_both_values(organization, program, baseline, target):
    MetricFactory(
        program=program,
        baseline=None if baseline is None else Decimal(baseline),
        target=None if target is None else Decimal(target),
    )
    assert run(detect_metric_negotiated_away, organization) == []


def test_flat_target_set_in_a_forum_is_lowered(organization, program, session):
    change(MetricFactory(program=program, level=Level.TACTICAL), 30, approved_in=session, target=Decimal("50"))
    finding = only_finding(organization)
    assert reasons(finding)["target_not_ambitious"]["severity"] == Severity.MEDIUM
    # The same revision also loosened the target by 100%: high, approved → medium.
    assert reasons(finding)["target_loosened"]["severity"] == Severity.MEDIUM
    assert finding.severity == Severity.MEDIUM


# --- the finding as a whole ------------------------------------------------------------


def test_severity_is_the_highest_reason_and_all_reasons_are_listed(organization, program):
    metric = increasing(program, kind=Kind.OPERATIONAL, incentive_weight=20)
    change(metric, 60, target=Decimal("67"))  # low
    change(metric, 30, incentive_weight=10)  # medium
    ExemptionFactory(metric=metric, starts_on=ago(5))  # medium
    finding = only_finding(organization)
    assert set(reasons(finding)) == {"target_loosened", "incentive_weight_cut", "exemption_granted"}
    assert finding.severity == Severity.MEDIUM
    assert "target loosened" in finding.title and metric.name in finding.title
    assert finding.evidence["window_from"] == ago(364).isoformat()
    assert finding.evidence["window_to"] == AS_OF.isoformat()


def test_identity_changes_with_a_new_revision_not_with_time(organization, program):
    metric = change(increasing(program), 60, target=Decimal("69"))
    first = only_finding(organization)
    assert only_finding(organization, as_of=ago(-7)).fingerprint == first.fingerprint
    change(metric, 1, target=Decimal("68.5"))
    assert only_finding(organization).fingerprint != first.fingerprint


def test_metric_with_no_negotiation_is_not_flagged(organization, program):
    change(increasing(program, incentive_weight=10), 30, incentive_weight=20, target=Decimal("75"))
    assert run(detect_metric_negotiated_away, organization) == []
