"""API viewsets of forums and meeting records, escalations, flags and scans."""

import datetime as dt

from django.db.models import F
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from accountability.flag_actions import flag_acknowledge, flag_assign, flag_comment, flag_dismiss, flag_resolve
from accountability.scans import scan_queue
from accountability.services import agenda_item_delete, attendance_delete, session_delete
from accountability.session_record import may_record, session_record
from cxgov.api.filters import check_no_empty_values
from cxgov.api.permissions import ANY_ROLE, OFFICE, OFFICE_EXECUTIVE, OFFICE_INTEGRATION, require_role_in
from cxgov.api.spreadsheets import spreadsheet_list, streams_rows
from cxgov.api.values import ValuesListMixin, date_text, datetime_text
from cxgov.api.viewsets import ScopedModelViewSet, ScopedReadOnlyViewSet
from programs.access import organization_ids
from programs.models import Organization, Person

from .. import filtersets
from ..models import ActionItem, AgendaItem, Attendance, Escalation, Flag, FlagComment, Forum, ForumSession, ScanRun
from ..models.flags import severity_rank
from . import serializers
from .record import SessionRecordSerializer

# Integrations keep meeting records in sync: they may write sessions, attendance,
# agenda items and action items (SPEC §2, Membership).
MEETING_RECORDS = {"write": OFFICE_INTEGRATION}


class ForumViewSet(ScopedModelViewSet):
    queryset = Forum.objects.all()
    serializer_class = serializers.ForumSerializer
    filterset_class = filtersets.ForumFilterSet
    ordering_fields = ["id", "name", "started_on", "cadence"]
    ordering = ["program_id", "name", "id"]


class ForumSessionViewSet(ScopedModelViewSet):
    queryset = ForumSession.objects.all()
    serializer_class = serializers.ForumSessionSerializer
    filterset_class = filtersets.ForumSessionFilterSet
    ordering_fields = ["id", "scheduled_for", "status"]
    ordering = ["-scheduled_for", "-id"]
    # Meeting mode: the chair (an executive, any role in fact) too; `may_record` decides.
    role_rules = {**MEETING_RECORDS, "record": ANY_ROLE}

    def destroy_object(self, instance) -> None:
        session_delete(session=instance, actor=self.actor)

    @extend_schema(
        summary="Record a session after it happened: status, attendance, agenda outcomes, actions, metric "
        "changes decided there (one transaction; the chair, the office and integration users)",
        request=SessionRecordSerializer,
        responses={200: serializers.ForumSessionSerializer},
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        session = self.get_object()
        if not may_record(request.user, session):
            raise PermissionDenied("Only the forum's chair, the program office and integration users record sessions.")
        body = SessionRecordSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        session = session_record(session=session, record=body.to_record(session), actor=self.actor)
        return Response(serializers.ForumSessionSerializer(session, context=self.get_serializer_context()).data)


class AttendanceViewSet(ScopedModelViewSet):
    queryset = Attendance.objects.all()
    serializer_class = serializers.AttendanceSerializer
    filterset_class = filtersets.AttendanceFilterSet
    ordering_fields = ["id", "session", "person"]
    ordering = ["session_id", "id"]
    role_rules = MEETING_RECORDS

    def destroy_object(self, instance) -> None:
        attendance_delete(attendance=instance, actor=self.actor)


class AgendaItemViewSet(ScopedModelViewSet):
    queryset = AgendaItem.objects.all()
    serializer_class = serializers.AgendaItemSerializer
    filterset_class = filtersets.AgendaItemFilterSet
    ordering_fields = ["id", "session", "outcome"]
    ordering = ["session_id", "id"]
    role_rules = MEETING_RECORDS

    def destroy_object(self, instance) -> None:
        agenda_item_delete(agenda_item=instance, actor=self.actor)


class ActionItemViewSet(ScopedModelViewSet):
    queryset = ActionItem.objects.all()
    serializer_class = serializers.ActionItemSerializer
    filterset_class = filtersets.ActionItemFilterSet
    ordering_fields = ["id", "due_on", "status", "completed_on"]
    ordering = ["due_on", "id"]
    role_rules = MEETING_RECORDS


class EscalationViewSet(ScopedModelViewSet):
    queryset = Escalation.objects.all()
    serializer_class = serializers.EscalationSerializer
    filterset_class = filtersets.EscalationFilterSet
    ordering_fields = ["id", "raised_on", "resolved_on"]
    ordering = ["-raised_on", "id"]


_FLAG_MOVE_RESPONSES = {200: serializers.FlagSerializer}


class FlagViewSet(ValuesListMixin, ScopedReadOnlyViewSet):
    """Flags are raised and refreshed by scans; people acknowledge, resolve or dismiss them.

    The list is hot (docs/api.md): it reads `.values()` and renders each row like
    `FlagSerializer` (tests/api/test_values_lists.py checks the bytes).
    """

    queryset = Flag.objects.all()
    serializer_class = serializers.FlagSerializer
    filterset_class = filtersets.FlagFilterSet
    ordering_fields = ["id", "severity", "kind", "status", "first_detected_at", "last_detected_at", "resolved_at"]
    ordering = ["-last_detected_at", "-id"]
    role_rules = {
        "acknowledge": OFFICE_EXECUTIVE,
        "resolve": OFFICE,
        "dismiss": OFFICE,
        "add_comment": OFFICE_EXECUTIVE,
        "assign": OFFICE_EXECUTIVE,
    }
    spreadsheet_actions = ("comments",)
    values_fields = (
        "id",
        "organization_id",
        "program_id",
        "kind",
        "severity",
        "subject_type",
        "subject_id",
        "owner_id",
        "title",
        "detail",
        "evidence",
        "status",
        "first_detected_at",
        "last_detected_at",
        "first_detected_on",
        "last_detected_on",
        "acknowledged_at",
        "acknowledged_by_id",
        "acknowledged_by_key_id",
        "resolved_at",
        "resolved_by_id",
        "resolved_by_key_id",
        "resolution_note",
        "closed_on",
        "escalation_level",
        "escalated_at",
    )
    #: The day the list or a flag is read as of (`?as_of=`, or the list's `?open_on=`), else None.
    as_of: dt.date | None = None

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "as_of",
                OpenApiTypes.DATE,
                description="The flag as it was at the end of this day (SPEC §2): its status, severity and "
                "title then, nothing of what came later; 404 when it was first detected after it.",
            )
        ]
    )
    def retrieve(self, request, *args, **kwargs):
        check_no_empty_values(request, {"as_of": filtersets.FlagFilterSet.base_filters["as_of"]})
        day = filtersets.FlagFilterSet.as_of_day({"as_of": request.query_params.get("as_of")})
        flag = self.get_object()
        data = self.get_serializer(flag).data
        if day is None:
            return Response(data)
        # The same annotations and the same rewrite as a row of the list as of that day.
        state = Flag.objects.filter(pk=flag.pk).with_state_on(day).values("status_on", "severity_on", "title_on").get()
        if state["status_on"] is None:
            raise NotFound(
                f"Flag {flag.pk} was first detected on {flag.first_detected_on.isoformat()}, "
                f"after {day.isoformat()}: it did not exist yet."
            )
        return Response(serializers.flag_as_of(data, day=day, acknowledged_at=flag.acknowledged_at, **state))

    def sort_terms(self, terms: list[str], queryset) -> list:
        """`?ordering=severity` is by rank (low … critical; `-severity`: critical first), not
        by the words' spelling; as of a day, severity and status are those of that day."""
        as_of = "severity_on" in queryset.query.annotations
        columns = {"severity": "severity_on" if as_of else "severity", "status": "status_on" if as_of else "status"}
        sorted_by = []
        for term in terms:
            name = term.removeprefix("-")
            if name not in columns:
                sorted_by.append(term)
                continue
            value = severity_rank(columns[name]) if name == "severity" else F(columns[name])
            sorted_by.append(value.desc() if term.startswith("-") else value.asc())
        return sorted_by

    def filter_queryset(self, queryset):
        # As of a day the filterset annotates each flag as it stood then (`with_state_on`:
        # status, severity and title on that day), which its filters and this list read.
        queryset = super().filter_queryset(queryset)
        self.as_of = filtersets.FlagFilterSet.as_of_day(self.request.query_params)
        if self.as_of is not None:
            self.values_fields = (*type(self).values_fields, "status_on", "severity_on", "title_on")
        return queryset

    def values_row(self, row: dict) -> dict:
        data = self._values_row(row)
        if self.as_of is not None:
            serializers.flag_as_of(
                data,
                day=self.as_of,
                status_on=row["status_on"],
                acknowledged_at=row["acknowledged_at"],
                severity_on=row["severity_on"],
                title_on=row["title_on"],
            )
        return data

    def _values_row(self, row: dict) -> dict:
        return {
            "id": row["id"],
            "organization": row["organization_id"],
            "program": row["program_id"],
            "kind": row["kind"],
            "severity": row["severity"],
            "subject_type": row["subject_type"],
            "subject_id": row["subject_id"],
            "owner": row["owner_id"],
            "title": row["title"],
            "detail": row["detail"],
            "evidence": row["evidence"],
            "status": row["status"],
            "first_detected_at": datetime_text(row["first_detected_at"]),
            "last_detected_at": datetime_text(row["last_detected_at"]),
            "first_detected_on": date_text(row["first_detected_on"]),
            "last_detected_on": date_text(row["last_detected_on"]),
            "acknowledged_at": datetime_text(row["acknowledged_at"]),
            "acknowledged_by": row["acknowledged_by_id"],
            "acknowledged_by_key": row["acknowledged_by_key_id"],
            "resolved_at": datetime_text(row["resolved_at"]),
            "resolved_by": row["resolved_by_id"],
            "resolved_by_key": row["resolved_by_key_id"],
            "resolution_note": row["resolution_note"],
            "closed_on": date_text(row["closed_on"]),
            "escalation_level": row["escalation_level"],
            "escalated_at": datetime_text(row["escalated_at"]),
        }

    def _moved(self, flag) -> Response:
        return Response(self.get_serializer(flag).data)

    @extend_schema(
        summary="Acknowledge a flag (open → acknowledged): someone owns the problem",
        request=None,
        responses=_FLAG_MOVE_RESPONSES,
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._moved(flag_acknowledge(flag=self.get_object(), actor=self.actor))

    @extend_schema(
        summary="Resolve a flag (open/acknowledged → resolved), with an optional note",
        request=serializers.FlagResolveSerializer,
        responses=_FLAG_MOVE_RESPONSES,
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        flag = self.get_object()
        body = serializers.FlagResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._moved(flag_resolve(flag=flag, actor=self.actor, note=body.validated_data["note"]))

    @extend_schema(
        summary="Dismiss a flag (open/acknowledged → dismissed); the reason is required",
        request=serializers.FlagDismissSerializer,
        responses=_FLAG_MOVE_RESPONSES,
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        flag = self.get_object()
        body = serializers.FlagDismissSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._moved(flag_dismiss(flag=flag, actor=self.actor, reason=body.validated_data["reason"]))

    @extend_schema(
        summary="The flag's comments, oldest first (hand-overs included: they name both owners)",
        description="A page like every list (`count`, `next`, `previous`, `results`); `?format=csv` or "
        "`?format=xlsx` gives every comment with the same fields.",
        responses={200: serializers.FlagCommentSerializer(many=True)},
        filters=False,
    )
    @action(detail=True, methods=["get"])
    def comments(self, request, pk=None):
        flag = self.get_object()
        rows = FlagComment.objects.filter(flag=flag).select_related("author", "author_user", "author_key__created_by")
        if streams_rows(request):
            name = f"flag-{flag.pk}-comments"
            return spreadsheet_list(
                self, request, queryset=rows, serializer=serializers.FlagCommentSerializer(), name=name
            )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(serializers.FlagCommentSerializer(page, many=True).data)

    @extend_schema(
        summary="Comment on a flag (office and executive)",
        request=serializers.FlagCommentCreateSerializer,
        responses={201: serializers.FlagCommentSerializer},
        filters=False,
    )
    @comments.mapping.post
    def add_comment(self, request, pk=None):
        flag = self.get_object()
        body = serializers.FlagCommentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        comment = flag_comment(flag=flag, actor=self.actor, text=body.validated_data["text"])
        return Response(serializers.FlagCommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Hand a live flag to another person of its organization, who is told by email",
        request=serializers.FlagAssignSerializer,
        responses=_FLAG_MOVE_RESPONSES,
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        flag = self.get_object()
        body = serializers.FlagAssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # Another organization's person (or none) is refused as a bad reference, like any id.
        owner = Person.objects.filter(pk=body.validated_data["owner"], organization_id=flag.organization_id).first()
        if owner is None:
            raise ValidationError({"owner": ["No person with this id in the flag's organization."]})
        return self._moved(flag_assign(flag=flag, owner=owner, actor=self.actor, note=body.validated_data["note"]))


class ScanRunViewSet(ScopedReadOnlyViewSet):
    """Queue a governance scan of one organization and follow its status."""

    queryset = ScanRun.objects.all()
    serializer_class = serializers.ScanRunSerializer
    filterset_class = filtersets.ScanRunFilterSet
    ordering_fields = ["id", "as_of", "created_at", "finished_at"]
    ordering = ["-created_at", "-id"]
    role_rules = {"create": OFFICE}

    @extend_schema(
        summary="Queue a governance scan (office only)",
        request=serializers.ScanRequestSerializer,
        responses={202: OpenApiResponse(serializers.ScanRunSerializer, description="Queued; poll its status.")},
    )
    def create(self, request, *args, **kwargs):
        body = serializers.ScanRequestSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        organization = body.validated_data.get("organization") or self._only_organization()
        require_role_in(request.user, organization.pk, OFFICE)
        as_of: dt.date = body.validated_data.get("as_of") or timezone.localdate()
        run = scan_queue(organization=organization, as_of=as_of, actor=self.actor)
        run.refresh_from_db()
        return Response(serializers.ScanRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    def _only_organization(self):
        ids = organization_ids(self.request.user)
        if ids is None or len(ids) != 1:
            raise ValidationError({"organization": ["Name the organization (id): you belong to several."]})
        return Organization.objects.get(pk=ids[0])
