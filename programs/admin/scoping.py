"""Tenant scoping and role-based rights shared by every cxgov admin (see the package docstring)."""

from django import forms
from django.contrib import admin
from django.contrib.admin.filters import RelatedOnlyFieldListFilter
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from simple_history.admin import SimpleHistoryAdmin

from .. import access
from ..choices import Role
from ..scoping import organization_id_of, organization_path
from .history import ChangeLogHistoryMixin

# Related rows whose __str__ follows a foreign key: fetch it with the choices, not per option.
CHOICE_SELECT_RELATED: dict[str, tuple[str, ...]] = {
    "accountability.forumsession": ("forum",),
    "programs.progressupdate": ("initiative",),
}


def is_superuser(request) -> bool:
    return bool(getattr(request.user, "is_superuser", False))


class ScopedModelForm(forms.ModelForm):
    """A model form refusing references that span organizations.

    A person of one organization sponsoring another's program, or an agenda item naming
    another tenant's metric, would leak data across the tenant boundary; the check runs for
    superusers too, since such a row is wrong whoever writes it.
    """

    def clean(self) -> dict:
        cleaned = super().clean()
        found: set[int] = set()
        for value in cleaned.values():
            if isinstance(value, models.Model):
                values = [value]
            elif isinstance(value, models.QuerySet | list | tuple):
                values = [v for v in value if isinstance(v, models.Model)]
            else:
                continue
            for item in values:
                org_id = organization_id_of(item)
                if org_id is not None:
                    found.add(org_id)
        # A row stays in its organization: the one it has now (the instance is not yet
        # changed here) counts as a reference too, so a forum, metric or initiative moved to
        # another organization's program, as the API's create-only parents forbid, is
        # refused; its sessions, measurements and updates carry that organization.
        if self.instance.pk and organization_path(type(self.instance)):
            own = organization_id_of(self.instance)
            if own is not None:
                found.add(own)
        if len(found) > 1:
            raise ValidationError("Every reference must belong to the same organization as this record.")
        return cleaned


class OrganizationScopedAdmin(ChangeLogHistoryMixin):
    """Mixin for ModelAdmin and InlineModelAdmin classes of organization-owned models.

    Put it first in the bases: `class FooAdmin(OrganizationScopedAdmin, admin.ModelAdmin)`.
    It scopes querysets, choice lists, list filters and autocomplete to the user's
    organizations and answers the permission questions from Membership roles. An admin
    that must stay read-only still overrides `has_*_permission` itself. A tracked model's
    History page reads its change log (`ChangeLogHistoryMixin`), scoped like its change page.
    """

    # Roles that may add, change and delete through this admin (others view only).
    write_roles: frozenset[str] = frozenset({Role.OFFICE})
    form = ScopedModelForm
    # Relations every row needs (its __str__ or a column follows them), for inlines and change pages alike.
    queryset_select_related: tuple[str, ...] = ()

    # --- permissions --------------------------------------------------------------
    def _roles(self, request) -> dict[int, str]:
        return access.roles(request.user)

    def _write_org_ids(self, request) -> list[int]:
        return [org for org, role in self._roles(request).items() if role in self.write_roles]

    def _may_write(self, request, obj) -> bool:
        """Write in general (obj None: in at least one organization) or on this object."""
        if obj is None:
            return bool(self._write_org_ids(request))
        return self._roles(request).get(organization_id_of(obj)) in self.write_roles

    def has_module_permission(self, request) -> bool:
        if is_superuser(request):
            return super().has_module_permission(request)
        return bool(self._roles(request))

    def has_view_permission(self, request, obj=None) -> bool:
        if is_superuser(request):
            return super().has_view_permission(request, obj)
        roles = self._roles(request)
        return bool(roles) if obj is None else organization_id_of(obj) in roles

    def has_add_permission(self, request, *args) -> bool:
        # ModelAdmin passes (request); InlineModelAdmin passes (request, parent obj).
        if is_superuser(request):
            return super().has_add_permission(request, *args)
        return self._may_write(request, args[0] if args else None)

    def has_change_permission(self, request, obj=None) -> bool:
        if is_superuser(request):
            return super().has_change_permission(request, obj)
        return self._may_write(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if is_superuser(request):
            return super().has_delete_permission(request, obj)
        return self._may_write(request, obj)

    # --- rows ---------------------------------------------------------------------
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # The changelist skips list_select_related once a queryset has any: so name both here.
        listed = getattr(self, "list_select_related", ())
        related = [*self.queryset_select_related, *(listed if isinstance(listed, list | tuple) else ())]
        if related:
            queryset = queryset.select_related(*related)
        if is_superuser(request) or not hasattr(queryset, "for_user"):
            return queryset
        return queryset.for_user(request.user)

    def get_field_queryset(self, db, db_field, request):
        """Choices of a foreign key or many-to-many: only rows of organizations the user writes in."""
        queryset = super().get_field_queryset(db, db_field, request)
        model = db_field.remote_field.model
        if queryset is None:
            queryset = model._default_manager.using(db).all()
        related = CHOICE_SELECT_RELATED.get(model._meta.label_lower)
        if related:
            queryset = queryset.select_related(*related)
        if is_superuser(request):
            return queryset
        org_ids = self._write_org_ids(request)
        if model is get_user_model():
            return queryset.filter(memberships__organization_id__in=org_ids).distinct()
        if hasattr(queryset, "for_organizations"):
            return queryset.for_organizations(org_ids)
        return queryset

    def get_formset(self, request, obj=None, **kwargs):
        """Inlines only: name every cell's input after its column. A tabular row has no <label>s,
        so screen readers (and axe-core's `label`/`select-name` rules) would find nameless inputs."""
        formset = super().get_formset(request, obj, **kwargs)
        for name, field in formset.form.base_fields.items():
            field.widget.attrs.setdefault("aria-label", str(field.label or name).capitalize())

        class LabelledFormSet(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                for extra in ("DELETE", "ORDER"):
                    if extra in form.fields:
                        form.fields[extra].widget.attrs.setdefault("aria-label", str(form.fields[extra].label))

        return LabelledFormSet

    def get_list_filter(self, request):
        """Relation filters list only values present in the user's rows, never other tenants' names."""
        out = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str):
                try:
                    field = get_fields_from_path(self.model, entry)[-1]
                except (FieldDoesNotExist, NotRelationField):  # a custom filter's name: leave it alone
                    field = None
                if field is not None and field.is_relation:
                    entry = (entry, RelatedOnlyFieldListFilter)
            out.append(entry)
        return out


class CachedChoicesInlineMixin:
    """For inlines: evaluate each foreign key's choices once per formset, not once per row.

    A select renders its options per form; with many inline rows that is a query per row
    and field. The list of (id, label) pairs is built once and copied into each form.
    Validation still goes through the (scoped) queryset.
    """

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        autocomplete = db_field.name in self.get_autocomplete_fields(request)
        if field is not None and hasattr(field, "queryset") and not autocomplete and "widget" not in kwargs:
            field.choices = list(field.choices)
        return field


def cache_choices(field, queryset=None) -> None:
    """Evaluate a model choice field's options now (optionally from a narrower queryset)."""
    if field is None or not hasattr(field, "queryset"):
        return
    if queryset is not None:
        field.__dict__.pop("_choices", None)
        field.queryset = queryset
    field.choices = list(field.choices)


class ScopedHistoryAdmin(OrganizationScopedAdmin, SimpleHistoryAdmin):
    """Scoped admin with simple-history's snapshot pages (`<record>/history/<snapshot>/`),
    viewable but never reverted. The History page itself is the change log's, as for every
    scoped admin (`ChangeLogHistoryMixin`, before SimpleHistoryAdmin in the bases).

    Reverting a snapshot would rewrite guarded fields (targets, owners) without the reason
    and revision their services keep, so the history form is read-only.
    """

    def revert_disabled(self, request, obj=None) -> bool:
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied("Reverting is disabled: change the record through its form.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyAdminMixin:
    """Append-only or machine-written rows: viewable, never added, edited or deleted by hand.

    Put it first among the bases so it wins over the role-based rights of
    `OrganizationScopedAdmin`.
    """

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    """An inline listing append-only rows (status changes, revisions)."""

    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields or [f.name for f in self.model._meta.fields]
