"""A record's History page as its change log reads (SPEC §5): the entries of that record,
newest first, each with when, who and the sentence `Change.sentence` writes (the one
rendering of an entry: the change log's list, its API and its spreadsheets read the same).

Replaces Django's History page (its admin log, which service and API writes never fill:
"This object doesn't have a change history") and simple-history's (raw values, "Changed
by: None"). `OrganizationScopedAdmin` includes it, so every admin of a tracked model has it;
an admin of another model keeps its base's page.
"""

from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.utils.text import capfirst

from ..changes import Change, plain_dates
from ..history import ActorHistoricalModel

# Entries per page of a History page (Django's own pages show 100).
HISTORY_PER_PAGE = 100


def history_manager(model):
    """The model's simple-history manager when the change log tracks it, else None."""
    attribute = getattr(model._meta, "simple_history_manager_attribute", None)
    manager = getattr(model, attribute, None) if attribute else None
    if manager is None or not issubclass(manager.model, ActorHistoricalModel):
        return None
    return manager


def entries_of(obj) -> QuerySet:
    """The change-log entries of `obj`, newest first. Found through its snapshots (the
    snapshot table's index on the record's id, then the log's unique index on model and
    snapshot): the log has no index on the record's id of its own."""
    manager = history_manager(type(obj))
    snapshots = manager.model._base_manager.filter(**{obj._meta.pk.attname: obj.pk}).values("history_id")
    return Change.objects.filter(
        model=type(obj)._meta.label_lower, object_id=obj.pk, history_id__in=snapshots
    ).order_by("-at", "-id")


class ChangeLogHistoryMixin:
    """The History page (`<record>/history/`) from the change log; put it before ModelAdmin
    (and SimpleHistoryAdmin) in the bases. A record outside the user's organizations, or gone,
    redirects as its change page does; one the user may not view is refused."""

    change_log_history_template = "admin/change_log_history.html"

    def history_view(self, request, object_id, extra_context=None):
        if history_manager(self.model) is None:
            return super().history_view(request, object_id, extra_context)
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        paginator = Paginator(entries_of(obj), HISTORY_PER_PAGE)
        page = paginator.get_page(request.GET.get(PAGE_VAR))
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {plain_dates(str(obj))}",
            "subtitle": None,
            "entries": page,
            "page_range": paginator.get_elided_page_range(page.number),
            "page_var": PAGE_VAR,
            "pagination_required": paginator.count > HISTORY_PER_PAGE,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "object": obj,
            "opts": self.opts,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.change_log_history_template, context)
