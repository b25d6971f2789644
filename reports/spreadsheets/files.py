"""Reading an uploaded spreadsheet: refusals a person can act on, before any row is looked at.

A file is refused as a whole (`SpreadsheetRefused`, its message shown on the upload form)
when it cannot be read as the import's table: text in neither UTF-8 (with or without BOM)
nor Windows-1252, a workbook that is not one, no sheet named like the import among several
(the first sheet is read when none is), a formula anywhere (plain, array or data table: its
value is whatever Excel last computed, or nothing when another program wrote the file: we
do not guess), an empty file.
The header is checked against the import's columns by `check_header`. Cells come back as
text (CSV) or as openpyxl gives them (XLSX: numbers, dates, text).
"""

import csv
import io
import zipfile
from datetime import date, datetime, timedelta

import tablib
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from cxgov.api.text import decode_text
from programs.numbers import is_digits


class SpreadsheetRefused(ValueError):
    """The file cannot be imported as it is; the message says why and what to do."""


def text_of(raw: bytes) -> str:
    try:
        return decode_text(raw)
    except Exception:  # the API's ParseError; here the message is the form's
        raise SpreadsheetRefused(
            "The file is neither UTF-8 nor Windows-1252 text: save it from your spreadsheet as "
            "'CSV UTF-8' (or as an .xlsx workbook) and upload it again."
        ) from None


def _cell_name(column: int, line: int) -> str:
    return f"{get_column_letter(column)}{line}"


def read_csv(raw: bytes) -> tablib.Dataset:
    text = text_of(raw)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    for line, cells in enumerate(rows, start=1):
        for column, cell in enumerate(cells, start=1):
            if cell.startswith("=") and len(cell) > 1:
                raise SpreadsheetRefused(
                    f"Cell {_cell_name(column, line)} holds a formula ({cell[:40]}): "
                    "replace formulas by their values and upload again."
                )
    return _dataset(rows)


def choose_sheet(workbook, sheet_name: str):
    """The sheet named like the import (case and spaces aside), else the first."""
    wanted = sheet_name.replace(" ", "").replace("_", "").lower()
    for sheet in workbook.worksheets:
        if sheet.title.replace(" ", "").replace("_", "").lower() == wanted:
            return sheet
    return workbook.worksheets[0]


def read_xlsx(raw: bytes, *, sheet_name: str) -> tablib.Dataset:
    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise SpreadsheetRefused("The file is not an .xlsx workbook: choose the CSV format, or save it as .xlsx.")
    sheet = choose_sheet(workbook, sheet_name)
    rows = []
    # Values only (no cell objects: several times faster on big sheets). With data_only=False
    # a formula cell reads as its formula text, "=...", or, for the array formulas Excel 365
    # writes for spilled and Ctrl+Shift+Enter formulas and for what-if data tables, as an
    # openpyxl ArrayFormula / DataTableFormula object: each is recognised here.
    for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        for column, value in enumerate(values, start=1):
            formula = formula_text(value)
            if formula is not None:
                raise SpreadsheetRefused(
                    f"Sheet {sheet.title!r}, cell {_cell_name(column, line)} holds a formula ({formula[:40]}): "
                    "replace formulas by their values (Paste Special → Values) and upload again."
                )
        rows.append(list(values))
    workbook.close()
    return _dataset(rows)


def formula_text(value) -> str | None:
    """The formula an XLSX cell value (read with data_only=False) holds, or None when it holds none."""
    if isinstance(value, ArrayFormula):
        return value.text if value.text and len(value.text) > 1 else f"an array formula over {value.ref}"
    if isinstance(value, DataTableFormula):
        return f"a data table over {value.ref}"
    if isinstance(value, str) and value.startswith("=") and len(value) > 1:
        return value
    return None


def _dataset(rows: list[list]) -> tablib.Dataset:
    rows = [row for row in rows if any(value not in (None, "") for value in row)] if rows else rows
    if not rows:
        raise SpreadsheetRefused("The file is empty: the first row names the columns, one row per record below.")
    header = [str(value).strip().lower() if value is not None else "" for value in rows[0]]
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    dataset = tablib.Dataset(headers=header)
    for row in rows[1:]:
        row = list(row)
        extra = [value for value in row[width:] if value not in (None, "")]
        if extra:
            raise SpreadsheetRefused(
                f"A row has {width + len(extra)} or more cells but the header names {width} columns: "
                "every value needs a column name in the first row."
            )
        dataset.append((row + [None] * width)[:width])
    return dataset


def check_header(header: list[str], *, required: list[str], optional: list[str]) -> None:
    """Every required column present, none unknown, none twice; or one message naming each."""
    known = set(required) | set(optional)
    problems = []
    missing = [name for name in required if name not in header]
    unknown = [name or "(a column without a name)" for name in header if name not in known]
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if missing:
        problems.append("missing column " + ", ".join(missing))
    if unknown:
        problems.append("unknown column " + ", ".join(unknown))
    if repeated:
        problems.append("repeated column " + ", ".join(repeated))
    if problems:
        expected = ", ".join(required + [f"{name} (optional)" for name in optional])
        raise SpreadsheetRefused(f"The header row has {'; '.join(problems)}. The columns are: {expected}.")


#: Excel counts days from 1899-12-30 (its 1900 leap-year bug included).
_EXCEL_EPOCH = date(1899, 12, 30)


def date_cell(value) -> date | str:
    """A date cell: a date (XLSX) or YYYY-MM-DD text; otherwise the message saying what is wrong.

    A bare number is what Excel shows when a date column lost its format (a serial number):
    refused, naming the date it probably is, rather than guessed.
    """
    if isinstance(value, datetime):
        return value.date() if value.time() == datetime.min.time() else "A date without a time is required."
    if isinstance(value, date):
        return value
    text = "" if value is None else str(value).strip()
    if not text:
        return "This field is required."
    number = text[:-2] if text.endswith(".0") else text
    if isinstance(value, int | float) or is_digits(number):
        try:
            meant = _EXCEL_EPOCH + timedelta(days=int(float(text)))
            hint = f" (probably {meant.isoformat()})"
        except (OverflowError, ValueError):
            hint = ""
        return f"{text} is an Excel serial number, not a date{hint}: format the column as a date or write YYYY-MM-DD."
    try:
        return date.fromisoformat(text) if len(text) == 10 else "Date has wrong format. Use YYYY-MM-DD."
    except ValueError:
        return "Date has wrong format. Use YYYY-MM-DD."
