"""Deletes in the admin go through the owning app's delete service; a refusal names the rule.

Django's admin decides a delete by permissions: on the object, on Django's model
permissions of every row the delete would take with it, and on PROTECTed rows. For rows
whose delete is a domain rule (a program only while it is a never-activated draft, a metric
only while never measured) that turns the rule into "your account doesn't have permission
to delete ...". Here the role decides whether someone may delete at all (the scoped
`has_delete_permission` on the object), and the service decides whether this row may go.
"""

from django.contrib import messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.forms.formsets import DELETION_FIELD_NAME
from django.shortcuts import redirect
from django.urls import reverse

from ..services import kept_records


def delete_selected_by_rule(modeladmin, request, queryset):
    """Django's "Delete selected", refused as a whole when the rule refuses any selected row."""
    refused = [(obj, refusal) for obj in queryset if (refusal := modeladmin.delete_refusal(obj))]
    if refused:
        names = "; ".join(f"“{obj}”: {refusal}" for obj, refusal in refused)
        modeladmin.message_user(request, f"Nothing was deleted. {names}", messages.ERROR)
        return None
    try:
        with transaction.atomic(using=router.db_for_write(queryset.model)):
            return delete_selected(modeladmin, request, queryset)
    except ValidationError as refusal:  # the rule changed its answer meanwhile (a race)
        modeladmin.message_user(request, "Nothing was deleted: " + " ".join(refusal.messages), messages.ERROR)
        return None


delete_selected_by_rule.allowed_permissions = ("delete",)


class DeleteThroughServiceMixin:
    """For ModelAdmins of rows deleted by a service with a rule. Put it first in the bases.

    Subclasses implement `delete_refusal(obj)` (the service's read-only refusal: a message
    or None) and `delete_through_service(request, obj)`.
    - The delete page of a refused row shows the rule as an error on the row's own page;
      nothing is deleted (GET or POST).
    - "Delete selected" refuses the whole selection, naming each refused row with its rule;
      otherwise Django's confirmation page, then the service for each row, all or nothing.
    - The rows a delete takes with it are the service's business: Django's model permissions
      on them are not asked (rights come from the role on the row itself).
    """

    def delete_refusal(self, obj) -> str | None:
        raise NotImplementedError

    def delete_through_service(self, request, obj) -> None:
        raise NotImplementedError

    def _refused(self, request, obj, message: str):
        self.message_user(request, f"“{obj}” was not deleted: {message}", messages.ERROR)
        opts = self.model._meta
        return redirect(reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_delete_permission(request, obj):
            refusal = self.delete_refusal(obj)
            if refusal:
                return self._refused(request, obj, refusal)
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as refusal:  # the service refused under its lock (a race)
            return self._refused(request, obj, " ".join(refusal.messages))

    def get_deleted_objects(self, objs, request):
        # Rights on the selected rows themselves (the role in each row's organization) still
        # decide; Django's model permissions on the rows they take with them do not.
        deleted, model_count, _related_perms, protected = super().get_deleted_objects(objs, request)
        opts = self.model._meta
        perms_needed = {str(opts.verbose_name) for obj in objs if not self.has_delete_permission(request, obj)}
        return deleted, model_count, perms_needed, protected

    def delete_model(self, request, obj) -> None:
        self.delete_through_service(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic(using=router.db_for_write(queryset.model)):
            for obj in queryset:
                self.delete_through_service(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            _, name, description = actions["delete_selected"]
            actions["delete_selected"] = (delete_selected_by_rule, name, description)
        return actions


def kept_records_refusal(obj, instead: str) -> str | None:
    """Why `obj` may not be deleted because records on file point to it (PROTECT or
    RESTRICT: sessions of a forum, a person's attendance and assessments), said as the rule
    with what to do instead; None when nothing keeps it. Read-only: it collects as Django's
    delete would."""
    kinds = kept_records(obj)
    return f"It is on record in {kinds}, which are kept as evidence; {instead}" if kinds else None


class KeptRecordsDeleteMixin(DeleteThroughServiceMixin):
    """For rows other records keep (no delete service of their own): the delete page and
    "Delete selected" name the rule (`kept_records_refusal`) instead of Django's list of
    protected objects; a row nothing keeps is deleted as Django would. Put it first in the
    bases and say `delete_instead`."""

    #: What to do instead, ending the refusal ("make the forum inactive instead.").
    delete_instead = "make it inactive instead."

    def delete_refusal(self, obj) -> str | None:
        return kept_records_refusal(obj, self.delete_instead)

    def delete_through_service(self, request, obj) -> None:
        obj.delete()


class DeleteByRuleInlineMixin:
    """For inlines of rows deleted by a service with a rule: a ticked "Delete" is asked first.

    Subclasses implement `delete_refusal(obj)` (as `DeleteThroughServiceMixin`). A refused
    row is an error of the inline naming the rule (where Django's admin would otherwise
    list "protected related objects"), so nothing of the submit is saved; the parent
    admin's `save_formset` deletes the rows that may go through the service.
    """

    def delete_refusal(self, obj) -> str | None:
        raise NotImplementedError

    def get_formset(self, request, obj=None, **kwargs):
        refusal = self.delete_refusal

        class DeleteByRuleForm(kwargs.get("form", self.form)):
            # The admin's own form (DeleteProtectedModelForm) subclasses this one and checks
            # protected rows after `is_valid`; the rule is asked first, so it is what shows.
            def is_valid(self) -> bool:
                valid = super().is_valid()
                if self.cleaned_data.get(DELETION_FIELD_NAME) and not self.instance._state.adding:
                    message = refusal(self.instance)
                    if message:
                        raise ValidationError(f"“{self.instance}” was not deleted: {message}")
                return valid

        # Made before the formset factory builds its form: what the inline later sets on
        # the form's fields (cached choices) stays in place.
        return super().get_formset(request, obj, **{**kwargs, "form": DeleteByRuleForm})
