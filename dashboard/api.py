"""`GET /api/v1/dashboard/`: the portfolio summary the executive dashboard shows, as JSON.

The view calls the same selector as the HTML page (`portfolio_summary`), so the two can
never disagree. Scoped to the caller's organizations (session or API key); a constant
number of queries whatever the data size.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accountability.api.programs import AsOfQuerySerializer
from accountability.selectors import SEVERITIES
from cxgov.api.schema import VALIDATION_ERROR
from metrics.selectors import HEALTHS
from programs.access import organization_ids

from .selectors import portfolio_summary


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
    score = serializers.IntegerField(
        help_text="0–100, the sum of the factors of the latest assessment dated on or before the summary's as_of."
    )
    level = serializers.CharField(help_text="low, elevated, high or critical.")
    as_of = serializers.DateField(help_text="The assessment's date.")
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
    status = serializers.CharField(help_text="The status on as_of (from the status changes).")
    started_on = serializers.DateField(allow_null=True)
    committed_horizon_months = serializers.IntegerField(help_text="The committed horizon on as_of.")
    month_of_horizon = serializers.IntegerField(allow_null=True, help_text="1-based; null before the start.")
    sponsor_name = serializers.CharField(allow_null=True)
    champion_name = serializers.CharField(allow_null=True, help_text="The champion on as_of.")
    risk = RiskSummarySerializer(allow_null=True, help_text="Null when no assessment is dated on or before as_of.")
    flags = SeverityCountsField(help_text="Flags open on as_of, by severity.")
    flags_total = serializers.IntegerField()
    top_flags = TopFlagSerializer(
        many=True, help_text="Up to three most severe, then oldest, flags open on as_of; ages counted to as_of."
    )
    metric_health = HealthCountsField(
        help_text="Metrics active on as_of by health on as_of (latest value and targets in force then)."
    )
    metrics_total = serializers.IntegerField()
    forum_held = serializers.IntegerField(help_text="Held sessions in the window_days ending on as_of.")
    forum_scheduled = serializers.IntegerField(help_text="Sessions scheduled in that window, any status.")
    forum_adherence_pct = serializers.IntegerField(allow_null=True)
    sponsor_held = serializers.IntegerField(
        help_text="Held sessions of forums the sponsor chairs or sits on, in the sponsor_window_days ending on as_of."
    )
    sponsor_present = serializers.IntegerField(help_text="Of those, sessions the sponsor attended in person.")
    sponsor_presence_pct = serializers.IntegerField(allow_null=True)
    needs_attention = serializers.BooleanField()
    attention_reasons = serializers.ListField(child=serializers.CharField())


class PortfolioSerializer(serializers.Serializer):
    as_of = serializers.DateField(help_text="The day every figure is shown as of (the end of that day).")
    window_days = serializers.IntegerField(help_text="Forum adherence window, in days ending on as_of (90).")
    sponsor_window_days = serializers.IntegerField(
        help_text="Sponsor presence window, in days ending on as_of (180, as the sponsor_disengaged rule)."
    )
    flags = SeverityCountsField(help_text="Flags open on as_of by severity, all programs.")
    metric_health = HealthCountsField(help_text="Metrics active on as_of by health, all programs.")
    attention_count = serializers.SerializerMethodField()
    programs = ProgramCardSerializer(many=True)

    def get_attention_count(self, summary) -> int:
        return len(summary.attention)


class DashboardSummaryView(APIView):
    """The portfolio: one card per program of the caller's organizations, attention first."""

    @extend_schema(
        operation_id="dashboard_summary",
        summary="Portfolio summary shown by the executive dashboard",
        parameters=[
            OpenApiParameter(
                "as_of",
                OpenApiTypes.DATE,
                description="Show the portfolio as it stood at the end of this day (default today): flags open "
                "then, metric values and targets in force then, statuses and horizons then, risk assessed by "
                "then, and the forum and sponsor windows ending then.",
            )
        ],
        responses={200: PortfolioSerializer, 400: VALIDATION_ERROR},
        tags=["dashboard"],
    )
    def get(self, request: Request) -> Response:
        as_of = AsOfQuerySerializer.from_request(request)
        summary = portfolio_summary(organization_ids=organization_ids(request.user), as_of=as_of)
        return Response(PortfolioSerializer(summary).data)
