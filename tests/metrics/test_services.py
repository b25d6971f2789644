import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from metrics.measurements import MeasurementItemsInvalid, measurement_upsert, measurements_upsert
from metrics.models import Measurement, Metric, MetricRevision
from metrics.services import METRIC_DELETE_RULE, exemption_grant, metric_delete, metric_update
from programs.changelog import STAGED_FROM
from tests.factories import (
    ForumSessionFactory,
    MeasurementFactory,
    MetricFactory,
    MetricRevisionFactory,
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
            ("baseline", D("55.5"), "50", "55.5"),
            ("baseline_on", dt.date(2024, 3, 1), "2024-01-01", "2024-03-01"),
            ("direction", "decrease", "increase", "decrease"),
            ("unit", "points", "%", "points"),
            ("level", "tactical", "strategic", "tactical"),
            ("kind", "perception", "outcome", "perception"),
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
        metric_update(
            metric=metric, changes={"description": "Share of customers renewing", "reporting_cadence": "weekly"}
        )
        assert not MetricRevision.objects.exists()
        assert Metric.objects.get(pk=metric.pk).reporting_cadence == "weekly"

    @pytest.mark.parametrize(
        "changes",
        [
            {"baseline": D("55")},
            {"baseline_on": dt.date(2024, 2, 1)},
            {"direction": "decrease"},
            {"unit": "pts"},
            {"level": "tactical"},
            {"kind": "perception"},
        ],
        ids=lambda c: next(iter(c)),
    )
    def test_the_definition_fields_are_guarded_too(self, metric, changes):
        with pytest.raises(ValidationError) as exc:
            metric_update(metric=metric, changes=changes)
        assert "change_reason" in exc.value.message_dict
        assert not MetricRevision.objects.exists()

    def test_an_empty_unit_and_none_are_the_same(self, metric):
        metric_update(metric=metric, changes={"unit": ""}, reason="no unit")
        metric_update(metric=metric, changes={"unit": None})
        assert list(MetricRevision.objects.values_list("field", "old_value", "new_value")) == [("unit", "%", "")]

    def test_a_level_cannot_drop_below_a_childs(self, metric):
        child = MetricFactory(program=metric.program, parent=metric, level="tactical")
        with pytest.raises(ValidationError, match=child.name):
            metric_update(metric=metric, changes={"level": "operational"}, reason="restated")
        metric_update(metric=metric, changes={"level": "tactical"}, reason="restated")
        assert Metric.objects.get(pk=metric.pk).level == "tactical"

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


class TestMetricDelete:
    def test_measured_metric_is_never_deleted_only_retired(self, metric):
        MeasurementFactory(metric=metric)
        with pytest.raises(ValidationError) as refused:
            metric_delete(metric=metric)
        assert refused.value.messages == [METRIC_DELETE_RULE]
        assert Metric.objects.filter(pk=metric.pk).exists()

    def test_revised_metric_is_never_deleted_and_keeps_its_revisions(self, metric):
        revision = MetricRevisionFactory(metric=metric)
        with pytest.raises(ValidationError, match="retire it instead"):
            metric_delete(metric=metric)
        assert MetricRevision.objects.filter(pk=revision.pk).exists()

    def test_a_parent_goes_only_once_its_children_are_moved(self, metric):
        child = MetricFactory(program=metric.program, parent=metric, level="tactical")
        with pytest.raises(ValidationError, match="under this one"):
            metric_delete(metric=metric)
        metric_delete(metric=child)
        metric_delete(metric=metric)
        assert not Metric.objects.filter(pk__in=[metric.pk, child.pk]).exists()

    def test_an_unmeasured_metric_is_deleted_with_the_actor_in_its_history(self, metric):
        user = UserFactory()
        metric_delete(metric=metric, actor=user)
        assert not Metric.objects.filter(pk=metric.pk).exists()
        assert Metric.history.get(id=metric.pk, history_type="-").history_user == user


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


def item(metric, day: int, value="10", source="crm") -> dict:
    return {"metric": metric.pk, "period_end": dt.date(2024, 1, day), "value": value, "source": source}


class TestMeasurementsUpsert:
    """The one writer of measurements: the API (single and bulk) and the admin call it."""

    def test_creates_updates_and_leaves_identical_items_with_one_history_row_each(self, metric):
        user = UserFactory()
        first = measurements_upsert(items=[item(metric, 1), item(metric, 2)], actor=user, reason="nightly feed")
        assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
        again = measurements_upsert(items=[item(metric, 1), item(metric, 2, value="11")], actor=user)
        assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
        history = Measurement.history.filter(metric_id=metric.pk).order_by("history_date", "history_id")
        assert [(h.period_end.day, h.history_type, h.value, h.history_change_reason) for h in history] == [
            (1, "+", D("10"), "nightly feed"),
            (2, "+", D("10"), "nightly feed"),
            (2, "~", D("11"), None),
        ]
        assert {h.history_user for h in history} == {user}

    def test_values_are_rounded_to_four_places_and_bounded_below_1e15(self, metric):
        measurements_upsert(items=[item(metric, 1, value=73.456789), item(metric, 2, value="-999999999999999")])
        assert sorted(Measurement.objects.values_list("value", flat=True)) == [D("-999999999999999"), D("73.4568")]
        with pytest.raises(MeasurementItemsInvalid) as refused:
            measurements_upsert(items=[item(metric, 3, value="1e15"), item(metric, 4, value="-1000000000000000")])
        too_big = ["The value is out of range (at most 15 digits before the point)."]
        assert refused.value.item_errors == {0: {"value": too_big}, 1: {"value": too_big}}

    def test_a_source_of_200_characters_is_kept_201_refused(self, metric):
        measurements_upsert(items=[item(metric, 1, source="x" * 200)])
        with pytest.raises(MeasurementItemsInvalid) as refused:
            measurements_upsert(items=[item(metric, 2, source="x" * 201)])
        assert refused.value.item_errors == {0: {"source": ["A text of at most 200 characters is required."]}}

    def test_one_bad_item_writes_nothing_and_every_error_names_its_item(self, metric):
        items = [item(metric, 1), item(metric, 2, value="NaN"), item(metric, 1), {"metric": metric.pk}]
        with pytest.raises(MeasurementItemsInvalid) as refused:
            measurements_upsert(items=items)
        assert refused.value.item_errors == {
            1: {"value": ["The value must be a finite number (not NaN or Infinity)."]},
            2: {"period_end": ["Duplicate of item 0: one value per metric and period_end."]},
            3: {"period_end": ["This field is required."], "value": ["This field is required."]},
        }
        assert "Item 1, value: The value must be a finite number (not NaN or Infinity)." in refused.value.messages
        assert not Measurement.objects.exists()
        assert not Measurement.history.exists()

    def test_metrics_outside_the_given_scope_do_not_exist(self, metric):
        elsewhere = MetricFactory()
        with pytest.raises(MeasurementItemsInvalid) as refused:
            measurements_upsert(
                items=[item(metric, 1), item(elsewhere, 1)], metrics=Metric.objects.filter(pk=metric.pk)
            )
        assert refused.value.item_errors == {1: {"metric": [f'Invalid pk "{elsewhere.pk}" - object does not exist.']}}
        assert not Measurement.objects.exists()

    def test_authorize_sees_the_organizations_before_anything_is_written(self, metric):
        other = MetricFactory()
        seen = []

        def refuse(organization_ids):
            seen.append(organization_ids)
            raise PermissionError("not in that organization")

        with pytest.raises(PermissionError):
            measurements_upsert(items=[item(metric, 1), item(other, 1)], authorize=refuse)
        assert seen == [{metric.program.organization_id, other.program.organization_id}]
        assert not Measurement.objects.exists()

    def test_a_constant_number_of_queries_for_1_or_500_items(self, metric, django_assert_max_num_queries):
        metrics = [metric, *(MetricFactory(program=metric.program) for _ in range(4))]
        items = [
            {"metric": m.pk, "period_end": dt.date(2020, 1, 1) + dt.timedelta(days=i), "value": i}
            for m in metrics
            for i in range(100)
        ]
        # PostgreSQL: savepoint, the metrics, one statement (rows and history), the change log (the rows'
        # organization and program, the metrics' names, and from STAGED_FROM entries a staging table,
        # its COPY and one insert), release. SQLite: a read, then inserts batched by its 999-variable
        # limit; never a query per item.
        assert len(items) >= STAGED_FROM
        with django_assert_max_num_queries(9 if connection.vendor == "postgresql" else 25):
            result = measurements_upsert(items=items)
        assert result.created == 500
        assert Measurement.history.filter(metric_id__in=[m.pk for m in metrics]).count() == 500

    def test_the_single_form_reports_errors_by_field_and_names_the_actor(self, metric):
        user = UserFactory()
        with pytest.raises(ValidationError) as refused:
            measurement_upsert(metric=metric, period_end=dt.date(2024, 6, 30), value=True)
        assert refused.value.message_dict == {"value": ["A finite number is required."]}
        row, created = measurement_upsert(metric=metric, period_end=dt.date(2024, 6, 30), value=5, actor=user)
        assert created and row.history.get().history_user == user
