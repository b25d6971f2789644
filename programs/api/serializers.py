"""Serializers of the programs domain. Field names are the model's (SPEC §2)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cxgov.api.exceptions import django_validation_detail
from cxgov.api.fields import ScopedPrimaryKeyRelatedField
from cxgov.api.serializers import ScopedModelSerializer
from programs.choices import COMMITMENT_QUESTIONS, ProgramStatus
from programs.models import (
    BusinessUnit,
    Change,
    CommitmentAssessment,
    Initiative,
    Organization,
    Person,
    Program,
    ProgressUpdate,
    RoadmapStage,
)
from programs.services import program_review_move, progress_update_create

PERCENT = {"min_value": 0, "max_value": 100}


def organization_field() -> ScopedPrimaryKeyRelatedField:
    return ScopedPrimaryKeyRelatedField(
        queryset=Organization.objects.all(),
        required=False,
        help_text="On create: the organization (id). Optional with an API key or a single membership.",
    )


class OrgLevelSerializer(ScopedModelSerializer):
    organization_from = "organization"
    create_only_fields = ("organization",)


def check_same_program(serializer: ScopedModelSerializer, attrs: dict, *names: str) -> None:
    """Each named reference (stage, session, metric...) must belong to the row's program."""
    program = attrs.get("program") or getattr(serializer.instance, "program", None)
    if program is None:
        return
    errors = {}
    for name in names:
        value = attrs.get(name)
        if value is not None and value.program_id != program.pk:
            errors[name] = [f"{value._meta.verbose_name.capitalize()} {value.pk} belongs to another program."]
    if errors:
        raise serializers.ValidationError(errors)


def refuse_read_only_changes(serializer: serializers.Serializer, data, rules: dict[str, tuple]) -> None:
    """400 for a read-only field the body would change: `{name: (value on create, message)}`.

    DRF ignores read-only fields in input, so `PATCH {"status": "paused"}` answered 200 and
    changed nothing; the client believed it had paused the program. A body repeating the
    current value (a PUT of the object as read) is accepted: it changes nothing.
    """
    if not hasattr(data, "items"):
        return
    errors = {}
    for name, (on_create, message) in rules.items():
        if name not in data:
            continue
        field = serializer.fields[name]
        current = (
            on_create if serializer.instance is None else field.to_representation(getattr(serializer.instance, name))
        )
        if data[name] != current:
            errors[name] = [message]
    if errors:
        raise serializers.ValidationError(errors)


def check_date_order(attrs: dict, instance, start: str, end: str) -> None:
    starts = attrs.get(start, getattr(instance, start, None))
    ends = attrs.get(end, getattr(instance, end, None))
    if starts and ends and ends < starts:
        raise serializers.ValidationError({end: [f"{end} cannot be before {start}."]})


class PersonSerializer(OrgLevelSerializer):
    organization = organization_field()
    # The queryset's column (`programs.access.calendar_url_column`): the address for the
    # program office, null for anyone else.
    calendar_url = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The person's private calendar feed (read-only); shown to the program office only, else null.",
    )

    class Meta:
        model = Person
        fields = [
            "id",
            "organization",
            "name",
            "email",
            "title",
            "is_officer",
            "reports_to",
            "active",
            "user",
            "calendar_url",
            "low_medium_emails",
        ]
        read_only_fields = ["user"]
        validators = []

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None and attrs.get("reports_to") == self.instance:
            raise serializers.ValidationError({"reports_to": ["A person cannot report to themselves."]})
        return attrs


class BusinessUnitSerializer(OrgLevelSerializer):
    organization = organization_field()

    class Meta:
        model = BusinessUnit
        fields = ["id", "organization", "name"]
        # (organization, name) is checked once the organization is resolved (check_constraints).
        validators = []


class OrganizationSerializer(ScopedModelSerializer):
    """The caller's organization. The office changes its CEO, board contact, board pack
    recipients and currency (ISO 4217; people of the same organization only); name and
    slug are read-only here (an operator creates the tenant): a body that would change them
    is refused with 400 (not ignored), like any other refused write."""

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "ceo", "board_contact", "board_recipients", "currency", "created_at"]
        read_only_fields = ["name", "slug", "created_at"]

    def to_internal_value(self, data):
        operator = "is set by an operator (manage.py create_organization) and cannot be changed through the API."
        refuse_read_only_changes(
            self, data, {"name": (None, f"The organization's name {operator}"), "slug": (None, f"The slug {operator}")}
        )
        # "eur" means EUR: codes are compared in capitals, the model's validator does the rest.
        if isinstance(data, dict) and isinstance(data.get("currency"), str):
            data = {**data, "currency": data["currency"].strip().upper()}
        return super().to_internal_value(data)


class ProgramSerializer(OrgLevelSerializer):
    """Program fields; `status` changes only through `programs/{id}/transition/`. Once the
    program is launched, `earliest_review_on` only moves later, with `change_reason`
    (`program_review_move`); on a draft it is edited freely."""

    organization = organization_field()
    readiness = serializers.SerializerMethodField()
    change_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Required when a launched program's earliest_review_on moves (later only); kept in its history.",
    )

    class Meta:
        model = Program
        fields = [
            "id",
            "organization",
            "name",
            "customer_vision",
            "business_case",
            "executive_sponsor",
            "customer_champion",
            "champion_time_pct",
            "status",
            "started_on",
            "committed_horizon_months",
            "first_results_due_on",
            "budget",
            "stall_after_days",
            "earliest_review_on",
            "exit_criteria",
            "created_at",
            "readiness",
            "change_reason",
        ]
        read_only_fields = ["status", "created_at"]
        extra_kwargs = {
            "champion_time_pct": PERCENT,
            "committed_horizon_months": {"min_value": 1, "max_value": 1200},
            "stall_after_days": {"min_value": 1, "max_value": 3650},
            "budget": {"min_value": 0},
        }

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_readiness(self, obj: Program) -> list[str]:
        return obj.readiness

    def to_internal_value(self, data):
        # SPEC §2: status changes go through one service (SPEC §5: the transition endpoint).
        where = (
            "/api/v1/programs/<id>/transition/"
            if self.instance is None
            else f"/api/v1/programs/{self.instance.pk}/transition/"
        )
        message = f'Change the status with POST {where} {{"to": "...", "reason": "..."}}; ' + (
            "a program is created as a draft." if self.instance is None else "it is not changed by PATCH or PUT."
        )
        refuse_read_only_changes(self, data, {"status": (ProgramStatus.DRAFT, message)})
        return super().to_internal_value(data)

    def create(self, validated_data):
        validated_data.pop("change_reason", None)
        return super().create(validated_data)

    def update(self, instance: Program, validated_data):
        """A launched program's review date moves through `program_review_move` (later only,
        with a reason) before the other fields are saved; a draft's is a plain field."""
        reason = validated_data.pop("change_reason", "")
        if instance.status != ProgramStatus.DRAFT and "earliest_review_on" in validated_data:
            review_on = validated_data.pop("earliest_review_on")
            if review_on is None:
                raise serializers.ValidationError({"earliest_review_on": ["A launched program keeps a review date."]})
            try:
                program_review_move(program=instance, to=review_on, reason=reason, actor=self.context.get("actor"))
            except DjangoValidationError as exc:
                detail = django_validation_detail(exc)
                if isinstance(detail, dict) and "reason" in detail:
                    # The service's `reason` is the body's `change_reason`: name the field to send.
                    detail["change_reason"] = detail.pop("reason")
                raise serializers.ValidationError(detail) from None
            if not validated_data:
                return instance  # nothing else changes: no second history row
        return super().update(instance, validated_data)


class StageSerializer(ScopedModelSerializer):
    create_only_fields = ("program",)

    class Meta:
        model = RoadmapStage
        fields = ["id", "program", "sequence", "name", "expectations", "starts_on", "ends_on", "budget", "status"]
        extra_kwargs = {"budget": {"min_value": 0}, "sequence": {"min_value": 1}}

    def validate(self, attrs):
        check_date_order(attrs, self.instance, "starts_on", "ends_on")
        return super().validate(attrs)


class InitiativeSerializer(ScopedModelSerializer):
    create_only_fields = ("program",)
    last_update_on = serializers.DateField(read_only=True, allow_null=True)

    class Meta:
        model = Initiative
        fields = [
            "id",
            "program",
            "stage",
            "name",
            "description",
            "owner",
            "business_units",
            "status",
            "starts_on",
            "due_on",
            "percent_complete",
            "last_update_on",
        ]
        extra_kwargs = {"percent_complete": PERCENT}

    def validate(self, attrs):
        check_date_order(attrs, self.instance, "starts_on", "due_on")
        attrs = super().validate(attrs)
        check_same_program(self, attrs, "stage")
        return attrs


class ProgressUpdateSerializer(ScopedModelSerializer):
    """Appended through `progress_update_create`; the initiative takes the latest percent."""

    organization_from = "initiative"

    class Meta:
        model = ProgressUpdate
        fields = ["id", "initiative", "author", "reported_on", "rag", "percent_complete", "note", "created_at"]
        read_only_fields = ["created_at"]
        extra_kwargs = {"percent_complete": PERCENT}

    def create(self, validated_data):
        return progress_update_create(**validated_data)


class CommitmentAssessmentSerializer(ScopedModelSerializer):
    create_only_fields = ("program",)
    score = serializers.FloatField(read_only=True, help_text="Mean of the nine answers × 20 (0–100).")

    class Meta:
        model = CommitmentAssessment
        fields = ["id", "program", "assessed_on", "assessor", *[q for q, _ in COMMITMENT_QUESTIONS], "score", "note"]
        read_only_fields = ["score"]
        extra_kwargs = {q: {"min_value": 1, "max_value": 5} for q, _ in COMMITMENT_QUESTIONS}


class ChangedFieldSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    old = serializers.CharField(allow_null=True, required=False, help_text="The value before, as text.")
    new = serializers.CharField(allow_null=True, required=False, help_text="The value after, as text.")
    secret = serializers.BooleanField(required=False, help_text="A secret: the log says it changed, never the values.")


class ChangeSerializer(serializers.ModelSerializer):
    """One entry of the organization's change log (read-only)."""

    changes = ChangedFieldSerializer(many=True, read_only=True)
    user = serializers.IntegerField(source="actor_user_id", allow_null=True, help_text="The user who acted (id).")
    api_key = serializers.IntegerField(
        source="actor_api_key_id", allow_null=True, help_text="The API key that acted (id)."
    )
    actor = serializers.CharField(
        source="actor_label", help_text="Who acted, as named then; empty for the system (the scan)."
    )
    sentence = serializers.CharField(read_only=True, help_text="The entry as a sentence for people.")

    class Meta:
        model = Change
        fields = [
            "id",
            "at",
            "organization",
            "program",
            "model",
            "object_id",
            "object_repr",
            "action",
            "changes",
            "reason",
            "user",
            "api_key",
            "actor",
            "sentence",
        ]
        read_only_fields = fields
