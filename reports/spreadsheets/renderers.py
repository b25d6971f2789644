"""Row-streaming renderers for the API's `?format=csv` and `?format=xlsx` (docs/spreadsheets.md).

`cxgov.api.spreadsheets.spreadsheet_list` hands `stream()` the columns of the JSON list and
a generator of its rows (dicts, as the JSON has them). Neither renderer holds the list:
- CSV is written row by row into a `StreamingHttpResponse` (UTF-8 with a BOM, so Excel
  reads accents right);
- XLSX rows go to openpyxl's write-only workbook, which writes each row to a temporary
  file at once; the finished file is sent from disk by a `FileResponse`.
`render()` is only reached for errors, which the API answers in JSON anyway.
"""

import csv
import json
import re
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal, InvalidOperation

from django.http import FileResponse, StreamingHttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from rest_framework.renderers import BaseRenderer, JSONRenderer

#: Text a spreadsheet would run as a formula (CSV injection): such cells get a leading "'".
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cell_text(value) -> str:
    """A JSON value as one CSV cell: null empty, booleans as JSON writes them, lists and
    objects as compact JSON, text that would start a formula defused with a leading "'"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), default=str)
    text = str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(columns: Iterable[str], rows: Iterable[dict]) -> Iterator[str]:
    names = list(columns)
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(names)
    for row in rows:
        yield writer.writerow([cell_text(row.get(name)) for name in names])


class _RowStreamRenderer(BaseRenderer):
    streams_rows = True
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data, None, renderer_context)


class CSVRenderer(_RowStreamRenderer):
    media_type = "text/csv"
    format = "csv"

    def stream(self, *, columns: dict[str, str], rows: Iterable[dict], name: str) -> StreamingHttpResponse:
        response = StreamingHttpResponse(csv_lines(columns, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response


def xlsx_value(value, kind: str, sheet):
    """A JSON value as an XLSX cell: decimals and dates typed, text never taken for a formula."""
    if value is None:
        return None
    if isinstance(value, list | dict):
        value = json.dumps(value, separators=(",", ":"), default=str)
    if isinstance(value, str):
        if kind == "decimal" and _NUMBER.match(value):
            try:
                return Decimal(value)
            except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
                pass
        if kind == "date" and _DATE.match(value):
            return date.fromisoformat(value)
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
        return cell
    return value


def write_xlsx(target, *, columns: dict[str, str], rows: Iterable[dict], title: str) -> None:
    """Rows into an XLSX file (a path or a binary file), one sheet, through write-only mode."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(list(columns))
    for row in rows:
        sheet.append([xlsx_value(row.get(name), kind, sheet) for name, kind in columns.items()])
    workbook.save(target)


class XLSXRenderer(_RowStreamRenderer):
    media_type = XLSX_MEDIA_TYPE
    format = "xlsx"

    def stream(self, *, columns: dict[str, str], rows: Iterable[dict], name: str) -> FileResponse:
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after sending
        write_xlsx(spool, columns=columns, rows=rows, title=name)
        spool.seek(0)
        return FileResponse(spool, as_attachment=True, filename=f"{name}.xlsx", content_type=XLSX_MEDIA_TYPE)
