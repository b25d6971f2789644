"""Every admin list exports what it shows to CSV and XLSX (SPEC §5, Admin, "Spreadsheets").

"What it shows" is the changelist's own: its columns (`list_display`, with their headers)
and its rows (the admin's scoped queryset, with the filters, search, date drill-down and
ordering of the URL the list was opened with: the export links carry its query string).
Each cell is the text the list displays, from the same `lookup_field` the changelist uses;
HTML a column renders (links, icons) is reduced to its text, and yes/no columns (the list's
icons) are "yes" and "no": no cell holds HTML. The rows are read in chunks and
streamed like the API's (`renderers.py`): CSV as it goes, XLSX through a write-only
workbook spooled to disk. At most `MAX_ROWS` rows, like the API.

django-import-export's own export is not used: it exports a resource's model fields (not
the list's columns) and builds the whole file in memory through tablib.
"""

import html
import tempfile
from datetime import date, datetime
from decimal import Decimal

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import display_for_field, label_for_field, lookup_field
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import SafeData
from django.utils.text import slugify

from .renderers import XLSX_MEDIA_TYPE, csv_lines, write_xlsx

MAX_ROWS = 100_000
CHUNK_ROWS = 2_000


def _text(value) -> str:
    """A value as the list shows it, as text: HTML an admin function built (format_html,
    mark_safe) reduced to its text and entities; plain text as it is (the list escapes it)."""
    if isinstance(value, SafeData):
        return " ".join(html.unescape(strip_tags(str(value))).split())
    return str(value)


def _cell(name: str, obj, model_admin):
    try:
        field, attr, value = lookup_field(name, obj, model_admin)
    except (AttributeError, ObjectDoesNotExist):
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        # As the list shows it: in the current time zone (a spreadsheet has no time zones).
        value = timezone.localtime(value).replace(tzinfo=None, microsecond=0)
    if isinstance(value, bool):
        # The list shows an icon (`boolean=True`); a spreadsheet gets the words, for model
        # fields and admin functions alike.
        return "yes" if value else "no"
    if field is not None and (getattr(field, "flatchoices", None) or field.is_relation):
        return _text(display_for_field(value, field, ""))
    if value is None:
        return None
    if isinstance(value, date | datetime | int | float) or (field is not None and isinstance(value, Decimal)):
        return value
    return _text(value)


class ChangelistExportMixin:
    """Adds `export/csv/` and `export/xlsx/` to an admin, and their links on its list page."""

    export_template = "reports/change_list_export.html"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Extend the list page the admin already has (its own, or import-export's).
        self.export_base_template = self.change_list_template or "admin/change_list.html"
        self.change_list_template = self.export_template

    def changelist_view(self, request, extra_context=None):
        extra = {"export_base_template": self.export_base_template, "export_query": request.GET.urlencode()}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        view = path("export/<str:extension>/", self.admin_site.admin_view(self.export_view), name=name)
        return [view, *super().get_urls()]

    def export_columns(self, request) -> list[str]:
        return [name for name in self.get_list_display(request) if name != "action_checkbox"]

    def export_view(self, request, extension: str):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if extension not in ("csv", "xlsx"):
            return HttpResponse("Export as csv or xlsx.", status=404, content_type="text/plain")
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponse("The list's filters are not valid.", status=400, content_type="text/plain")
        queryset = changelist.get_queryset(request)
        count = queryset.count()
        if count > MAX_ROWS:
            return HttpResponse(
                f"The list has {count:,} rows; an export holds at most {MAX_ROWS:,}. Filter the list first.",
                status=400,
                content_type="text/plain",
            )
        names = self.export_columns(request)
        headers = {name: str(label_for_field(name, self.model, self)) for name in names}
        columns = {label: "text" for label in headers.values()}
        rows = (
            {headers[name]: _cell(name, obj, self) for name in names}
            for obj in queryset.iterator(chunk_size=CHUNK_ROWS)
        )
        filename = slugify(str(self.opts.verbose_name_plural)) or self.opts.model_name
        if extension == "csv":
            response = StreamingHttpResponse(csv_lines(columns, rows), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
            return response
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after sending
        write_xlsx(spool, columns=columns, rows=rows, title=filename)
        spool.seek(0)
        return FileResponse(spool, as_attachment=True, filename=f"{filename}.xlsx", content_type=XLSX_MEDIA_TYPE)
