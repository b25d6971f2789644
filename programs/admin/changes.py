"""The change log in the admin: a read-only list, newest first, filtered like the API."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst

from .. import access
from ..changes import model_choices, plain_dates
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
    """Each entry as people read it (SPEC §5): the sentence, who, when, what moved, with names,
    days and money in the organization's currency. The stored values, the model's label and
    the ids (record, snapshot, user, key) are the API's, for integrators."""

    list_display = ("when", "sentence", "who", "model_name", "program")
    list_filter = (ModelFilter, "action", "actor_user", "actor_api_key", "program")
    # The organization gives money its currency (`Change.objects` reads it with each entry).
    list_select_related = ("program", "organization")
    date_hierarchy = "at"
    search_fields = ("object_repr", "actor_label")
    ordering = ("-at", "-id")
    show_full_result_count = False
    fields = ("when", "sentence", "who", "record", "program", "organization", "action", "what_moved", "reason_text")
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

    @admin.display(description="when", ordering="at")
    def when(self, obj: Change) -> str:
        return obj.moment

    @admin.display(description="what happened")
    def sentence(self, obj: Change) -> str:
        return obj.sentence

    @admin.display(description="who", ordering="actor_label")
    def who(self, obj: Change) -> str:
        return obj.actor_name

    @admin.display(description="record")
    def record(self, obj: Change) -> str:
        return f"{capfirst(obj.model_verbose_name)}: {plain_dates(obj.object_repr)}"

    @admin.display(description="what changed")
    def what_moved(self, obj: Change) -> str:
        moves = obj.moves
        if not moves:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((capfirst(m),) for m in moves)))

    @admin.display(description="reason")
    def reason_text(self, obj: Change) -> str:
        return plain_dates(obj.reason) or "—"

    @admin.display(description="record type", ordering="model")
    def model_name(self, obj: Change) -> str:
        return obj.model_verbose_name
