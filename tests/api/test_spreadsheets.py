"""`?format=csv` and `?format=xlsx` on every list: the JSON's rows and fields, every page.

Parsed back with the csv module and openpyxl and compared with the JSON list, resource by
resource; filters, scoping and the 100,000-row bound on both sides; errors stay JSON.
"""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from accountability.models import ScanRun
from cxgov.api.spreadsheets import MAX_ROWS
from metrics.models import Measurement
from reports.spreadsheets.renderers import XLSX_MEDIA_TYPE, cell_text
from tests.factories import MeasurementFactory, MetricFactory

from .resources import RESOURCES

pytestmark = pytest.mark.django_db

LISTS = [r.path for r in RESOURCES] + ["organizations", "flags", "scans", "changes"]


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def xlsx_rows(response) -> list[tuple]:
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]


@pytest.mark.parametrize("path", LISTS)
def test_every_list_answers_csv_and_xlsx_with_the_json_rows(world, other_world, office, path):
    ScanRun.objects.create(organization=world.organization, as_of=dt.date(2023, 1, 1))
    url = f"/api/v1/{path}/"
    data = office.get(url, {"page_size": 1000}).json()["results"]
    assert data, path

    response = office.get(url, {"format": "csv"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('.csv"')
    header, *rows = csv_rows(response)
    assert header == list(data[0])
    assert rows == [[cell_text(item[name]) for name in header] for item in data]

    response = office.get(url, {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_MEDIA_TYPE
    sheet = xlsx_rows(response)
    assert list(sheet[0]) == header
    assert [row[0] for row in sheet[1:]] == [item[header[0]] for item in data]


def test_every_page_filters_applied_other_organizations_never(world, other_world, office):
    metric = MetricFactory(program=world.program)
    start = dt.date(2020, 1, 1)
    for day in range(130):  # more than two pages of the default 50
        MeasurementFactory(metric=metric, period_end=start + dt.timedelta(days=day), value=Decimal(day))
    header, *rows = csv_rows(office.get("/api/v1/measurements/", {"format": "csv", "metric": metric.pk}))
    assert len(rows) == 130
    assert {row[header.index("metric")] for row in rows} == {str(metric.pk)}
    ordered = office.get("/api/v1/measurements/", {"format": "csv", "metric": metric.pk, "ordering": "value"})
    assert [row[3] for row in csv_rows(ordered)[1:4]] == ["0.0000", "1.0000", "2.0000"]

    other = office.get("/api/v1/measurements/", {"format": "csv", "metric": other_world.metric.pk})
    assert other.status_code == 200
    assert office.get("/api/v1/measurements/", {"metric": other_world.metric.pk}).json()["count"] == 0
    assert len(csv_rows(other)) == 1  # the header: like the JSON list, nothing of another organization
    everything = csv_rows(office.get("/api/v1/measurements/", {"format": "csv"}))
    assert len(everything) - 1 == 131
    assert str(other_world.measurement.pk) not in {row[0] for row in everything[1:]}


def test_a_spreadsheet_reads_a_constant_number_of_queries(world, office, django_assert_max_num_queries):
    for path in ("metrics", "measurements", "initiatives", "sessions"):
        with django_assert_max_num_queries(12):
            response = office.get(f"/api/v1/{path}/", {"format": "csv"})
            b"".join(response.streaming_content)


def test_text_that_would_run_as_a_formula_is_defused(world, office):
    world.metric.name = '=HYPERLINK("http://evil")'
    world.metric.save()
    header, row = csv_rows(office.get("/api/v1/metrics/", {"format": "csv"}))
    assert row[header.index("name")] == '\'=HYPERLINK("http://evil")'
    sheet = xlsx_rows(office.get("/api/v1/metrics/", {"format": "xlsx"}))
    assert sheet[1][header.index("name")] == '=HYPERLINK("http://evil")'  # a string, not a formula
    assert sheet[1][header.index("target")] == float(world.metric.target)  # decimals as numbers


def test_errors_of_a_spreadsheet_request_are_json(world, office):
    response = office.get("/api/v1/measurements/", {"format": "csv", "period_end_after": "nope"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert office.get(f"/api/v1/metrics/{world.metric.pk}/", {"format": "csv"}).status_code == 404
    assert office.get("/api/v1/metrics/", {"format": "pdf"}).status_code == 404


@pytest.mark.parametrize("query", [{"page_size": "null"}, {"page_size": "0"}, {"page": "0"}, {"page": ""}])
def test_a_page_value_the_json_list_refuses_is_refused_for_a_spreadsheet_too(query, office):
    for format_ in ("csv", "xlsx"):
        response = office.get("/api/v1/business-units/", {**query, "format": format_})
        assert response.status_code == 400, (query, format_)
        assert list(response.json()) == list(query)


def test_a_method_the_list_does_not_take_is_405_whatever_the_format(office):
    for format_ in ("csv", "xlsx", "json"):
        response = office.generic("TRACE", f"/api/v1/flags/?format={format_}")
        assert response.status_code == 405, format_


def _measurements(count: int) -> None:
    metrics = [MetricFactory() for _ in range(count // 1000 + 1)]
    start = dt.date(1990, 1, 1)
    Measurement.objects.bulk_create(
        Measurement(
            metric=metrics[i // 1000],
            organization_id=metrics[i // 1000].program.organization_id,
            period_end=start + dt.timedelta(days=i % 1000),
            value=i,
        )
        for i in range(count)
    )


@pytest.mark.parametrize("count", [MAX_ROWS, MAX_ROWS + 1])
def test_up_to_100000_rows(count, admin_client):
    """A superuser sees every organization: 100,000 rows answer, 100,001 are refused."""
    assert MAX_ROWS == 100_000
    _measurements(count)
    response = admin_client.get("/api/v1/measurements/", {"format": "csv"})
    if count > MAX_ROWS:
        assert response.status_code == 400
        assert "100,001 rows" in response.json()["format"][0]
    else:
        assert response.status_code == 200
        assert sum(1 for _ in response.streaming_content) == 1 + MAX_ROWS
