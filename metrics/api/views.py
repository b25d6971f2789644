"""API viewsets of the metrics domain."""

from decimal import Decimal

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from cxgov.api.parsers import CSVParser, StrictJSONParser
from cxgov.api.permissions import OFFICE, OFFICE_INTEGRATION
from cxgov.api.spreadsheets import spreadsheet_list, streams_rows
from cxgov.api.values import ValuesListMixin, date_text, datetime_text, decimal_text
from cxgov.api.viewsets import ScopedModelViewSet
from metrics import filtersets
from metrics.measurements import measurement_delete
from metrics.models import Exemption, Measurement, Metric, MetricRevision
from metrics.services import metric_delete

from . import bulk
from .serializers import ExemptionSerializer, MeasurementSerializer, MetricRevisionSerializer, MetricSerializer


class MetricViewSet(ValuesListMixin, ScopedModelViewSet):
    """Metrics. The list is hot (docs/api.md): it reads `.values()` and renders each row like
    `MetricSerializer`, health included (tests/api/test_values_lists.py checks the bytes)."""

    queryset = Metric.objects.all()
    serializer_class = MetricSerializer
    filterset_class = filtersets.MetricFilterSet
    ordering_fields = [
        "id",
        "name",
        "level",
        "kind",
        "target_on",
        "incentive_weight",
        "created_at",
        "latest_period_end",
    ]
    ordering = ["program_id", "name", "id"]
    spreadsheet_actions = ("revisions",)

    values_fields = (
        "id",
        "program_id",
        "parent_id",
        "name",
        "description",
        "level",
        "kind",
        "unit",
        "direction",
        "baseline",
        "baseline_on",
        "target",
        "target_on",
        "owner_id",
        "business_unit_id",
        "incentive_weight",
        "reporting_cadence",
        "status",
        "replaced_by_id",
        "created_at",
        "latest_value",
        "latest_health",
        "latest_period_end",
    )

    def values_row(self, row: dict) -> dict:
        return {
            "id": row["id"],
            "program": row["program_id"],
            "parent": row["parent_id"],
            "name": row["name"],
            "description": row["description"],
            "level": row["level"],
            "kind": row["kind"],
            "unit": row["unit"],
            "direction": row["direction"],
            "baseline": decimal_text(row["baseline"], 4),
            "baseline_on": date_text(row["baseline_on"]),
            "target": decimal_text(row["target"], 4),
            "target_on": date_text(row["target_on"]),
            "owner": row["owner_id"],
            "business_unit": row["business_unit_id"],
            "incentive_weight": row["incentive_weight"],
            "reporting_cadence": row["reporting_cadence"],
            "status": row["status"],
            "replaced_by": row["replaced_by_id"],
            "created_at": datetime_text(row["created_at"]),
            "health": row["latest_health"],  # decided by the database (`with_health`)
            "latest_value": decimal_text(row["latest_value"], 4),
            "latest_period_end": date_text(row["latest_period_end"]),
        }

    def annotate_queryset(self, queryset):
        return queryset.with_latest().with_health()

    def destroy_object(self, instance) -> None:
        metric_delete(metric=instance, actor=self.actor)

    @extend_schema(
        summary="Revisions of a metric's guarded fields (read-only, newest first)",
        description="A page like every list. Filters: `field`, `approved` (true/false), `changed_at_after`, "
        "`changed_at_before` (YYYY-MM-DD), `ordering` (`id`, `changed_at`, either with `-`). `?format=csv` or "
        "`?format=xlsx` gives every revision, filters applied, with the same fields.",
        responses=MetricRevisionSerializer(many=True),
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        filterset_class=filtersets.MetricRevisionFilterSet,
        ordering_fields=["id", "changed_at"],
        ordering=["-changed_at", "-id"],
    )
    def revisions(self, request, pk=None):
        metric = self.get_object()
        queryset = self.filter_queryset(MetricRevision.objects.filter(metric=metric))
        if streams_rows(request):
            serializer = MetricRevisionSerializer()
            return spreadsheet_list(
                self, request, queryset=queryset, serializer=serializer, name=f"metric-{metric.pk}-revisions"
            )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(MetricRevisionSerializer(page, many=True).data)


class BulkItemSerializer(serializers.Serializer):
    """Schema of one bulk item (the rules themselves are `metrics.measurements.measurement_rows`)."""

    metric = serializers.IntegerField(min_value=1)
    period_end = serializers.DateField()
    value = serializers.DecimalField(
        max_digits=20,
        decimal_places=4,
        coerce_to_string=False,
        max_value=Decimal("999999999999999.9999"),
        min_value=Decimal("-999999999999999.9999"),
        help_text="A finite number below 1e15 in magnitude (JSON number or numeric string).",
    )
    source = serializers.CharField(max_length=200, required=False, allow_blank=True)


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class MeasurementViewSet(ValuesListMixin, ScopedModelViewSet):
    """Measurements. The list is hot (docs/api.md): it reads `.values()` and renders each row
    like `MeasurementSerializer` (tests/api/test_values_lists.py checks the bytes)."""

    queryset = Measurement.objects.all()
    serializer_class = MeasurementSerializer
    filterset_class = filtersets.MeasurementFilterSet
    ordering_fields = ["id", "period_end", "recorded_at", "value"]
    ordering = ["metric_id", "-period_end"]
    role_rules = {
        "create": OFFICE_INTEGRATION,
        "update": OFFICE_INTEGRATION,
        "partial_update": OFFICE_INTEGRATION,
        "bulk": OFFICE_INTEGRATION,
        "destroy": OFFICE,
    }
    values_fields = ("id", "metric_id", "period_end", "value", "source", "recorded_at")

    def destroy_object(self, instance) -> None:
        measurement_delete(measurement=instance, actor=self.actor)

    def values_row(self, row: dict) -> dict:
        return {
            "id": row["id"],
            "metric": row["metric_id"],
            "period_end": date_text(row["period_end"]),
            "value": format(row["value"], "f"),  # MeasurementValueField
            "source": row["source"],
            "recorded_at": datetime_text(row["recorded_at"]),
        }

    @extend_schema(
        summary="Record a measurement (upsert on metric and period_end)",
        responses={
            201: OpenApiResponse(MeasurementSerializer, description="Created."),
            200: OpenApiResponse(MeasurementSerializer, description="Updated (or unchanged)."),
        },
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        code = status.HTTP_201_CREATED if serializer.created else status.HTTP_200_OK
        return Response(serializer.data, status=code)

    @extend_schema(
        summary="Upsert up to 10,000 measurements, all or nothing",
        description=(
            'A JSON list (or `{"items": [...]}`) of `{metric, period_end, value, source}`. All items are '
            "validated first; any error answers 400 with the errors keyed by item index, e.g. "
            '`{"items": {"3": {"value": ["A finite number is required."]}}}`, and nothing is written.'
        ),
        request={
            "application/json": BulkItemSerializer(many=True),
            "text/csv": {
                "type": "string",
                "description": "A header `metric,period_end,value,source` and one measurement a line "
                "(UTF-8 with or without BOM, or Windows-1252); errors are keyed by line number: "
                '`{"lines": {"3": {"value": ["..."]}}}`.',
            },
        },
        responses={200: BulkResultSerializer},
        filters=False,
    )
    @action(
        detail=False,
        methods=["post"],
        pagination_class=None,
        filterset_class=None,
        parser_classes=[StrictJSONParser, CSVParser],
    )
    def bulk(self, request):
        result = bulk.bulk_upsert(request.data, user=request.user, actor=self.actor)
        return Response(BulkResultSerializer(result).data, status=status.HTTP_200_OK)


class ExemptionViewSet(ScopedModelViewSet):
    queryset = Exemption.objects.all()
    serializer_class = ExemptionSerializer
    filterset_class = filtersets.ExemptionFilterSet
    ordering_fields = ["id", "starts_on", "ends_on", "created_at"]
    ordering = ["-starts_on", "-id"]
