"""`GET /api/v1/dashboard/`: the portfolio summary the executive dashboard shows, as JSON.

The view calls the same selector as the HTML page (`portfolio_summary`), so the two can
never disagree. Scoped to the caller's organizations (session or API key); a constant
number of queries whatever the data size.
"""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cxgov.api.schema import VALIDATION_ERROR
from programs.access import organization_ids

from .selectors import AS_OF_MAX, AS_OF_MIN, HEALTHS, SEVERITIES, portfolio_summary


class _CountsField(serializers.Field):
    """A dict of counts with every key present, in a fixed order."""

    def __init__(self, keys, **kwargs):
        self.keys = [str(k) for k in keys]
        super().__init__(**kwargs)

    def to_representation(self, value: dict) -> dict:
        return {k: value.get(k, 0) for k in self.keys}


class SeverityCountsSerializer(serializers.Serializer):
    critical = serializers.IntegerField()
    high = serializers.IntegerField()
    medium = serializers.IntegerField()
    low = serializers.IntegerField()


class HealthCountsSerializer(serializers.Serializer):
    off_track = serializers.IntegerField()
    at_risk = serializers.IntegerField()
    on_track = serializers.IntegerField()
    no_data = serializers.IntegerField()


@extend_schema_field(SeverityCountsSerializer)
class SeverityCountsField(_CountsField):
    def __init__(self, **kwargs):
        super().__init__(SEVERITIES, **kwargs)


@extend_schema_field(HealthCountsSerializer)
class HealthCountsField(_CountsField):
    def __init__(self, **kwargs):
        super().__init__(HEALTHS, **kwargs)


class RiskSummarySerializer(serializers.Serializer):
    score = serializers.IntegerField(help_text="0–100, the sum of the factors of the latest assessment.")
    level = serializers.CharField(help_text="low, elevated, high or critical.")
    as_of = serializers.DateField()
    previous_score = serializers.IntegerField(allow_null=True)
    previous_as_of = serializers.DateField(allow_null=True)
    change = serializers.IntegerField(allow_null=True, help_text="score − previous_score.")
    trend = serializers.CharField(allow_null=True, help_text="rising, falling or steady; null for a first assessment.")


class TopFlagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.CharField()
    severity = serializers.CharField()
    owner_name = serializers.CharField(allow_null=True)
    first_detected_on = serializers.DateField()
    age_days = serializers.IntegerField()


class ProgramCardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    organization_id = serializers.IntegerField()
    organization_name = serializers.CharField()
    status = serializers.CharField()
    started_on = serializers.DateField(allow_null=True)
    committed_horizon_months = serializers.IntegerField()
    month_of_horizon = serializers.IntegerField(allow_null=True, help_text="1-based; null before the start.")
    sponsor_name = serializers.CharField(allow_null=True)
    champion_name = serializers.CharField(allow_null=True)
    risk = RiskSummarySerializer(allow_null=True)
    flags = SeverityCountsField(help_text="Live (open or acknowledged) flags by severity.")
    flags_total = serializers.IntegerField()
    top_flags = TopFlagSerializer(many=True, help_text="Up to three most severe, then oldest, live flags.")
    metric_health = HealthCountsField(help_text="Active metrics by health.")
    metrics_total = serializers.IntegerField()
    forum_held = serializers.IntegerField(help_text="Held sessions in the last 90 days.")
    forum_scheduled = serializers.IntegerField(help_text="Sessions scheduled in the last 90 days, any status.")
    forum_adherence_pct = serializers.IntegerField(allow_null=True)
    sponsor_held = serializers.IntegerField(
        help_text="Held sessions of forums the sponsor chairs or sits on (90 days)."
    )
    sponsor_present = serializers.IntegerField(help_text="Of those, sessions the sponsor attended in person.")
    sponsor_presence_pct = serializers.IntegerField(allow_null=True)
    needs_attention = serializers.BooleanField()
    attention_reasons = serializers.ListField(child=serializers.CharField())


class PortfolioSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    window_days = serializers.IntegerField()
    flags = SeverityCountsField(help_text="Live flags by severity, all programs.")
    metric_health = HealthCountsField(help_text="Active metrics by health, all programs.")
    attention_count = serializers.SerializerMethodField()
    programs = ProgramCardSerializer(many=True)

    def get_attention_count(self, summary) -> int:
        return len(summary.attention)


class AsOfSerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])

    def validate_as_of(self, value):
        if not AS_OF_MIN <= value <= AS_OF_MAX:
            raise serializers.ValidationError(f"Must be between {AS_OF_MIN} and {AS_OF_MAX}.")
        return value


class DashboardSummaryView(APIView):
    """The portfolio: one card per program of the caller's organizations, attention first."""

    @extend_schema(
        operation_id="dashboard_summary",
        summary="Portfolio summary shown by the executive dashboard",
        parameters=[
            OpenApiParameter(
                "as_of", OpenApiTypes.DATE, description="Count the 90-day windows back from this day (default today)."
            )
        ],
        responses={200: PortfolioSerializer, 400: VALIDATION_ERROR},
        tags=["dashboard"],
    )
    def get(self, request: Request) -> Response:
        params = AsOfSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        as_of = params.validated_data.get("as_of") or timezone.localdate()
        summary = portfolio_summary(organization_ids=organization_ids(request.user), as_of=as_of)
        return Response(PortfolioSerializer(summary).data)
