"""Admin of the metric cascade: metrics (changes with a reason), measurements, revisions, exemptions."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef

from programs.admin import (
    CachedChoicesInlineMixin,
    OrganizationScopedAdmin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    ScopedHistoryAdmin,
)

from .forms import MetricAdminForm
from .models import Exemption, Measurement, Metric, MetricRevision
from .services import metric_update


class MeasurementInline(OrganizationScopedAdmin, admin.TabularInline):
    model = Measurement
    fields = ("period_end", "value", "source", "recorded_at")
    readonly_fields = ("recorded_at",)
    ordering = ("-period_end",)
    extra = 0
    queryset_select_related = ("metric",)


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
class MetricAdmin(ScopedHistoryAdmin):
    """Metrics. A change of a guarded field asks for a reason and goes through `metric_update`."""

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
        measured = Measurement.objects.filter(metric=OuterRef("pk"))
        return super().get_queryset(request).with_latest().annotate(has_measurements=Exists(measured))

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
                    "description": "Changing the target, target date, incentive weight, owner or status "
                    "writes a revision and needs a reason.",
                },
            ),
        )

    @admin.display(description="kind", ordering="kind")
    def kind_short(self, obj: Metric) -> str:
        return obj.kind.capitalize()

    @admin.display(description="latest", ordering="latest_value")
    def latest_value(self, obj: Metric):
        return "–" if obj.latest_value is None else f"{obj.latest_value.normalize():f} ({obj.latest_period_end})"

    @admin.display(description="health")
    def health_display(self, obj: Metric) -> str:
        return obj.health.label

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

    def has_delete_permission(self, request, obj=None) -> bool:
        # A measured metric is never deleted, only retired (metric_delete's rule).
        if obj is not None:
            measured = getattr(obj, "has_measurements", None)
            if measured is None:
                measured = obj.measurements.exists()
            if measured:
                return False
        return super().has_delete_permission(request, obj)


@admin.register(Measurement)
class MeasurementAdmin(ScopedHistoryAdmin):
    list_display = ("metric", "period_end", "value", "source", "recorded_at", "program")
    list_filter = ("metric__program",)
    list_select_related = ("metric__program",)
    search_fields = ("metric__name", "source")
    autocomplete_fields = ("metric",)
    date_hierarchy = "period_end"
    readonly_fields = ("recorded_at",)

    @admin.display(description="program", ordering="metric__program__name")
    def program(self, obj: Measurement):
        return obj.metric.program


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
