"""The database itself refuses the bad rows, whatever code path writes them."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accountability.choices import FlagStatus
from metrics.models import Measurement, Metric
from programs.models import CommitmentAssessment, Initiative, Program
from tests.factories import (
    CommitmentAssessmentFactory,
    EscalationFactory,
    ExemptionFactory,
    FlagFactory,
    InitiativeFactory,
    MeasurementFactory,
    MetricFactory,
    ProgramFactory,
    ProgressUpdateFactory,
    RoadmapStageFactory,
)

pytestmark = pytest.mark.django_db


def refused(fn):
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_one_measurement_per_metric_and_period():
    m = MeasurementFactory()
    refused(lambda: Measurement.objects.create(metric=m.metric, period_end=m.period_end, value=1))
    Measurement.objects.create(metric=m.metric, period_end=m.period_end + dt.timedelta(days=1), value=1)


@pytest.mark.parametrize("value, ok", [(-1, False), (0, True), (100, True), (101, False)])
def test_percentages_are_0_to_100(value, ok):
    program = ProgramFactory()
    initiative = InitiativeFactory(program=program)
    metric = MetricFactory(program=program)
    checks = [
        lambda: Program.objects.filter(pk=program.pk).update(champion_time_pct=value),
        lambda: Initiative.objects.filter(pk=initiative.pk).update(percent_complete=value),
        lambda: Metric.objects.filter(pk=metric.pk).update(incentive_weight=value),
        lambda: ProgressUpdateFactory(initiative=initiative, percent_complete=value),
    ]
    for check in checks:
        if ok:
            check()
        else:
            refused(check)


@pytest.mark.parametrize("answer, ok", [(0, False), (1, True), (5, True), (6, False)])
def test_commitment_answers_are_1_to_5(answer, ok):
    if ok:
        CommitmentAssessmentFactory(true_partner=answer)
    else:
        refused(lambda: CommitmentAssessmentFactory(true_partner=answer))


def test_commitment_score_is_mean_times_20():
    a = CommitmentAssessmentFactory(
        clear_destination=5,
        understands_scope=5,
        builds_new_skills=5,
        commits_resources=5,
        true_partner=5,
        insists_on_patience=5,
        pushes_customer_metrics=5,
        drives_reliability=5,
        defines_differentiation=5,
    )
    a.refresh_from_db()
    assert a.score == pytest.approx(100.0)
    b = CommitmentAssessmentFactory(program=a.program, clear_destination=1, understands_scope=2, builds_new_skills=3)
    # (1 + 2 + 3 + 6 × 4) / 9 × 20 = 66.67
    assert CommitmentAssessment.objects.get(pk=b.pk).score == pytest.approx(200 / 3)


def test_one_live_flag_per_kind_and_subject():
    flag = FlagFactory()
    duplicate = dict(
        program=flag.program,
        kind=flag.kind,
        subject_type=flag.subject_type,
        subject_id=flag.subject_id,
    )
    refused(lambda: FlagFactory(**duplicate))
    refused(lambda: FlagFactory(**duplicate, status=FlagStatus.ACKNOWLEDGED))
    # Resolved and dismissed flags are history: any number of them may coexist.
    FlagFactory(**duplicate, status=FlagStatus.RESOLVED)
    FlagFactory(**duplicate, status=FlagStatus.DISMISSED)
    flag.status, flag.closed_on = FlagStatus.RESOLVED, flag.last_detected_on
    flag.save()
    FlagFactory(**duplicate)


def test_escalation_has_exactly_one_subject():
    escalation = EscalationFactory()
    metric = MetricFactory(program=escalation.program)
    refused(lambda: EscalationFactory(program=escalation.program, metric=metric))
    refused(lambda: EscalationFactory(program=escalation.program, initiative=None, metric=None))
    EscalationFactory(program=escalation.program, initiative=None, metric=metric)


def test_dates_in_order():
    refused(lambda: RoadmapStageFactory(starts_on=dt.date(2025, 2, 1), ends_on=dt.date(2025, 1, 1)))
    refused(lambda: ExemptionFactory(starts_on=dt.date(2025, 2, 1), ends_on=dt.date(2025, 1, 1)))


def test_negative_budgets_refused():
    refused(lambda: ProgramFactory(budget=Decimal("-1")))
    refused(lambda: RoadmapStageFactory(budget=Decimal("-1")))


class TestMetricCascade:
    def test_parent_must_be_in_the_same_program(self):
        parent = MetricFactory()
        with pytest.raises(ValidationError, match="same program"):
            MetricFactory(parent=parent, level="operational")

    def test_parent_must_be_at_the_same_or_a_higher_level(self):
        program = ProgramFactory()
        operational = MetricFactory(program=program, level="operational")
        with pytest.raises(ValidationError, match="cannot sit under"):
            MetricFactory(program=program, level="strategic", parent=operational)
        tactical = MetricFactory(program=program, level="tactical")
        MetricFactory(program=program, level="tactical", parent=tactical)
        MetricFactory(program=program, level="operational", parent=tactical)

    def test_no_cycles(self):
        program = ProgramFactory()
        a = MetricFactory(program=program, level="tactical")
        b = MetricFactory(program=program, level="tactical", parent=a)
        c = MetricFactory(program=program, level="tactical", parent=b)
        a.parent = c
        with pytest.raises(ValidationError, match="cycle"):
            a.save()
        a.parent = a
        with pytest.raises(ValidationError, match="cycle"):
            a.save()
        assert Metric.objects.get(pk=a.pk).parent is None

    def test_database_refuses_a_metric_as_its_own_parent(self):
        metric = MetricFactory()
        refused(lambda: Metric.objects.filter(pk=metric.pk).update(parent=metric))
