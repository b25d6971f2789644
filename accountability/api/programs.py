"""`programs/`: the program resource with its readiness, latest risk, status transitions,
risk history and metric cascade.

It lives here rather than in `programs/api/` because risk (accountability) and the
metric tree (metrics) come from the apps above `programs`, which may not import them.
"""

from django.db.models import OuterRef, Subquery
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from cxgov.api.viewsets import ScopedModelViewSet
from metrics.choices import LEVEL_RANK
from metrics.health import health
from metrics.models import Metric
from programs.api.serializers import ProgramSerializer
from programs.choices import ProgramStatus
from programs.filtersets import ProgramFilterSet
from programs.models import Program
from programs.services import program_delete, program_transition

from ..choices import RiskLevel
from ..models import RiskAssessment
from .serializers import MetricTreeNodeSerializer, RiskSerializer


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


class TransitionSerializer(serializers.Serializer):
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


def _assessment(row: RiskAssessment) -> dict:
    return {"as_of": row.as_of, "score": row.score, "level": row.level, "factors": row.factors}


def metric_tree(program: Program) -> list[dict]:
    """The program's metric cascade as nested nodes, from one query."""
    rows = list(
        Metric.objects.filter(program=program)
        .with_latest()
        .values(
            "id",
            "parent_id",
            "name",
            "level",
            "kind",
            "status",
            "unit",
            "direction",
            "owner_id",
            "owner__name",
            "baseline",
            "baseline_on",
            "target",
            "target_on",
            "latest_value",
            "latest_period_end",
        )
    )
    nodes = {}
    for row in rows:
        nodes[row["id"]] = {
            "id": row["id"],
            "name": row["name"],
            "level": row["level"],
            "kind": row["kind"],
            "status": row["status"],
            "unit": row["unit"],
            "direction": row["direction"],
            "owner": {"id": row["owner_id"], "name": row["owner__name"]} if row["owner_id"] else None,
            "health": health(
                direction=row["direction"],
                baseline=row["baseline"],
                baseline_on=row["baseline_on"],
                target=row["target"],
                target_on=row["target_on"],
                latest_value=row["latest_value"],
                latest_period_end=row["latest_period_end"],
            ),
            "latest_value": row["latest_value"],
            "latest_period_end": row["latest_period_end"],
            "baseline": row["baseline"],
            "target": row["target"],
            "target_on": row["target_on"],
            "children": [],
        }
    roots = []
    for row in rows:
        parent = nodes.get(row["parent_id"])
        (parent["children"] if parent is not None else roots).append(nodes[row["id"]])

    def order(items: list[dict]) -> None:
        items.sort(key=lambda n: (-LEVEL_RANK[n["level"]], n["name"], n["id"]))
        for item in items:
            order(item["children"])

    order(roots)
    return roots


class ProgramViewSet(ScopedModelViewSet):
    queryset = Program.objects.all()
    serializer_class = ProgramWithRiskSerializer
    filterset_class = ProgramFilterSet
    ordering_fields = ["id", "name", "status", "started_on", "created_at"]
    ordering = ["name", "id"]

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
        summary="Early-bail risk: the latest assessment with its factors, optionally the series",
        description="Before the first scan every field is null. With `?history=1` the `history` list holds "
        "every assessment, oldest first, each with its factors and their evidence.",
        parameters=[OpenApiParameter("history", OpenApiTypes.BOOL, description="Include the series of assessments.")],
        responses={200: RiskSerializer},
        filters=False,
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def risk(self, request, pk=None):
        program = self.get_object()
        want_history = request.query_params.get("history", "").lower() in ("1", "true", "yes")
        if want_history:
            series = [_assessment(r) for r in RiskAssessment.objects.filter(program=program).order_by("as_of")]
            latest = series[-1] if series else None
        else:
            series = None
            row = RiskAssessment.objects.filter(program=program).order_by("-as_of").first()
            latest = _assessment(row) if row else None
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
        summary="The program's metric cascade as nested JSON, with owner and health",
        responses={200: MetricTreeNodeSerializer(many=True)},
        filters=False,
    )
    @action(detail=True, methods=["get"], url_path="metric-tree", filterset_class=None, pagination_class=None)
    def metric_tree(self, request, pk=None):
        program = self.get_object()
        return Response(MetricTreeNodeSerializer(metric_tree(program), many=True).data)
