"""`programs/`: the program resource with its readiness, latest risk, status transitions,
risk history and metric cascade.

It lives here rather than in `programs/api/` because risk (accountability) and the
metric tree (metrics) come from the apps above `programs`, which may not import them.
"""

import datetime as dt

from django.db.models import OuterRef, Subquery
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from cxgov.api.fields import IsoDateField
from cxgov.api.filters import query_flag
from cxgov.api.schema import VALIDATION_ERROR
from cxgov.api.serializers import StrictSerializer
from cxgov.api.spreadsheets import spreadsheet_series, streams_rows
from cxgov.api.viewsets import ScopedModelViewSet
from metrics import selectors as metric_selectors
from programs.api.serializers import ProgramSerializer
from programs.choices import ProgramStatus
from programs.filtersets import ProgramFilterSet
from programs.models import Program
from programs.services import program_delete, program_transition

from ..choices import RiskLevel
from ..models import RiskAssessment
from ..selectors import risk_history, risk_on
from .serializers import MetricTreeNodeSerializer, RiskPointSerializer, RiskSerializer


class ProgramRiskSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    level = serializers.ChoiceField(choices=RiskLevel.choices)
    as_of = serializers.DateField()


class ProgramWithRiskSerializer(ProgramSerializer):
    risk = serializers.SerializerMethodField()

    class Meta(ProgramSerializer.Meta):
        fields = [*ProgramSerializer.Meta.fields, "risk"]

    @extend_schema_field(ProgramRiskSerializer(allow_null=True))
    def get_risk(self, obj: Program) -> dict | None:
        """The latest assessment, annotated on the queryset (no query per row)."""
        if getattr(obj, "risk_as_of", None) is None:
            return None
        return {"score": obj.risk_score, "level": obj.risk_level, "as_of": obj.risk_as_of.isoformat()}


class TransitionSerializer(StrictSerializer):
    to = serializers.ChoiceField(choices=ProgramStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    force = serializers.BooleanField(
        required=False, default=False, help_text="Activate despite unmet readiness (needs a reason)."
    )


def _risk_annotations() -> dict:
    latest = RiskAssessment.objects.filter(program=OuterRef("pk")).order_by("-as_of")
    return {
        "risk_score": Subquery(latest.values("score")[:1]),
        "risk_level": Subquery(latest.values("level")[:1]),
        "risk_as_of": Subquery(latest.values("as_of")[:1]),
    }


class AsOfQuerySerializer(serializers.Serializer):
    """`?as_of=YYYY-MM-DD` of the point-in-time reads (default today); outside 1900–2999 → 400."""

    as_of = IsoDateField(required=False)

    @classmethod
    def from_request(cls, request) -> dt.date:
        if request.query_params.get("as_of") == "":
            raise serializers.ValidationError(
                {"as_of": ["A date as YYYY-MM-DD is required; leave as_of out for today."]}
            )
        params = cls(data=request.query_params)
        params.is_valid(raise_exception=True)
        return params.validated_data.get("as_of") or timezone.localdate()


AS_OF_PARAMETER = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATE,
    description="Show it as it stood at the end of this day (YYYY-MM-DD, default today).",
)


def _tree_json(nodes: list[metric_selectors.MetricTreeNode]) -> list[dict]:
    """The cascade of `metrics.selectors.metric_tree` as the API's nested nodes."""
    return [
        {
            "id": m.id,
            "name": m.name,
            "level": m.level,
            "kind": m.kind,
            "status": m.status,
            "unit": m.unit,
            "direction": m.direction,
            "owner": {"id": m.owner_id, "name": m.owner_name} if m.owner_id else None,
            "health": m.health,
            "latest_value": m.latest_value,
            "latest_period_end": m.latest_period_end,
            "baseline": m.baseline,
            "target": m.target,
            "target_on": m.target_on,
            "children": _tree_json(node.children),
        }
        for node in nodes
        for m in (node.metric,)
    ]


class ProgramViewSet(ScopedModelViewSet):
    queryset = Program.objects.all()
    serializer_class = ProgramWithRiskSerializer
    filterset_class = ProgramFilterSet
    ordering_fields = ["id", "name", "status", "started_on", "created_at"]
    ordering = ["name", "id"]

    spreadsheet_actions = ("risk",)

    def annotate_queryset(self, queryset):
        return queryset.with_readiness().annotate(**_risk_annotations())

    def destroy_object(self, instance: Program) -> None:
        program_delete(program=instance, actor=self.actor)

    @extend_schema(
        summary="Change the program's status (the only way to change it)",
        description="Allowed: draft→active, active→paused, paused→active, active→completed, "
        "draft|active|paused→cancelled. A pause, cancel or resume needs `reason`; activating a program "
        "with unmet readiness needs `force: true` and a reason. A refused move answers 400 with why.",
        request=TransitionSerializer,
        responses={200: ProgramWithRiskSerializer},
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        program = self.get_object()
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        program_transition(program=program, actor=self.actor, **body.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=program.pk)).data)

    @extend_schema(
        summary="Early-bail risk on a date: the latest assessment with its factors, optionally the series",
        description="The latest assessment dated on or before `as_of` (default today). Before the first scan "
        "every field is null. With `?history=1` the `history` list holds every assessment dated on or before "
        "`as_of`, oldest first, each with its factors and their evidence. `?history=1&format=csv` (or `xlsx`) "
        "gives that list as a spreadsheet, one assessment a row with the same fields (`factors` as JSON); "
        "without `history=1` a spreadsheet is a 400.",
        parameters=[
            OpenApiParameter("history", OpenApiTypes.BOOL, description="Include the series of assessments."),
            AS_OF_PARAMETER,
        ],
        responses={200: RiskSerializer, 400: VALIDATION_ERROR},
        filters=False,
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def risk(self, request, pk=None):
        as_of = AsOfQuerySerializer.from_request(request)
        program = self.get_object()
        series = None
        if query_flag(request, "history"):
            series = risk_history(program_id=program.pk, as_of=as_of, with_factors=True)
            if streams_rows(request):
                return spreadsheet_series(
                    request, items=series, serializer=RiskPointSerializer(), name=f"program-{program.pk}-risk"
                )
            latest = series[-1] if series else None
        elif streams_rows(request):
            # The list is the series; the latest assessment alone is an object, not rows.
            raise serializers.ValidationError(
                {"format": ["A spreadsheet of risk holds the series of assessments: add history=1."]}
            )
        else:
            risk = risk_on(program_ids=[program.pk], as_of=as_of, with_factors=True).get(program.pk)
            latest = vars(risk) if risk else None
        data = {
            "program": program.pk,
            "as_of": latest["as_of"] if latest else None,
            "score": latest["score"] if latest else None,
            "level": latest["level"] if latest else None,
            "factors": latest["factors"] if latest else [],
            "history": series,
        }
        return Response(RiskSerializer(data).data)

    @extend_schema(
        summary="The program's metric cascade on a date, as nested JSON with owner and health",
        description="Each metric as it stood at the end of `as_of` (default today): its latest value with "
        "`period_end` on or before that day, the target, target date, baseline, owner and status in force "
        "then (from the revisions), and its health computed from those.",
        parameters=[AS_OF_PARAMETER],
        responses={200: MetricTreeNodeSerializer(many=True), 400: VALIDATION_ERROR},
        filters=False,
    )
    @action(detail=True, methods=["get"], url_path="metric-tree", filterset_class=None, pagination_class=None)
    def metric_tree(self, request, pk=None):
        as_of = AsOfQuerySerializer.from_request(request)
        program = self.get_object()
        tree = metric_selectors.metric_tree(program_id=program.pk, as_of=as_of)
        return Response(MetricTreeNodeSerializer(_tree_json(tree), many=True).data)
