"""Serializers of forums, meeting records, escalations, flags, scans and risk."""

import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from cxgov.api.exceptions import django_validation_detail
from cxgov.api.fields import IsoDateField, ScopedPrimaryKeyRelatedField
from cxgov.api.serializers import ScopedModelSerializer, StrictSerializer
from metrics.choices import Health
from programs.api.serializers import check_date_order, check_same_program
from programs.dates import ScanAsOfValidator, end_of
from programs.models import Organization

from ..choices import LIVE_FLAG_STATUSES, RiskLevel
from ..models import ActionItem, AgendaItem, Attendance, Escalation, Flag, FlagComment, Forum, ForumSession, ScanRun
from ..models.forums import check_attendance


class ForumSerializer(ScopedModelSerializer):
    create_only_fields = ("program",)

    class Meta:
        model = Forum
        fields = [
            "id",
            "program",
            "name",
            "purpose",
            "cadence",
            "started_on",
            "chair",
            "members",
            "dedicated",
            "metrics_reviewed",
            "active",
        ]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        program = attrs.get("program") or getattr(self.instance, "program", None)
        foreign = [m.pk for m in attrs.get("metrics_reviewed", []) if m.program_id != program.pk]
        if foreign:
            raise serializers.ValidationError(
                {"metrics_reviewed": [f"Metric {foreign[0]} belongs to another program."]}
            )
        return attrs


class ForumSessionSerializer(ScopedModelSerializer):
    organization_from = "forum"
    create_only_fields = ("forum",)

    class Meta:
        model = ForumSession
        fields = ["id", "forum", "scheduled_for", "status", "notes"]


class AttendanceSerializer(ScopedModelSerializer):
    organization_from = "session"
    create_only_fields = ("session", "person")

    class Meta:
        model = Attendance
        fields = ["id", "session", "person", "present", "delegate"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        person = attrs.get("person") or getattr(self.instance, "person", None)
        if attrs.get("delegate") is not None and attrs["delegate"] == person:
            raise serializers.ValidationError({"delegate": ["A delegate is someone who came instead of the person."]})
        # A PATCH is checked on the row it would leave: its present and delegate, changed or kept.
        present = attrs["present"] if "present" in attrs else getattr(self.instance, "present", False)
        delegate = attrs["delegate"] if "delegate" in attrs else getattr(self.instance, "delegate", None)
        try:
            check_attendance(present=present, delegate_id=getattr(delegate, "pk", None))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_validation_detail(exc)) from None
        return attrs


class AgendaItemSerializer(ScopedModelSerializer):
    organization_from = "session"
    create_only_fields = ("session",)

    class Meta:
        model = AgendaItem
        fields = ["id", "session", "title", "metric", "initiative", "customer_item", "outcome"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        session = attrs.get("session") or self.instance.session
        program_id = session.forum.program_id
        errors = {}
        for name in ("metric", "initiative"):
            value = attrs.get(name)
            if value is not None and value.program_id != program_id:
                errors[name] = [f"{value._meta.verbose_name.capitalize()} {value.pk} belongs to another program."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ActionItemSerializer(ScopedModelSerializer):
    create_only_fields = ("program",)

    class Meta:
        model = ActionItem
        fields = ["id", "program", "session", "owner", "description", "due_on", "status", "completed_on"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        session = attrs.get("session")
        program = attrs.get("program") or self.instance.program
        if session is not None and session.forum.program_id != program.pk:
            raise serializers.ValidationError({"session": [f"Forum session {session.pk} belongs to another program."]})
        return attrs


class EscalationSerializer(ScopedModelSerializer):
    """A stalled initiative or a metric taken to the sponsor: exactly one subject."""

    create_only_fields = ("program",)

    class Meta:
        model = Escalation
        fields = [
            "id",
            "program",
            "initiative",
            "metric",
            "raised_by",
            "raised_to",
            "raised_on",
            "resolved_on",
            "decision",
        ]

    def validate(self, attrs):
        check_date_order(attrs, self.instance, "raised_on", "resolved_on")
        initiative = attrs.get("initiative", getattr(self.instance, "initiative", None))
        metric = attrs.get("metric", getattr(self.instance, "metric", None))
        if (initiative is None) == (metric is None):
            raise serializers.ValidationError(
                {"non_field_errors": ["Name exactly one subject: an initiative or a metric."]}
            )
        attrs = super().validate(attrs)
        check_same_program(self, attrs, "initiative", "metric")
        return attrs


class FlagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Flag
        fields = [
            "id",
            "organization",
            "program",
            "kind",
            "severity",
            "subject_type",
            "subject_id",
            "owner",
            "title",
            "detail",
            "evidence",
            "status",
            "first_detected_at",
            "last_detected_at",
            "first_detected_on",
            "last_detected_on",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledged_by_key",
            "resolved_at",
            "resolved_by",
            "resolved_by_key",
            "resolution_note",
            "closed_on",
            "escalation_level",
            "escalated_at",
        ]
        read_only_fields = fields


def flag_as_of(
    data: dict,
    *,
    day: dt.date,
    status_on: str | None,
    acknowledged_at: dt.datetime | None,
    severity_on: str,
    title_on: str,
) -> dict:
    """A flag's representation `data` turned into the flag as it was at the end of `day`
    (SPEC §2, Time and evidence), in place: `status` is `status_on`, `severity` and `title`
    are `severity_on` and `title_on` (annotated by `Flag.objects.with_state_on(day)`, the
    one copy of those rules: the severity and title of the flag's latest snapshot of a scan
    dated on or before `day`); what did not exist yet on `day` is empty: the resolution
    (`resolved_*`, `closed_on`, and `resolution_note` as "", as on any flag not closed)
    unless closed by then, the acknowledgement (`acknowledged_*`) unless made by then.
    Detail, evidence, detection dates and escalation stay the stored ones. Used by the
    list's `.values()` path (`FlagViewSet.values_row`, JSON and spreadsheets alike)."""
    data["status"] = status_on
    data["severity"] = severity_on
    data["title"] = title_on
    if status_on is None or status_on in LIVE_FLAG_STATUSES:
        data.update(resolved_at=None, resolved_by=None, resolved_by_key=None, resolution_note="", closed_on=None)
    if acknowledged_at is None or acknowledged_at >= end_of(day):
        data.update(acknowledged_at=None, acknowledged_by=None, acknowledged_by_key=None)
    return data


class FlagResolveSerializer(StrictSerializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class FlagDismissSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=5000, help_text="Why the flag does not call for action (required).")


class FlagCommentSerializer(serializers.ModelSerializer):
    """A comment as read: who wrote it (a person, or an API key and its creator) and when."""

    author_name = serializers.CharField(source="author_label", read_only=True)

    class Meta:
        model = FlagComment
        fields = ["id", "flag", "author", "author_user", "author_key", "author_name", "text", "created_at"]
        read_only_fields = fields


class FlagCommentCreateSerializer(StrictSerializer):
    text = serializers.CharField(max_length=5000, help_text="The comment (required, at most 5,000 characters).")


class FlagAssignSerializer(StrictSerializer):
    owner = serializers.IntegerField(min_value=1, help_text="Id of an active person of the flag's organization.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class ScanRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScanRun
        fields = [
            "id",
            "organization",
            "as_of",
            "status",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "raised",
            "refreshed",
            "resolved",
            "errors",
        ]
        read_only_fields = fields


class ScanRequestSerializer(StrictSerializer):
    organization = ScopedPrimaryKeyRelatedField(
        queryset=Organization.objects.all(),
        required=False,
        help_text="The organization to scan (id); optional with an API key or a single membership.",
    )
    as_of = IsoDateField(
        required=False,
        validators=[ScanAsOfValidator()],
        help_text="The scan's date (YYYY-MM-DD), from 1900-01-01 to today + 366 days; default today.",
    )


class RiskPointSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    score = serializers.IntegerField(min_value=0, max_value=100)
    level = serializers.ChoiceField(choices=RiskLevel.choices)
    factors = serializers.JSONField(help_text="The factors that fired: code, points and evidence.")


class RiskSerializer(serializers.Serializer):
    """The latest assessment (all null before the first scan) and, on request, the series."""

    program = serializers.IntegerField()
    as_of = serializers.DateField(allow_null=True)
    score = serializers.IntegerField(allow_null=True)
    level = serializers.ChoiceField(choices=RiskLevel.choices, allow_null=True)
    factors = serializers.JSONField()
    history = RiskPointSerializer(many=True, allow_null=True, help_text="Oldest first; only with ?history=1.")


class OwnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MetricTreeNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    unit = serializers.CharField()
    direction = serializers.CharField()
    owner = OwnerSerializer(allow_null=True)
    health = serializers.ChoiceField(choices=Health.choices)
    latest_value = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    latest_period_end = serializers.DateField(allow_null=True)
    baseline = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    target = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    target_on = serializers.DateField(allow_null=True)


# The cascade is recursive: each node's children are nodes.
MetricTreeNodeSerializer._declared_fields["children"] = MetricTreeNodeSerializer(many=True)
