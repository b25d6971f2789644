"""Admin of the tenant itself: organizations, memberships, API keys, people, business units."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.defaultfilters import pluralize
from django.utils.html import format_html

from ..models import ApiKey, BusinessUnit, Membership, Organization, Person
from ..services import api_key_create, api_key_revoke
from .deletion import KeptRecordsDeleteMixin
from .scoping import OrganizationScopedAdmin, ScopedModelForm, is_superuser

# --- Organizations, people, keys -------------------------------------------------


class OrganizationForm(ScopedModelForm):
    """The people named must be the organization's own; "eur" means EUR."""

    class Meta:
        model = Organization
        fields = "__all__"

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.instance.pk is None:
            return cleaned
        for name in ("ceo", "board_contact", "board_recipients"):
            value = cleaned.get(name)
            people = list(value) if name == "board_recipients" and value is not None else [value]
            strangers = [p for p in people if p is not None and p.organization_id != self.instance.pk]
            if strangers:
                self.add_error(name, f"{', '.join(p.name for p in strangers)}: not a person of this organization.")
        return cleaned


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin, admin.ModelAdmin):
    """Office members edit their organization's name, CEO, board contact, board pack recipients and
    currency (people of the organization only, ISO 4217 codes); creating or deleting a tenant is
    for superusers."""

    form = OrganizationForm
    list_display = ("name", "slug", "ceo", "board_contact", "currency", "created_at")
    list_select_related = ("ceo", "board_contact")
    search_fields = ("name", "slug")
    autocomplete_fields = ("ceo", "board_contact", "board_recipients")
    readonly_fields = ("created_at",)
    fields = ("name", "slug", "ceo", "board_contact", "board_recipients", "currency", "created_at")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if is_superuser(request) else [*fields, "slug"]

    def has_add_permission(self, request) -> bool:
        return is_superuser(request) and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_superuser(request) and super().has_delete_permission(request, obj)


@admin.register(Membership)
class MembershipAdmin(OrganizationScopedAdmin, admin.ModelAdmin):
    """Who belongs to which organization with which role. Granting access is for superusers."""

    list_display = ("user", "organization", "role")
    list_filter = ("role", "organization")
    list_select_related = ("user", "organization")
    search_fields = ("user__username", "user__email", "organization__name")

    def has_add_permission(self, request) -> bool:
        return is_superuser(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_superuser(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_superuser(request) and super().has_delete_permission(request, obj)


class ApiKeyForm(ScopedModelForm):
    class Meta:
        model = ApiKey
        fields = ("organization", "name", "role")


@admin.register(ApiKey)
class ApiKeyAdmin(OrganizationScopedAdmin, admin.ModelAdmin):
    """Keys are created through `api_key_create`: the raw key is shown once, in a message."""

    form = ApiKeyForm
    list_display = (
        "name",
        "organization",
        "role",
        "key_prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("role", "organization", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("organization", "created_by")
    search_fields = ("name", "key_prefix")
    actions = ("revoke_keys",)
    readonly_fields = ("key_prefix", "key_hash", "created_by", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        # Organization and role of an existing key never change: revoke it and make a new one.
        return self.readonly_fields if obj is None else ("organization", "role", *self.readonly_fields)

    def get_fields(self, request, obj=None):
        return (
            ("organization", "name", "role") if obj is None else ("name", "organization", "role", *self.readonly_fields)
        )

    def save_model(self, request, obj, form, change) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        key, raw = api_key_create(organization=obj.organization, name=obj.name, role=obj.role, actor=request.user)
        # The admin logs and redirects with `obj`: make it the row the service wrote.
        obj.__dict__.update({k: v for k, v in key.__dict__.items() if k != "_state"})
        obj._state.adding = False
        obj._state.db = key._state.db
        messages.warning(
            request,
            format_html(
                "The new API key is <code>{}</code>. Copy it now: only its hash is stored, it will not be shown again.",
                raw,
            ),
        )

    @admin.action(description="Revoke the selected API keys")
    def revoke_keys(self, request, queryset) -> None:
        if not all(self.has_change_permission(request, key) for key in queryset.select_related("organization")):
            raise PermissionDenied
        revoked = already = 0
        for key in queryset:
            live = key.revoked_at is None
            api_key_revoke(key=key, actor=request.user)
            revoked, already = revoked + live, already + (not live)
        # What was done, not what was selected: a key revoked before stays as it was.
        report = f"Revoked {revoked} key{pluralize(revoked)}."
        if already:
            report += f" Already revoked, unchanged: {already}."
        messages.success(request, report)


@admin.register(Person)
class PersonAdmin(KeptRecordsDeleteMixin, OrganizationScopedAdmin, admin.ModelAdmin):
    delete_instead = "deactivate the person instead (untick Active)."
    list_display = ("name", "title", "organization", "is_officer", "reports_to", "active", "email")
    list_filter = ("is_officer", "active", "organization")
    list_select_related = ("organization", "reports_to")
    search_fields = ("name", "email", "title")
    autocomplete_fields = ("reports_to",)


@admin.register(BusinessUnit)
class BusinessUnitAdmin(OrganizationScopedAdmin, admin.ModelAdmin):
    list_display = ("name", "organization")
    list_filter = ("organization",)
    list_select_related = ("organization",)
    search_fields = ("name",)
