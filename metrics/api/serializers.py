"""Serializers of the metrics domain. Guarded changes go through `metric_update`."""

from rest_framework import serializers

from cxgov.api.fields import ScopedPrimaryKeyRelatedField
from cxgov.api.serializers import ScopedModelSerializer
from metrics.choices import GUARDED_FIELDS, Health
from metrics.measurements import measurement_upsert
from metrics.models import Exemption, Measurement, Metric, MetricRevision
from metrics.services import exemption_grant, metric_update
from programs.api.serializers import check_date_order

from .fields import MeasurementValueField


def _forum_session_queryset():
    # ForumSession lives in `accountability`, above this app: reach it through the
    # revision's foreign key rather than an import.
    return MetricRevision._meta.get_field("approved_in").related_model.objects.all()


class MetricSerializer(ScopedModelSerializer):
    """A metric of the cascade. Changing a guarded field (target, target_on,
    incentive_weight, owner, status, baseline, baseline_on, direction, unit, level, kind)
    needs `change_reason`, and writes one revision per field changed."""

    create_only_fields = ("program",)
    health = serializers.ChoiceField(choices=Health.choices, read_only=True)
    latest_value = serializers.DecimalField(max_digits=20, decimal_places=4, read_only=True, allow_null=True)
    latest_period_end = serializers.DateField(read_only=True, allow_null=True)
    change_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text=f"Required when changing any of {', '.join(GUARDED_FIELDS)}; kept in the revision.",
    )
    approved_in = ScopedPrimaryKeyRelatedField(
        queryset=_forum_session_queryset(),
        write_only=True,
        required=False,
        allow_null=True,
        help_text="The forum session (id, same program) where the change was decided.",
    )

    class Meta:
        model = Metric
        fields = [
            "id",
            "program",
            "parent",
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
            "owner",
            "business_unit",
            "incentive_weight",
            "reporting_cadence",
            "status",
            "replaced_by",
            "created_at",
            "health",
            "latest_value",
            "latest_period_end",
            "change_reason",
            "approved_in",
        ]
        read_only_fields = ["created_at"]
        extra_kwargs = {"incentive_weight": {"min_value": 0, "max_value": 100}}

    def validate(self, attrs):
        attrs = super().validate(attrs)
        program = attrs.get("program") or getattr(self.instance, "program", None)
        errors = {}
        for name in ("parent", "replaced_by"):
            value = attrs.get(name)
            if value is not None and program is not None and value.program_id != program.pk:
                errors[name] = [f"Metric {value.pk} belongs to another program."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def create(self, validated_data):
        validated_data.pop("change_reason", None)
        validated_data.pop("approved_in", None)
        return super().create(validated_data)

    def update(self, instance, validated_data):
        reason = validated_data.pop("change_reason", "")
        approved_in = validated_data.pop("approved_in", None)
        return metric_update(
            metric=instance,
            changes=validated_data,
            reason=reason,
            approved_in=approved_in,
            actor=self.context.get("actor"),
        )


class MetricRevisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = MetricRevision
        fields = [
            "id",
            "metric",
            "field",
            "old_value",
            "new_value",
            "reason",
            "changed_by",
            "changed_by_key",
            "changed_at",
            "approved_in",
        ]
        read_only_fields = fields


class MeasurementSerializer(ScopedModelSerializer):
    """One value per (metric, period_end): POST again to update it (upsert)."""

    organization_from = "metric"
    create_only_fields = ("metric", "period_end")
    value = MeasurementValueField(help_text="A finite number; rounded to 4 decimal places.")

    class Meta:
        model = Measurement
        fields = ["id", "metric", "period_end", "value", "source", "recorded_at"]
        read_only_fields = ["recorded_at"]
        # (metric, period_end) is an upsert key, not a uniqueness error.
        validators = []

    def check_constraints(self, attrs):
        """The only constraint is the upsert key, which the service resolves."""

    def create(self, validated_data):
        measurement, created = measurement_upsert(**validated_data, actor=self.context.get("actor"))
        self.created = created
        return measurement

    def update(self, instance, validated_data):
        measurement, _ = measurement_upsert(
            metric=instance.metric,
            period_end=instance.period_end,
            value=validated_data.get("value", instance.value),
            source=validated_data.get("source", instance.source),
            actor=self.context.get("actor"),
        )
        return measurement


class ExemptionSerializer(ScopedModelSerializer):
    """An exemption counts against the metric's integrity (metric_negotiated_away)."""

    organization_from = "metric"
    create_only_fields = ("metric", "person")

    class Meta:
        model = Exemption
        fields = ["id", "metric", "person", "reason", "granted_by", "starts_on", "ends_on", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs):
        check_date_order(attrs, self.instance, "starts_on", "ends_on")
        return super().validate(attrs)

    def create(self, validated_data):
        return exemption_grant(**validated_data)
