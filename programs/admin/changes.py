"""The change log in the admin: a read-only list, newest first, filtered like the API."""

from django.contrib import admin

from .. import access
from ..changes import model_choices
from ..choices import Role
from ..models import Change
from .scoping import OrganizationScopedAdmin, ReadOnlyAdminMixin, is_superuser

# Who reads the log: as in the API (integrations push data; they do not audit people).
READERS = frozenset({Role.OFFICE, Role.EXECUTIVE})


class ModelFilter(admin.SimpleListFilter):
    title = "record type"
    parameter_name = "model"

    def lookups(self, request, model_admin):
        return [(name, label) for name, label in model_choices() if "." not in name]

    def queryset(self, request, queryset):
        return queryset.for_model_names([self.value()]) if self.value() else queryset


@admin.register(Change)
class ChangeAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin, admin.ModelAdmin):
    list_display = ("at", "sentence", "actor_label", "model_name", "program")
    list_filter = (ModelFilter, "action", "actor_user", "actor_api_key", "program")
    list_select_related = ("program",)
    date_hierarchy = "at"
    search_fields = ("object_repr", "actor_label")
    ordering = ("-at", "-id")
    show_full_result_count = False
    fields = (
        "at",
        "sentence",
        "organization",
        "program",
        "model",
        "object_id",
        "object_repr",
        "action",
        "changes",
        "reason",
        "actor_label",
        "actor_user",
        "actor_api_key",
        "history_id",
    )
    readonly_fields = fields

    def _reader_org_ids(self, request) -> list[int]:
        return [org for org, role in access.roles(request.user).items() if role in READERS]

    def has_module_permission(self, request) -> bool:
        return is_superuser(request) or bool(self._reader_org_ids(request))

    def has_view_permission(self, request, obj=None) -> bool:
        if is_superuser(request):
            return True
        readers = self._reader_org_ids(request)
        return bool(readers) if obj is None else obj.organization_id in readers

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if is_superuser(request) else queryset.for_organizations(self._reader_org_ids(request))

    @admin.display(description="what happened")
    def sentence(self, obj: Change) -> str:
        return obj.sentence

    @admin.display(description="record type", ordering="model")
    def model_name(self, obj: Change) -> str:
        return obj.model_verbose_name
