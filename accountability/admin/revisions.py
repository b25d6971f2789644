"""Metric revisions in the admin as sentences (SPEC §5: "revisions read as sentences with
names, dates and money, never as JSON, codes or ids").

The renderer lives in `accountability` (accountability/evidence.py), above `metrics`, so
the metric admins are extended here, as the program admin is for risk: the revisions
inline of a metric and the revisions list show "On 12 Nov 2026 anna changed the owner
from Sam Cole to Lea Park: “reason”." An owner revision's people are named in the same
query (a subquery per side), never one query per row.
"""

from django.contrib import admin
from django.db.models import Case, CharField, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Cast

from metrics.admin import MetricAdmin, MetricRevisionAdmin, MetricRevisionInline
from metrics.models import Metric, MetricRevision
from programs.models import Person

from ..evidence import EvidenceText


def _owner_name(column: str) -> Case:
    """The name of the person whose id an owner revision stores in `column` (text)."""
    person = Person.objects.filter(pk=Cast(OuterRef(column), IntegerField())).values("name")[:1]
    return Case(
        When(field="owner", **{f"{column}__regex": r"^[0-9]+$"}, then=Subquery(person)),
        default=Value(None),
        output_field=CharField(),
    )


def with_owner_names(queryset):
    return queryset.annotate(old_owner_name=_owner_name("old_value"), new_owner_name=_owner_name("new_value"))


class PlainRevisionMixin:
    @admin.display(description="change")
    def sentence(self, obj: MetricRevision) -> str:
        people = {}
        for value, name in ((obj.old_value, obj.old_owner_name), (obj.new_value, obj.new_owner_name)):
            if name and str(value).isdigit():
                people[int(value)] = name
        by = obj.changed_by.get_full_name() or obj.changed_by.get_username() if obj.changed_by else None
        return EvidenceText(people=people).revision(
            field_name=obj.field,
            old=obj.old_value,
            new=obj.new_value,
            reason=obj.reason,
            on=obj.changed_at,
            by=by,
            unit=obj.metric.unit,
            approved_on=obj.approved_in.scheduled_for if obj.approved_in else None,
        )


class PlainMetricRevisionInline(PlainRevisionMixin, MetricRevisionInline):
    fields = ("sentence",)

    def get_queryset(self, request):
        return with_owner_names(super().get_queryset(request))


class PlainMetricAdmin(MetricAdmin):
    inlines = tuple(PlainMetricRevisionInline if i is MetricRevisionInline else i for i in MetricAdmin.inlines)


class PlainMetricRevisionAdmin(PlainRevisionMixin, MetricRevisionAdmin):
    list_display = ("metric", "sentence", "changed_at")
    fields = ("metric", "sentence", "changed_at", "changed_by", "approved_in")
    readonly_fields = fields

    def get_queryset(self, request):
        return with_owner_names(super().get_queryset(request))


admin.site.unregister(Metric)
admin.site.register(Metric, PlainMetricAdmin)
admin.site.unregister(MetricRevision)
admin.site.register(MetricRevision, PlainMetricRevisionAdmin)
