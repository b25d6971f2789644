"""The measurements import: preview counts, all or nothing on confirm, re-import unchanged, bad files."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from metrics.models import Measurement, Metric
from tests.factories import MeasurementFactory, MetricFactory, ProgramFactory

from .conftest import confirm, preview, totals, xlsx_bytes

pytestmark = pytest.mark.django_db
MODEL = "metrics.measurement"


@pytest.fixture
def metrics(organization):
    program = ProgramFactory(organization=organization)
    return (
        MetricFactory(program=program, name="Net promoter score"),
        MetricFactory(program=program, name="Churn"),
    )


def by_hand(nps, churn) -> bytes:
    """A CSV as a person types it: names, a BOM, CRLF, a quoted source with a comma."""
    return (
        "\ufeffmetric,period_end,value,source\r\n"
        f"Net promoter score,2026-01-31,41.5,survey\r\n"
        f'{churn.pk},2026-01-31,3,"crm, monthly"\r\n'
        f"Churn,2026-02-28,2.75,\r\n"
    ).encode()


def by_openpyxl(nps, churn) -> bytes:
    return xlsx_bytes(
        [
            ["metric", "period_end", "value", "source"],
            ["Net promoter score", dt.date(2026, 1, 31), 41.5, "survey"],
            [churn.pk, dt.datetime(2026, 1, 31), 3, "crm, monthly"],
            ["Churn", "2026-02-28", 2.75, None],
        ],
        title="Measurements",
    )


@pytest.mark.parametrize(("name", "make"), [("hand.csv", by_hand), ("made.xlsx", by_openpyxl)])
def test_preview_confirm_then_reimport_changes_nothing(office_client, office_user, metrics, name, make):
    nps, churn = metrics
    MeasurementFactory(metric=churn, period_end=dt.date(2026, 1, 31), value=Decimal("4"), source="crm, monthly")
    MeasurementFactory(metric=churn, period_end=dt.date(2026, 2, 28), value=Decimal("2.75"), source="")

    response = preview(office_client, MODEL, name, make(nps, churn))
    assert response.status_code == 200
    assert totals(response) == {"new": 1, "update": 1, "skip": 1, "invalid": 0}
    assert b"import-counts" in response.content
    assert Measurement.objects.count() == 2  # the preview writes nothing

    done = confirm(office_client, MODEL, response)
    assert done.status_code == 302
    assert Measurement.objects.get(metric=nps).value == Decimal("41.5")
    assert Measurement.objects.get(metric=churn, period_end=dt.date(2026, 1, 31)).value == Decimal("3")
    written = Measurement.history.filter(history_change_reason="spreadsheet import")
    assert written.count() == 2
    assert {h.history_user_id for h in written} == {office_user.pk}

    again = preview(office_client, MODEL, name, make(nps, churn))
    assert totals(again) == {"new": 0, "update": 0, "skip": 3, "invalid": 0}
    confirm(office_client, MODEL, again)
    assert Measurement.history.count() == written.count() + 2  # the two factory rows; nothing new


def test_every_error_is_shown_with_its_row_and_column_and_nothing_is_written(
    office_client, metrics, other_organization
):
    nps, churn = metrics
    foreign = MetricFactory(program=ProgramFactory(organization=other_organization), name="Foreign")
    MetricFactory(program=nps.program, name="Churn")  # a second "Churn": the name is ambiguous
    text = (
        "metric,period_end,value,source\n"
        "Net promoter score,2026-01-31,41.5,survey\n"  # row 2: fine
        "Net promoter score,2026-01-31,40,survey\n"  # row 3: duplicate of row 2
        f"{foreign.pk},2026-01-31,1,\n"  # row 4: another organization's metric
        "Churn,2026-01-31,1,\n"  # row 5: two metrics have that name
        "Nobody,2026-01-31,1,\n"  # row 6: no such metric
        f"{nps.pk},45322,1,\n"  # row 7: an Excel serial date
        f"{nps.pk},2026-03-31,lots,\n"  # row 8: not a number
    )
    response = preview(office_client, MODEL, "errors.csv", text.encode())
    result = response.context["result"]
    errors = {row.number: row.error_dict for row in result.invalid_rows}
    assert errors == {
        3: {"period_end": ["Duplicate of row 2: one value per metric and period_end."]},
        4: {"metric": [f'Invalid pk "{foreign.pk}" - object does not exist.']},
        5: {"metric": ["2 metrics are named 'Churn': use the metric's id."]},
        6: {"metric": ["No metric named 'Nobody' in your organizations."]},
        7: {
            "period_end": [
                "45322 is an Excel serial number, not a date (probably 2024-01-31): format the column "
                "as a date or write YYYY-MM-DD."
            ]
        },
        8: {"value": ["A number is required."]},
    }
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    assert Measurement.objects.count() == 0


def refused(response) -> str:
    assert response.status_code == 200
    assert "confirm_form" not in response.context or not response.context["confirm_form"]
    return " ".join(response.context["form"].errors["import_file"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"metric,period_end,value\n\x81\x8d,2026-01-31,1\n", "neither UTF-8 nor Windows-1252"),
        (b"metric,period_end\nChurn,2026-01-31\n", "missing column value"),
        (b"metric,period_end,value,comment\nChurn,2026-01-31,1,x\n", "unknown column comment"),
        (b"metric,period_end,value\nChurn,2026-01-31,1,extra\n", "the header names 3 columns"),
        (b"metric,period_end,value\nChurn,2026-01-31,=1+2\n", "Cell C2 holds a formula"),
        (b"\r\n,,\r\n", "The file is empty"),
    ],
    ids=["encoding", "missing", "extra-column", "extra-cell", "formula", "empty"],
)
def test_bad_csv_files_are_refused_with_their_message(office_client, metrics, content, message):
    assert message in refused(preview(office_client, MODEL, "bad.csv", content))
    assert Measurement.objects.count() == 0


def test_windows_1252_is_read(office_client, metrics):
    nps, _ = metrics
    content = f"metric,period_end,value,source\n{nps.pk},2026-01-31,1,Zürich café\n".encode("cp1252")
    response = preview(office_client, MODEL, "excel.csv", content)
    assert totals(response)["new"] == 1
    confirm(office_client, MODEL, response)
    assert Measurement.objects.get(metric=nps).source == "Zürich café"


def test_a_formula_cell_in_a_workbook_is_refused(office_client, metrics):
    content = xlsx_bytes([["metric", "period_end", "value"], ["Churn", dt.date(2026, 1, 31), "=1+2"]])
    assert "cell C2 holds a formula (=1+2)" in refused(preview(office_client, MODEL, "f.xlsx", content))


@pytest.mark.parametrize(
    ("cell", "value", "shown"),
    [
        ("D2", ArrayFormula("D2", '=UPPER("survey")'), '(=UPPER("survey"))'),  # Excel 365: spilled or CSE
        ("C2", ArrayFormula("C2:C3", "=A2:A3*2"), "(=A2:A3*2)"),
        ("C2", DataTableFormula(ref="C2:C3", dt2D=False, r1="A1"), "(a data table over C2:C3)"),
    ],
    ids=["array-one-cell", "array-range", "data-table"],
)
def test_array_formulas_and_data_tables_in_a_workbook_are_refused(office_client, metrics, cell, value, shown):
    """Excel 365 writes spilled and Ctrl+Shift+Enter formulas as array formulas: refused like any."""
    row = ["Churn", dt.date(2026, 1, 31), 1, "survey"]
    row[ord(cell[0]) - ord("A")] = value
    content = xlsx_bytes([["metric", "period_end", "value", "source"], row], title="Measurements")
    message = refused(preview(office_client, MODEL, "array.xlsx", content))
    assert f"Sheet 'Measurements', cell {cell} holds a formula {shown}: replace formulas by their values" in message
    assert "openpyxl" not in message
    assert Measurement.objects.count() == 0


@pytest.mark.parametrize("renamed", [False, True], ids=["unchanged", "metric-renamed"])
def test_confirm_writes_only_what_the_preview_showed_else_nothing_and_says_so(office_client, metrics, renamed):
    """All or nothing: a metric renamed between the preview and the confirmation leaves its
    row in error; nothing is written, the errors are shown again, no success message."""
    nps, churn = metrics
    content = b"metric,period_end,value,source\nNet promoter score,2026-01-31,41.5,survey\nChurn,2026-01-31,3,\n"
    response = preview(office_client, MODEL, "two.csv", content)
    assert totals(response) == {"new": 2, "update": 0, "skip": 0, "invalid": 0}
    if renamed:
        Metric.objects.filter(pk=nps.pk).update(name="NPS")

    done = confirm(office_client, MODEL, response)
    shown = [str(m) for m in get_messages(done.wsgi_request)]
    if not renamed:
        assert done.status_code == 302
        assert shown == ["Import finished: 2 new, 0 updated, 0 deleted and 0 skipped measurements."]
        assert Measurement.objects.count() == 2
        return
    assert done.status_code == 200
    assert not [m for m in shown if "Import finished" in m]
    assert Measurement.objects.count() == 0
    page = done.content.decode()
    assert "Nothing was imported" in page and "Import finished" not in page
    assert "confirm_form" not in done.context or not done.context["confirm_form"]
    errors = {row.number: row.error_dict for row in done.context["result"].invalid_rows}
    assert errors == {2: {"metric": ["No metric named 'Net promoter score' in your organizations."]}}
    assert "No metric named &#x27;Net promoter score&#x27; in your organizations." in page
    assert reverse("admin:metrics_measurement_import") in page  # upload the corrected file


def test_every_column_of_every_row_is_checked_in_one_preview(office_client, metrics):
    """A row with a bad metric and a bad date still has its value checked, and so on."""
    nps, _ = metrics
    text = (
        "metric,period_end,value,source\n"
        "Claims NPS,2026-13-01,abc,x\n"  # row 2: every column but source wrong
        f"{nps.pk},2026-13-01,abc,x\n"  # row 3: date and value
        "Nobody,2026-01-31,lots,x\n"  # row 4: metric and value
        f"{nps.pk},2026-01-31,1,x\n"  # row 5: fine
        f"{nps.pk},2026-01-31,2,x\n"  # row 6: duplicate of row 5
    )
    response = preview(office_client, MODEL, "all.csv", text.encode())
    errors = {row.number: row.error_dict for row in response.context["result"].invalid_rows}
    assert errors == {
        2: {
            "metric": ["No metric named 'Claims NPS' in your organizations."],
            "period_end": ["Date has wrong format. Use YYYY-MM-DD."],
            "value": ["A number is required."],
        },
        3: {"period_end": ["Date has wrong format. Use YYYY-MM-DD."], "value": ["A number is required."]},
        4: {"metric": ["No metric named 'Nobody' in your organizations."], "value": ["A number is required."]},
        6: {"period_end": ["Duplicate of row 5: one value per metric and period_end."]},
    }
    assert Measurement.objects.count() == 0


def test_excel_serial_dates_in_a_workbook_are_refused(office_client, metrics):
    content = xlsx_bytes([["metric", "period_end", "value"], ["Churn", 46053, 1]])
    response = preview(office_client, MODEL, "serial.xlsx", content)
    [row] = response.context["result"].invalid_rows
    assert row.number == 2
    assert "46053 is an Excel serial number, not a date (probably 2026-01-31)" in row.error_dict["period_end"][0]


def test_several_sheets_the_one_named_like_the_import_else_the_first(office_client, metrics):
    good = [["metric", "period_end", "value"], ["Churn", dt.date(2026, 1, 31), 1]]
    notes = [["anything"], ["else"]]
    named = xlsx_bytes(notes, title="Notes", extra_sheets={"Measurements": good})
    assert totals(preview(office_client, MODEL, "named.xlsx", named))["new"] == 1
    first = xlsx_bytes(good, title="Data", extra_sheets={"Notes": notes})
    assert totals(preview(office_client, MODEL, "first.xlsx", first))["new"] == 1
    wrong = xlsx_bytes(notes, title="Notes", extra_sheets={"Data": good})
    assert "unknown column anything" in refused(preview(office_client, MODEL, "wrong.xlsx", wrong))


def test_a_csv_chosen_for_a_workbook_is_refused(office_client, metrics):
    assert "not an .xlsx workbook" in refused(preview(office_client, MODEL, "x.xlsx", b"metric,period_end,value\n"))


@pytest.mark.parametrize("over", [0, 1])
def test_an_upload_over_the_limit_is_413_before_parsing(office_client, metrics, settings, over):
    """A file one byte over the configured limit, or of 50 MB, is refused on its declared length."""
    upload = SimpleUploadedFile("m.csv", b"metric,period_end,value\nChurn,2026-01-31,1\n")
    body = encode_multipart(BOUNDARY, {"import_file": upload, "format": "0", "resource": "0"})
    settings.CXGOV_IMPORT_MAX_BYTES = len(body) - over
    url = reverse("admin:metrics_measurement_import")
    response = office_client.generic("POST", url, body, content_type=MULTIPART_CONTENT)
    if over:
        assert response.status_code == 413
        assert f"{len(body):,} bytes; the limit is {len(body) - 1:,}" in response.content.decode()
    else:
        assert response.status_code == 200
        assert totals(response)["new"] == 1
    fifty = office_client.generic(
        "POST", url, b"x" * 10, content_type=MULTIPART_CONTENT, CONTENT_LENGTH=str(50 * 1024 * 1024)
    )
    assert fifty.status_code == 413
    assert Measurement.objects.count() == 0


def test_templates_download(office_client, metrics):
    csv = office_client.get(reverse("admin:metrics_measurement_import_template", args=["csv"]))
    assert csv.content.decode("utf-8-sig").splitlines()[0] == "metric,period_end,value,source"
    xlsx = office_client.get(reverse("admin:metrics_measurement_import_template", args=["xlsx"]))
    assert xlsx.content[:2] == b"PK"
    page = office_client.get(reverse("admin:metrics_measurement_import"))
    assert b"import/template.csv" in page.content


def test_an_executive_may_not_import(client, executive_user, metrics):
    client.force_login(executive_user)
    assert client.get(reverse("admin:metrics_measurement_import")).status_code == 403
    assert Metric.objects.count() == 2


@pytest.mark.parametrize("count", [10, 300])
def test_the_preview_reads_a_constant_number_of_queries(office_client, metrics, count, django_assert_max_num_queries):
    nps, churn = metrics
    start = dt.date(2020, 1, 1)
    lines = [f"{(nps if i % 2 else churn).pk},{start + dt.timedelta(days=i)},{i},x" for i in range(count)]
    content = ("metric,period_end,value,source\n" + "\n".join(lines) + "\n").encode()
    with django_assert_max_num_queries(12):
        response = preview(office_client, MODEL, "many.csv", content)
    assert totals(response)["new"] == count
