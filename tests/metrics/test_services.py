import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from metrics.models import Measurement, Metric, MetricRevision
from metrics.services import exemption_grant, measurement_upsert, metric_delete, metric_update
from tests.factories import (
    ForumSessionFactory,
    MeasurementFactory,
    MetricFactory,
    PersonFactory,
    ProgramFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def metric():
    return MetricFactory(target=D("70"), target_on=dt.date(2025, 1, 1), incentive_weight=20)


class TestGuardedChanges:
    @pytest.mark.parametrize(
        "field, value, old_text, new_text",
        [
            ("target", D("65"), "70", "65"),
            ("target_on", dt.date(2025, 7, 1), "2025-01-01", "2025-07-01"),
            ("incentive_weight", 0, "20", "0"),
            ("status", "retired", "active", "retired"),
        ],
    )
    def test_each_guarded_field_writes_a_revision(self, metric, field, value, old_text, new_text):
        user = UserFactory()
        metric_update(metric=metric, changes={field: value}, reason="Agreed at the March review", actor=user)
        revision = MetricRevision.objects.get(metric=metric)
        assert (revision.field, revision.old_value, revision.new_value, revision.reason, revision.changed_by) == (
            field,
            old_text,
            new_text,
            "Agreed at the March review",
            user,
        )
        assert getattr(Metric.objects.get(pk=metric.pk), field) == value

    def test_owner_change_records_person_ids(self, metric):
        new_owner = PersonFactory(organization=metric.program.organization)
        old_owner_id = metric.owner_id
        metric_update(metric=metric, changes={"owner": new_owner}, reason="reorg")
        revision = MetricRevision.objects.get(metric=metric)
        assert (revision.old_value, revision.new_value) == (str(old_owner_id), str(new_owner.pk))

    @pytest.mark.parametrize("reason", ["", "   ", None])
    def test_guarded_change_without_reason_is_refused_and_changes_nothing(self, metric, reason):
        with pytest.raises(ValidationError) as exc:
            metric_update(metric=metric, changes={"target": D("60")}, reason=reason)
        assert "change_reason" in exc.value.message_dict
        assert Metric.objects.get(pk=metric.pk).target == D("70")
        assert not MetricRevision.objects.exists()

    def test_unguarded_change_needs_no_reason(self, metric):
        metric_update(metric=metric, changes={"description": "Share of customers renewing", "unit": "pts"})
        assert not MetricRevision.objects.exists()
        assert Metric.objects.get(pk=metric.pk).unit == "pts"

    def test_same_value_is_not_a_change(self, metric):
        metric_update(metric=metric, changes={"target": D("70.0000"), "incentive_weight": 20})
        assert not MetricRevision.objects.exists()

    def test_several_fields_write_one_revision_each(self, metric):
        metric_update(metric=metric, changes={"target": D("60"), "target_on": dt.date(2026, 1, 1)}, reason="r")
        assert sorted(MetricRevision.objects.values_list("field", flat=True)) == ["target", "target_on"]

    def test_approved_in_must_be_a_session_of_the_same_program(self, metric):
        session = ForumSessionFactory(forum__program=metric.program)
        metric_update(metric=metric, changes={"target": D("60")}, reason="r", approved_in=session)
        assert MetricRevision.objects.get().approved_in == session
        foreign = ForumSessionFactory()
        with pytest.raises(ValidationError, match="approving session"):
            metric_update(metric=metric, changes={"target": D("55")}, reason="r", approved_in=foreign)
        assert Metric.objects.get(pk=metric.pk).target == D("60")

    def test_replacement_must_be_in_the_same_program(self, metric):
        other = MetricFactory()
        with pytest.raises(ValidationError, match="replacement"):
            metric_update(metric=metric, changes={"status": "retired", "replaced_by": other}, reason="r")

    def test_revisions_are_never_edited_or_deleted(self, metric):
        metric_update(metric=metric, changes={"target": D("60")}, reason="r")
        revision = MetricRevision.objects.get()
        revision.reason = "rewritten"
        with pytest.raises(ValidationError):
            revision.save()
        with pytest.raises(ValidationError):
            revision.delete()
        assert MetricRevision.objects.get().reason == "r"

    def test_target_changes_are_also_in_the_metric_history(self, metric):
        metric_update(metric=metric, changes={"target": D("60")}, reason="lowered after Q2")
        latest = metric.history.latest()
        assert (latest.target, latest.history_change_reason) == (D("60"), "lowered after Q2")


class TestMeasurementUpsert:
    def test_first_write_creates(self, metric):
        m, created = measurement_upsert(metric=metric, period_end=dt.date(2024, 6, 30), value="61.5", source="crm")
        assert created and m.value == D("61.5")

    def test_same_write_twice_is_idempotent(self, metric):
        measurement_upsert(metric=metric, period_end=dt.date(2024, 6, 30), value="61.5")
        m, created = measurement_upsert(metric=metric, period_end=dt.date(2024, 6, 30), value="61.5")
        assert not created
        assert Measurement.objects.count() == 1
        assert m.history.count() == 1

    def test_rewrite_updates_and_keeps_the_old_value_in_history(self, metric):
        measurement_upsert(metric=metric, period_end=dt.date(2024, 6, 30), value="61.5")
        m, created = measurement_upsert(metric=metric, period_end=dt.date(2024, 6, 30), value="62")
        assert not created and m.value == D("62")
        assert Measurement.objects.count() == 1
        assert [h.value for h in m.history.order_by("history_date")] == [D("61.5"), D("62")]

    @pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "abc", None, "1e17"])
    def test_non_finite_or_huge_values_are_refused(self, metric, value):
        with pytest.raises(ValidationError):
            measurement_upsert(metric=metric, period_end=dt.date(2024, 6, 30), value=value)
        assert not Measurement.objects.exists()


def test_measured_metric_is_never_deleted_only_retired(metric):
    MeasurementFactory(metric=metric)
    with pytest.raises(ValidationError, match="retire"):
        metric_delete(metric=metric)
    assert Metric.objects.filter(pk=metric.pk).exists()
    unmeasured = MetricFactory(program=metric.program)
    metric_delete(metric=unmeasured)
    assert not Metric.objects.filter(pk=unmeasured.pk).exists()


class TestExemptions:
    def test_grant(self, metric):
        star = PersonFactory(organization=metric.program.organization, title="Top account executive")
        e = exemption_grant(metric=metric, person=star, reason="Top seller", starts_on=dt.date(2024, 1, 1))
        assert e.pk and e.ends_on is None

    def test_reason_required(self, metric):
        with pytest.raises(ValidationError, match="reason"):
            exemption_grant(metric=metric, person=metric.owner, reason=" ", starts_on=dt.date(2024, 1, 1))

    def test_person_of_another_organization_refused(self, metric):
        stranger = PersonFactory(organization=ProgramFactory().organization)
        with pytest.raises(ValidationError, match="organization"):
            exemption_grant(metric=metric, person=stranger, reason="x", starts_on=dt.date(2024, 1, 1))

    def test_end_before_start_refused(self, metric):
        with pytest.raises(ValidationError, match="end before"):
            exemption_grant(
                metric=metric,
                person=metric.owner,
                reason="x",
                starts_on=dt.date(2024, 2, 1),
                ends_on=dt.date(2024, 1, 1),
            )
