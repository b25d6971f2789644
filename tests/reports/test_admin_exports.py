"""Every admin list exports what it shows (columns, filters, scoping) to CSV and XLSX."""

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse
from openpyxl import load_workbook

from reports.admin import EXPORTING_APPS
from tests.api.conftest import build_world
from tests.factories import (
    ForumFactory,
    MeasurementFactory,
    MetricFactory,
    ProgramFactory,
    RoadmapStageFactory,
)

pytestmark = pytest.mark.django_db

#: An HTML tag or entity, which no exported cell may hold (admin functions build HTML).
HTML = re.compile(r"<[a-zA-Z/!]|&[a-z]+;|&#")
MODELS = sorted(
    f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry if m._meta.app_label in EXPORTING_APPS
)


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def worlds(organization, other_organization):
    return build_world(organization), build_world(other_organization)


@pytest.mark.parametrize("label", MODELS)
def test_every_list_exports_its_columns_and_rows(office_client, worlds, label):
    app, model = label.split(".")
    page = office_client.get(reverse(f"admin:{app}_{model}_changelist"))
    assert page.status_code == 200
    assert b'class="export-csv"' in page.content
    shown = page.context["cl"]
    headers = [str(h["text"]) for h in page.context["result_headers"] if "action-checkbox" not in h["class_attrib"]]

    rows = read_csv(office_client.get(reverse(f"admin:{app}_{model}_export", args=["csv"])))
    assert [h.strip() for h in rows[0]] == [h.strip() for h in headers]
    assert len(rows) - 1 == shown.result_count

    assert not [cell for row in rows for cell in row if HTML.search(cell)]

    book = office_client.get(reverse(f"admin:{app}_{model}_export", args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(b"".join(book.streaming_content)), read_only=True).worksheets[0]
    cells = [value for row in sheet.iter_rows(values_only=True) for value in row]
    assert sum(1 for _ in sheet.iter_rows()) == len(rows)
    assert not [value for value in cells if isinstance(value, str) and HTML.search(value)]


def _ready_program(organization, name: str):
    """A draft program meeting every condition for going live (tests/programs/test_readiness.py)."""
    program = ProgramFactory(organization=organization, name=name, status="draft")
    ForumFactory(program=program)
    MetricFactory(program=program, level="strategic", kind="outcome")
    RoadmapStageFactory(program=program, sequence=1, budget=50000)
    assert program.readiness == []
    return program


def test_the_programs_ready_column_exports_yes_and_no_never_html(office_client, organization):
    """The list shows an icon (`boolean=True`); the files say yes or no, in CSV and XLSX alike."""
    _ready_program(organization, "Ready R&D <pilot>")
    ProgramFactory(organization=organization, name="Not ready", customer_vision="")
    url = "admin:programs_program_export"

    rows = read_csv(office_client.get(reverse(url, args=["csv"])))
    ready = rows[0].index("ready")
    assert {row[0]: row[ready] for row in rows[1:]} == {"Ready R&D <pilot>": "yes", "Not ready": "no"}
    assert not [cell for row in rows[1:] for cell in row[1:] if HTML.search(cell)]

    book = office_client.get(reverse(url, args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(b"".join(book.streaming_content)), read_only=True).worksheets[0]
    header, *values = sheet.iter_rows(values_only=True)
    ready = header.index("ready")
    assert {row[0]: row[ready] for row in values} == {"Ready R&D <pilot>": "yes", "Not ready": "no"}


def test_filters_and_search_apply_and_other_organizations_never(office_client, worlds):
    mine, theirs = worlds
    metric = MetricFactory(program=ProgramFactory(organization=mine.organization), name="Exported")
    for day in range(3):
        MeasurementFactory(metric=metric, period_end=dt.date(2025, 1, 1 + day), value=Decimal(day))
    url = reverse("admin:metrics_measurement_export", args=["csv"])
    everything = read_csv(office_client.get(url))
    assert len(everything) - 1 == 4  # the world's one and these three; none of the other organization's
    filtered = read_csv(office_client.get(url, {"q": "Exported"}))
    assert len(filtered) - 1 == 3
    assert {row[0] for row in filtered[1:]} == {"Exported"}
    by_program = read_csv(office_client.get(url, {"metric__program__id__exact": metric.program.pk}))
    assert len(by_program) - 1 == 3
    page = office_client.get(reverse("admin:metrics_measurement_changelist"), {"q": "Exported"})
    assert b"export/csv/?q=Exported" in page.content  # the links carry the list's filters
    assert theirs.measurement.metric.name not in {row[0] for row in everything[1:]}


def test_bad_filters_are_a_400(office_client, worlds):
    response = office_client.get(reverse("admin:metrics_measurement_export", args=["csv"]), {"nope__in": "x"})
    assert response.status_code in (302, 400)


def test_an_export_reads_a_bounded_number_of_queries(office_client, worlds, django_assert_max_num_queries):
    mine, _ = worlds
    for i in range(30):
        MeasurementFactory(metric=mine.metric, period_end=dt.date(2020, 1, 1) + dt.timedelta(days=i))
    with django_assert_max_num_queries(15):
        response = office_client.get(reverse("admin:metrics_measurement_export", args=["csv"]))
        assert len(read_csv(response)) == 32
