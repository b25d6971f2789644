"""Fixtures of the spreadsheet tests: an office user in the admin, files made by openpyxl or by hand."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook


@pytest.fixture
def office_client(client, office_user):
    client.force_login(office_user)
    return client


def xlsx_bytes(rows: list[list], *, title: str = "Sheet1", extra_sheets: dict | None = None) -> bytes:
    """A workbook made by openpyxl: `rows` on the first sheet (header first), more sheets before it if asked."""
    book = Workbook()
    first = book.active
    sheets = []
    for name, sheet_rows in (extra_sheets or {}).items():
        sheet = book.create_sheet(name)
        for row in sheet_rows:
            sheet.append(row)
        sheets.append(sheet)
    first.title = title
    for row in rows:
        first.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


FORMATS = {"csv": "0", "xlsx": "1"}


def preview(client, model: str, name: str, content: bytes):
    """Upload a file to the admin's import (the dry run): the response, with `result` in its context."""
    app, model_name = model.split(".")
    upload = SimpleUploadedFile(name, content)
    return client.post(
        reverse(f"admin:{app}_{model_name}_import"),
        {"import_file": upload, "format": FORMATS[name.rsplit(".", 1)[1]], "resource": "0"},
    )


def confirm(client, model: str, response):
    """Confirm the previewed import, as the preview page's form does."""
    app, model_name = model.split(".")
    form = response.context["confirm_form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    return client.post(reverse(f"admin:{app}_{model_name}_process_import"), data)


def totals(response) -> dict:
    result = response.context["result"]
    return {
        "new": result.totals["new"],
        "update": result.totals["update"],
        "skip": result.totals["skip"],
        "invalid": result.totals["invalid"],
    }
