"""Admin of the metric cascade: metrics (changes with a reason), measurements, revisions, exemptions."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from programs.admin import (
    CachedChoicesInlineMixin,
    DeleteByRuleInlineMixin,
    DeleteThroughServiceMixin,
    OrganizationScopedAdmin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    ScopedHistoryAdmin,
    ScopedModelForm,
)

from .choices import GUARDED_FIELDS_TEXT, Health
from .forms import MetricAdminForm
from .measurements import measurement_delete, measurement_delete_refusal, measurements_upsert, validate_value
from .models import Exemption, Measurement, Metric, MetricRevision
from .services import exemption_grant, metric_delete, metric_delete_refusal, metric_update


class MeasurementForm(ScopedModelForm):
    """A measurement as the admin edits it: the service's value rule, and a fixed key.

    (metric, period_end) is what `measurements_upsert` writes on: a recorded measurement is
    corrected (value, source), never moved to another period or metric.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            for name in ("metric", "period_end"):
                if name in self.fields:
                    self.fields[name].disabled = True

    def clean_value(self):
        value = self.cleaned_data.get("value")
        if value is None:
            return value
        try:
            return validate_value(value)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["value"]) from None


def measurement_item(obj: Measurement, metric: Metric | None = None) -> dict:
    return {
        "metric": metric or obj.metric,
        "period_end": obj.period_end,
        "value": obj.value,
        "source": obj.source,
    }


def exemption_fields(obj: Exemption, metric: Metric | None = None) -> dict:
    return {
        "metric": metric or obj.metric,
        "person": obj.person,
        "reason": obj.reason,
        "starts_on": obj.starts_on,
        "ends_on": obj.ends_on,
        "granted_by": obj.granted_by,
    }


class MeasurementInline(DeleteByRuleInlineMixin, OrganizationScopedAdmin, admin.TabularInline):
    """A metric's measurements; a row recorded more than 24 hours ago is corrected, never deleted."""

    model = Measurement
    form = MeasurementForm
    fields = ("period_end", "value", "source", "recorded_at")
    readonly_fields = ("recorded_at",)
    ordering = ("-period_end",)
    extra = 0
    queryset_select_related = ("metric",)

    def delete_refusal(self, obj: Measurement) -> str | None:
        return measurement_delete_refusal(obj)


class MetricRevisionInline(OrganizationScopedAdmin, ReadOnlyInline):
    model = MetricRevision
    fields = ("changed_at", "field", "old_value", "new_value", "reason", "approved_in", "changed_by")
    verbose_name_plural = "revisions (append-only: written when a guarded field changes)"
    queryset_select_related = ("metric", "changed_by", "approved_in__forum")


class ExemptionInline(OrganizationScopedAdmin, CachedChoicesInlineMixin, admin.TabularInline):
    model = Exemption
    fields = ("person", "reason", "starts_on", "ends_on", "granted_by")
    extra = 0
    queryset_select_related = ("metric", "person")


@admin.register(Metric)
class MetricAdmin(DeleteThroughServiceMixin, ScopedHistoryAdmin):
    """Metrics. A change of a guarded field asks for a reason and goes through `metric_update`;
    deletes go through `metric_delete` (never measured nor revised), single or bulk."""

    form = MetricAdminForm
    list_display = (
        "name",
        "program",
        "level",
        "kind_short",
        "owner",
        "status",
        "target",
        "target_on",
        "incentive_weight",
        "latest_value",
        "health_display",
    )
    list_filter = ("level", "kind", "status", "reporting_cadence", "program")
    list_select_related = ("program", "owner")
    search_fields = ("name", "description", "program__name")
    autocomplete_fields = ("program", "parent", "owner", "business_unit", "replaced_by")
    inlines = (MeasurementInline, ExemptionInline, MetricRevisionInline)

    def get_queryset(self, request):
        return super().get_queryset(request).with_latest().with_health()

    def get_fieldsets(self, request, obj=None):
        main = [f for f in MetricAdminForm.Meta.fields]
        if obj is None:
            return ((None, {"fields": main}),)
        return (
            (None, {"fields": main}),
            (
                "Why this change",
                {
                    "fields": ("change_reason", "approved_in"),
                    "description": f"Changing {GUARDED_FIELDS_TEXT} writes a revision and needs a reason.",
                },
            ),
        )

    @admin.display(description="kind", ordering="kind")
    def kind_short(self, obj: Metric) -> str:
        return obj.kind.capitalize()

    @admin.display(description="latest", ordering="latest_value")
    def latest_value(self, obj: Metric):
        return "–" if obj.latest_value is None else f"{obj.latest_value.normalize():f} ({obj.latest_period_end})"

    @admin.display(description="health", ordering="latest_health")
    def health_display(self, obj: Metric) -> str:
        return Health(obj.latest_health).label

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        stored = Metric.objects.get(pk=obj.pk)
        try:
            metric_update(
                metric=stored,
                changes=form.model_changes(),
                reason=form.cleaned_data.get("change_reason", ""),
                actor=request.user,
                approved_in=form.cleaned_data.get("approved_in"),
            )
        except ValidationError as error:
            # The form checked the same rules; a race (someone else's change) lands here.
            messages.error(request, " ".join(error.messages))
            raise

    def delete_refusal(self, obj: Metric) -> str | None:
        return metric_delete_refusal(obj)

    def delete_through_service(self, request, obj: Metric) -> None:
        metric_delete(metric=obj, actor=request.user)

    def save_formset(self, request, form, formset, change) -> None:
        """Measurements and exemptions of the inlines go through their services."""
        if formset.model is Measurement:
            items = [measurement_item(obj, form.instance) for obj in formset.save(commit=False)]
            for obj in formset.deleted_objects:
                measurement_delete(measurement=obj, actor=request.user)
            if items:
                measurements_upsert(items=items, actor=request.user)
        elif formset.model is Exemption:
            saved = formset.save(commit=False)
            for obj in formset.deleted_objects:
                obj.delete()
            for obj in saved:
                if obj.pk is None:
                    obj.pk = exemption_grant(**exemption_fields(obj, form.instance)).pk
                else:
                    obj.save()
        else:
            super().save_formset(request, form, formset, change)


@admin.register(Measurement)
class MeasurementAdmin(DeleteThroughServiceMixin, ScopedHistoryAdmin):
    """Measurements, written through `measurements_upsert` (history row, value rule) and deleted
    through `measurement_delete` (only within 24 hours of being recorded), single or bulk."""

    form = MeasurementForm
    list_display = ("metric", "period_end", "value", "source", "recorded_at", "program")
    list_filter = ("metric__program",)
    list_select_related = ("metric__program",)
    search_fields = ("metric__name", "source")
    autocomplete_fields = ("metric",)
    date_hierarchy = "period_end"
    readonly_fields = ("recorded_at",)

    def save_model(self, request, obj, form, change) -> None:
        measurements_upsert(items=[measurement_item(obj)], actor=request.user)
        saved = Measurement.objects.get(metric=obj.metric, period_end=obj.period_end)
        obj.pk, obj.recorded_at = saved.pk, saved.recorded_at
        obj._state.adding = False

    @admin.display(description="program", ordering="metric__program__name")
    def program(self, obj: Measurement):
        return obj.metric.program

    def delete_refusal(self, obj: Measurement) -> str | None:
        return measurement_delete_refusal(obj)

    def delete_through_service(self, request, obj: Measurement) -> None:
        measurement_delete(measurement=obj, actor=request.user)


@admin.register(MetricRevision)
class MetricRevisionAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin, admin.ModelAdmin):
    """Append-only: revisions are never added, edited or deleted by hand."""

    list_display = ("metric", "field", "old_value", "new_value", "reason", "changed_at", "changed_by", "approved_in")
    list_filter = ("field", "metric__program")
    list_select_related = ("metric", "changed_by", "approved_in__forum")
    search_fields = ("metric__name", "reason")
    date_hierarchy = "changed_at"


@admin.register(Exemption)
class ExemptionAdmin(ScopedHistoryAdmin):
    list_display = ("person", "metric", "starts_on", "ends_on", "granted_by", "reason")
    list_filter = ("metric__program",)
    list_select_related = ("person", "metric", "granted_by")
    search_fields = ("person__name", "metric__name", "reason")
    autocomplete_fields = ("metric", "person", "granted_by")
    date_hierarchy = "starts_on"

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new exemption goes through the service (its rules: a reason, one organization, dates in order).
        obj.pk = exemption_grant(**exemption_fields(obj)).pk
        obj._state.adding = False
