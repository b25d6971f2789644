"""django-filter classes for metrics, shared by the API and the dashboard."""

from django_filters import rest_framework as filters

from cxgov.api.filters import IdFilter, IsoDateFilter, choices, date_range

from .choices import GUARDED_FIELDS, Cadence, Direction, Kind, Level, MetricStatus
from .models import Exemption, Measurement, Metric, MetricRevision


class MetricFilterSet(filters.FilterSet):
    program = IdFilter(field_name="program_id")
    parent = IdFilter(field_name="parent_id")
    owner = IdFilter(field_name="owner_id")
    business_unit = IdFilter(field_name="business_unit_id")
    level = choices(Level)
    kind = choices(Kind)
    status = choices(MetricStatus)
    direction = choices(Direction)
    reporting_cadence = choices(Cadence)
    root = filters.BooleanFilter(field_name="parent", lookup_expr="isnull", label="Only metrics without a parent")
    unowned = filters.BooleanFilter(field_name="owner", lookup_expr="isnull", label="Only metrics without an owner")
    target_on_after, target_on_before = date_range("target_on")

    class Meta:
        model = Metric
        fields = ["program", "parent", "owner", "business_unit", "level", "kind", "status"]


class MeasurementFilterSet(filters.FilterSet):
    metric = IdFilter(field_name="metric_id")
    program = IdFilter(field_name="metric__program_id")
    period_end_after, period_end_before = date_range("period_end")
    recorded_at_after, recorded_at_before = date_range("recorded_at", on_date=True)

    class Meta:
        model = Measurement
        fields = ["metric", "program"]


class MetricRevisionFilterSet(filters.FilterSet):
    # Every field whose change writes a revision (metrics.choices.GUARDED_FIELDS), and no other.
    field = filters.ChoiceFilter(choices=[(f, f) for f in GUARDED_FIELDS])
    approved = filters.BooleanFilter(field_name="approved_in", lookup_expr="isnull", exclude=True)
    changed_at_after, changed_at_before = date_range("changed_at", on_date=True)

    class Meta:
        model = MetricRevision
        fields = ["field"]


class ExemptionFilterSet(filters.FilterSet):
    metric = IdFilter(field_name="metric_id")
    program = IdFilter(field_name="metric__program_id")
    person = IdFilter(field_name="person_id")
    active_on = IsoDateFilter(method="filter_active_on", label="Exemptions in force on this date (YYYY-MM-DD)")

    class Meta:
        model = Exemption
        fields = ["metric", "program", "person"]

    def filter_active_on(self, queryset, name, value):
        return queryset.active_on(value)
