"""`GET /api/v1/me/`: the caller's items (SPEC §5, My items), as the dashboard's My items.

The same selector as the page (`accountability.my_items`). For a person signed in: their
items in every organization they belong to; for an API key: those of the person who
created the key, in the key's organization. `?as_of=` as everywhere.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cxgov.api.schema import VALIDATION_ERROR

from ..my_items import my_items, people_of
from .programs import AsOfQuerySerializer


class MyFlagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    program = serializers.IntegerField(source="program_id")
    title = serializers.CharField()
    kind = serializers.CharField()
    severity = serializers.CharField()
    status = serializers.CharField()
    escalation_level = serializers.IntegerField(
        help_text="0 the owner, 1 the owner's manager, 2 the sponsor, 3 the board."
    )
    first_detected_on = serializers.DateField()
    age_days = serializers.IntegerField()


class MyActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    program = serializers.IntegerField(source="program_id")
    session = serializers.IntegerField(source="session_id", allow_null=True)
    description = serializers.CharField()
    due_on = serializers.DateField(allow_null=True)
    overdue = serializers.BooleanField()


class MyMetricSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    program = serializers.IntegerField(source="program_id")
    name = serializers.CharField()
    reporting_cadence = serializers.CharField()
    latest_period_end = serializers.DateField(allow_null=True)
    days_since = serializers.IntegerField(help_text="Days since the latest value's period end (or creation).")
    stale = serializers.CharField(allow_null=True, help_text="null, low or medium: as the metric_stale flag.")


class MyInitiativeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    program = serializers.IntegerField(source="program_id")
    name = serializers.CharField()
    status = serializers.CharField()
    last_activity_on = serializers.DateField(allow_null=True)
    days_silent = serializers.IntegerField(allow_null=True)
    stall_after_days = serializers.IntegerField(source="program__stall_after_days")
    stalled = serializers.SerializerMethodField()

    def get_stalled(self, row) -> bool:
        return row["stall_severity"] is not None


class MySessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    forum = serializers.IntegerField(source="forum_id")
    forum_name = serializers.CharField(source="forum.name")
    program = serializers.IntegerField(source="forum.program_id")
    scheduled_for = serializers.DateTimeField()
    status = serializers.CharField()


class MyItemsSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    people = serializers.SerializerMethodField(help_text="The caller's Person ids (one per organization).")
    flags = MyFlagSerializer(many=True, help_text="Open or acknowledged flags the caller owns, most severe first.")
    action_items = MyActionSerializer(many=True, source="actions")
    metrics_due = MyMetricSerializer(many=True, source="metrics")
    initiatives_due = MyInitiativeSerializer(many=True, source="initiatives")
    sessions_without_attendance = MySessionSerializer(many=True, source="sessions")
    nudges = serializers.ListField(
        child=serializers.DictField(),
        help_text="Reminders due today: kind, subject, due_on, url (the form to act), text.",
    )

    def get_people(self, items) -> list[int]:
        return [p.pk for p in items.people]


class MeView(APIView):
    """What the caller owns or must act on."""

    @extend_schema(
        operation_id="me",
        summary="My items: flags, action items, metrics and initiatives due, sessions to record",
        parameters=[OpenApiParameter("as_of", OpenApiTypes.DATE, description="The day (default today).")],
        responses={200: MyItemsSerializer, 400: VALIDATION_ERROR},
        tags=["me"],
    )
    def get(self, request: Request) -> Response:
        as_of = AsOfQuerySerializer.from_request(request)
        return Response(MyItemsSerializer(my_items(people=people_of(request.user), as_of=as_of)).data)
