"""Admin imports on django-import-export, every write through the owning app's service.

django-import-export gives the admin its upload form, the temporary file kept between the
preview and the confirmation, the preview page and the confirm step. Its row pipeline (one
`instance.save()` per row, in a transaction rolled back for the preview) is replaced: a
`ServiceResource` plans every row in one pass (create, update, unchanged, or the errors
of each column), and, once confirmed and only if no row is in error, hands the whole
plan to the service (`measurements_upsert`, `metric_update`...), which writes it all or
nothing with history rows naming the importing user. Re-importing the same file plans
every row as unchanged and writes nothing.
"""

import io
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.resources import Resource
from import_export.results import Error, Result, RowResult

from programs import access
from programs.choices import Role

from .files import SpreadsheetRefused, check_header, read_csv, read_xlsx
from .renderers import XLSX_MEDIA_TYPE, csv_lines, write_xlsx

NEW, UPDATE, UNCHANGED = RowResult.IMPORT_TYPE_NEW, RowResult.IMPORT_TYPE_UPDATE, RowResult.IMPORT_TYPE_SKIP


@dataclass
class PlannedRow:
    number: int  # the spreadsheet's row number: the header is row 1
    values: dict
    kind: str = UNCHANGED
    errors: dict[str, list[str]] = field(default_factory=dict)
    item: object = None  # what the resource's `write` hands its service


def office_organization_ids(user) -> set[int] | None:
    """Organizations where `user` may import (office role); None for a superuser (all)."""
    if user.is_superuser:
        return None
    return {org for org, role in access.roles(user).items() if role == Role.OFFICE}


class ServiceResource(Resource):
    """A resource whose rows are planned at once and written by a service (module docstring).

    Subclasses name `required` and `optional` columns, the `sheet_name` to look for in a
    workbook, an `example` row for the template, and implement `plan` and `write`.
    """

    sheet_name = "rows"
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    example: dict = {}

    @classmethod
    def columns(cls) -> list[str]:
        return [*cls.required, *cls.optional]

    def get_user_visible_fields(self):
        return [SimpleNamespace(column_name=name) for name in self.columns()]

    @classmethod
    def get_display_name(cls) -> str:
        return cls.sheet_name

    def plan(self, rows: list[PlannedRow], user) -> None:
        """Fill each row's `kind` and `errors` (by column) and `item`; reads only."""
        raise NotImplementedError

    def write(self, rows: list[PlannedRow], user) -> None:
        """Write the planned rows through the service, all or nothing."""
        raise NotImplementedError

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, **kwargs):
        user = kwargs["user"]
        header = list(dataset.headers)
        rows = [
            PlannedRow(number=number, values={name: value for name, value in zip(header, row, strict=True)})
            for number, row in enumerate(dataset, start=2)
        ]
        self.plan(rows, user)
        refused = None
        if not dry_run and not any(row.errors for row in rows):
            try:
                self.write(rows, user)
            except ValidationError as exc:
                # The data changed between the plan and the write: the service wrote nothing.
                # Its errors are on the rows when it could name them, else the result's own.
                refused = exc
        result = Result()
        result.diff_headers = header
        result.total_rows = len(rows)
        for row in rows:
            if row.errors:
                result.append_invalid_row(row.number, row.values, ValidationError(row.errors))
                result.totals[RowResult.IMPORT_TYPE_INVALID] += 1
                continue
            row_result = RowResult()
            row_result.import_type = row.kind
            row_result.diff = [row.values.get(name) for name in header]
            row_result.row_values = row.values
            result.append_row_result(row_result)
            result.increment_row_result_total(row_result)
        if refused is not None and not result.has_validation_errors():
            result.append_base_error(Error(refused))
        return result


class RowByRowResource(ServiceResource):
    """Rows written one by one through model rules and services, in a transaction.

    `prepare` reads the rows (one query per lookup, not per row) and fills `row.item` or
    `row.errors`; `write_row` writes one row and sets its kind, raising ValidationError
    (its messages become the row's errors) or `RowRefused` (errors already set). The
    preview runs the real writes in a transaction rolled back at the end, so it reports
    what the services decide; the confirmation runs them again for good, all or nothing.
    """

    def prepare(self, rows: list[PlannedRow], user) -> None:
        raise NotImplementedError

    def ordered(self, rows: list[PlannedRow]) -> list[PlannedRow]:
        return rows

    def start(self, rows: list[PlannedRow], user) -> dict:
        """State shared by the rows' writes (e.g. existing rows by key), read in bulk."""
        return {}

    def write_row(self, row: PlannedRow, state: dict, user) -> None:
        raise NotImplementedError

    def plan(self, rows: list[PlannedRow], user) -> None:
        self.prepare(rows, user)
        # The rows `prepare` found right go through the services all the same (rolled back),
        # so one preview lists every error: a bad reason in row 2 shows with row 3's bad email.
        self._apply([row for row in rows if not row.errors], user, dry_run=True)

    def write(self, rows: list[PlannedRow], user) -> None:
        self._apply(rows, user, dry_run=False)

    def _apply(self, rows: list[PlannedRow], user, *, dry_run: bool) -> None:
        if not rows:
            return
        with transaction.atomic():
            state = self.start(rows, user)
            for row in self.ordered(rows):
                try:
                    self.write_row(row, state, user)
                except ValidationError as exc:
                    row.errors.update(_messages(exc))
                except RowRefused:
                    pass
            failed = any(row.errors for row in rows)
            if dry_run or failed:
                transaction.set_rollback(True)
        if not dry_run and failed:
            raise ValidationError("The data changed since the preview; nothing was written: preview it again.")


def parents_first(rows: list[PlannedRow], key_of, parents_of) -> list[PlannedRow]:
    """`rows` reordered so a row another row points to (a parent, a replacement, a manager)
    comes first. `parents_of(row)` lists the keys the row points to."""
    by_key = {key_of(row): row for row in rows}
    ordered: list[PlannedRow] = []
    placed: set = set()

    def place(row: PlannedRow, path: tuple = ()) -> None:
        key = key_of(row)
        if key in placed or key in path:  # a cycle is left to the model's own check
            return
        for parent_key in parents_of(row):
            parent = by_key.get(parent_key)
            if parent is not None:
                place(parent, (*path, key))
        placed.add(key)
        ordered.append(row)

    for row in rows:
        place(row)
    return ordered


class RowRefused(Exception):
    """A row's write stopped; its errors are already on the row."""


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {("row" if k == "__all__" else k): list(v) for k, v in exc.message_dict.items()}
    return {"row": list(exc.messages)}


def bound_formats(resource: type[ServiceResource]) -> list[type]:
    """CSV and XLSX readers that refuse bad files (files.py) and check the resource's header."""

    def checked(dataset):
        check_header(list(dataset.headers), required=list(resource.required), optional=list(resource.optional))
        return dataset

    class SpreadsheetCSV(CSV):
        def is_binary(self) -> bool:
            return True  # bytes in: our decoding (UTF-8, BOM, Windows-1252), not one fixed encoding

        def get_read_mode(self) -> str:
            return "rb"

        def create_dataset(self, in_stream):
            return checked(read_csv(in_stream))

    class SpreadsheetXLSX(XLSX):
        def create_dataset(self, in_stream):
            return checked(read_xlsx(in_stream, sheet_name=resource.sheet_name))

    return [SpreadsheetCSV, SpreadsheetXLSX]


def import_max_bytes() -> int:
    return getattr(settings, "CXGOV_IMPORT_MAX_BYTES", 10 * 1024 * 1024)


class SpreadsheetImportMixin(ImportMixin):
    """An admin's spreadsheet import: office role, size limit, bad files refused, templates."""

    import_template_name = "reports/import.html"
    skip_admin_log = True  # the services write history rows naming the importing user
    import_resource: type[ServiceResource]

    def get_import_resource_classes(self, request):
        return [self.import_resource]

    def get_import_formats(self):
        return bound_formats(self.import_resource)

    def has_import_permission(self, request) -> bool:
        return request.user.is_superuser or bool(office_organization_ids(request.user))

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, SpreadsheetRefused):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def import_action(self, request, **kwargs):
        # Refused on the declared length, before Django reads (and spools) the upload.
        limit = import_max_bytes()
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if request.method == "POST" and declared > limit:
            return HttpResponse(
                f"The upload is {declared:,} bytes; the limit is {limit:,} bytes. Split the file and import each part.",
                status=413,
                content_type="text/plain; charset=utf-8",
            )
        return super().import_action(request, **kwargs)

    def process_result(self, result, request):
        """After "Confirm import": the success message only when the rows were written.

        The confirmation plans the file again; if the data changed since the preview (a
        metric renamed, a parent moved) rows are in error and nothing was written. The
        preview is shown again with those errors, saying that nothing was imported.
        """
        if not (result.has_errors() or result.has_validation_errors()):
            return super().process_result(result, request)
        context = {
            **self.get_import_context_data(),
            **self.admin_site.each_context(request),
            "title": "Import: nothing was imported",
            "opts": self.model._meta,
            "media": self.media,
            "result": result,
            "nothing_imported": True,
            "import_error_display": self.import_error_display,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.import_template_name], context)

    def get_import_context_data(self, **kwargs):
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}_import_template"
        return {**super().get_import_context_data(**kwargs), "template_url_name": name}

    def get_urls(self):
        template = path(
            "import/template.<str:extension>",
            self.admin_site.admin_view(self.import_template_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_import_template",
        )
        return [template, *super().get_urls()]

    def import_template_view(self, request, extension: str):
        """The import's columns and one example row, as CSV or XLSX."""
        resource = self.import_resource
        columns = {name: "text" for name in resource.columns()}
        name = f"{resource.sheet_name}-template"
        if extension == "csv":
            response = HttpResponse("".join(csv_lines(columns, [resource.example])), content_type="text/csv")
        elif extension == "xlsx":
            buffer = io.BytesIO()  # a template is a few hundred bytes
            write_xlsx(buffer, columns=columns, rows=[resource.example], title=resource.sheet_name)
            response = HttpResponse(buffer.getvalue(), content_type=XLSX_MEDIA_TYPE)
        else:
            return HttpResponse("No such template format: csv or xlsx.", status=404, content_type="text/plain")
        response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
        return response
