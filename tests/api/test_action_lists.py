"""The lists that are actions of a resource answer like every list (SPEC §5, REST API):
`flags/{id}/comments/`, `metrics/{id}/revisions/` and `programs/{id}/risk/?history=1`.

`?format=csv` and `?format=xlsx` give the JSON's rows and fields (filters applied, every
page), through the same code as every other list; another organization's flag, metric or
program is a 404 in every format; comments and revisions are pages of `count`, `next`,
`previous`, `results` like every other list.
"""

import datetime as dt
import json

import pytest

from accountability.models import FlagComment
from programs.services import api_key_create
from reports.spreadsheets.renderers import XLSX_MEDIA_TYPE, cell_text
from tests.factories import MetricRevisionFactory, PersonFactory, RiskAssessmentFactory

from .test_spreadsheets import csv_rows, xlsx_rows

pytestmark = pytest.mark.django_db

FORMATS = ("json", "csv", "xlsx")


def comments_url(world) -> str:
    return f"/api/v1/flags/{world.flag.pk}/comments/"


def revisions_url(world) -> str:
    return f"/api/v1/metrics/{world.metric.pk}/revisions/"


def risk_url(world) -> str:
    return f"/api/v1/programs/{world.program.pk}/risk/"


def add_comments(world, count: int) -> None:
    start = dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC)
    FlagComment.objects.bulk_create(
        FlagComment(flag=world.flag, text=f"Comment {i}", created_at=start + dt.timedelta(minutes=i))
        for i in range(count)
    )


@pytest.fixture
def thread(world):
    """A flag's comments by a person, by an API key (with its creator's name) and by nobody
    left; one of them text a spreadsheet would run as a formula."""
    author = PersonFactory(organization=world.organization, name="Ana Costa")
    key, _ = api_key_create(organization=world.organization, name="ERP feed", role="integration")
    at = dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC)
    FlagComment.objects.create(flag=world.flag, author=author, text="On it, with Sales.", created_at=at)
    FlagComment.objects.create(flag=world.flag, author_key=key, text="=1+2 from the feed", created_at=at)
    FlagComment.objects.create(flag=world.flag, text="Who wrote this?\nNobody left.", created_at=at)


@pytest.fixture
def revisions(world):
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    MetricRevisionFactory(metric=world.metric, field="target", old_value="70", new_value="60", changed_at=base)
    MetricRevisionFactory(
        metric=world.metric,
        field="owner",
        old_value="",
        new_value=str(world.person.pk),
        reason="-moved to Sales",
        changed_at=base + dt.timedelta(days=31),
    )


@pytest.fixture
def risk_series(world):
    factors = [{"code": "program_paused", "points": 35, "evidence": {"status": "paused"}}]
    RiskAssessmentFactory(program=world.program, as_of=dt.date(2024, 5, 1), score=10, level="low", factors=[])
    RiskAssessmentFactory(program=world.program, as_of=dt.date(2024, 6, 1), score=35, level="elevated", factors=factors)
    RiskAssessmentFactory(program=world.program, as_of=dt.date(2024, 7, 1), score=60, level="high", factors=factors)


def json_rows(client, url: str, params: dict | None = None) -> list[dict]:
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    body = response.json()
    return body["history"] if "history" in body else body["results"]


def xlsx_expected(value, kind: str):
    """A JSON value as openpyxl reads its cell back (the renderer's typing; an empty text
    is an empty cell)."""
    if value is None or value == "":
        return None
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    if kind == "date":
        return dt.datetime.fromisoformat(value)
    return value


def assert_spreadsheets_are_the_json(client, url: str, params: dict, data: list[dict], name: str, kinds=None):
    assert data
    response = client.get(url, {**params, "format": "csv"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{name}.csv"'
    header, *rows = csv_rows(response)
    assert header == list(data[0])
    assert rows == [[cell_text(item[column]) for column in header] for item in data]

    response = client.get(url, {**params, "format": "xlsx"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == XLSX_MEDIA_TYPE
    sheet = xlsx_rows(response)
    assert list(sheet[0]) == header
    kinds = kinds or {}
    expected = [tuple(xlsx_expected(item[column], kinds.get(column, "text")) for column in header) for item in data]
    # A row ends at its last cell that holds something: pad it to the header's width.
    assert [row + (None,) * (len(header) - len(row)) for row in sheet[1:]] == expected


# --- the JSON's rows and fields, as CSV and XLSX -----------------------------------------------


def test_comments_as_csv_and_xlsx_are_the_json(world, thread, clients):
    client = clients["integration"]  # every role reads
    data = json_rows(client, comments_url(world))
    assert [c["text"] for c in data] == ["On it, with Sales.", "=1+2 from the feed", "Who wrote this?\nNobody left."]
    assert data[1]["author_name"] == "API key “ERP feed”"
    assert_spreadsheets_are_the_json(client, comments_url(world), {}, data, f"flag-{world.flag.pk}-comments")
    header, *rows = csv_rows(client.get(comments_url(world), {"format": "csv"}))
    assert rows[1][header.index("text")] == "'=1+2 from the feed"  # defused, as on every list


def test_revisions_as_csv_and_xlsx_are_the_json_filters_applied(world, revisions, clients):
    client = clients["executive"]
    url = revisions_url(world)
    data = json_rows(client, url)
    assert [r["field"] for r in data] == ["owner", "target"]  # newest first
    name = f"metric-{world.metric.pk}-revisions"
    assert_spreadsheets_are_the_json(client, url, {}, data, name)
    only_target = json_rows(client, url, {"field": "target"})
    assert [r["field"] for r in only_target] == ["target"]
    assert_spreadsheets_are_the_json(client, url, {"field": "target"}, only_target, name)
    oldest_first = json_rows(client, url, {"ordering": "changed_at"})
    assert_spreadsheets_are_the_json(client, url, {"ordering": "changed_at"}, oldest_first, name)


def test_risk_history_as_csv_and_xlsx_is_the_json_series(world, risk_series, clients):
    client = clients["integration"]
    url = risk_url(world)
    data = json_rows(client, url, {"history": "1"})
    assert [(p["as_of"], p["score"]) for p in data] == [("2024-05-01", 10), ("2024-06-01", 35), ("2024-07-01", 60)]
    name = f"program-{world.program.pk}-risk"
    kinds = {"as_of": "date"}  # a date column is a date in XLSX
    assert_spreadsheets_are_the_json(client, url, {"history": "1"}, data, name, kinds)
    header, *rows = csv_rows(client.get(url, {"history": "1", "format": "csv"}))
    assert header == ["as_of", "score", "level", "factors"]
    assert json.loads(rows[1][3]) == data[1]["factors"]  # factors as compact JSON
    # ?as_of= applies to the series as to the JSON.
    until_june = json_rows(client, url, {"history": "1", "as_of": "2024-06-15"})
    assert len(until_june) == 2
    assert_spreadsheets_are_the_json(client, url, {"history": "1", "as_of": "2024-06-15"}, until_june, name, kinds)


def test_a_risk_spreadsheet_without_history_is_a_json_400(world, risk_series, office):
    for format_ in ("csv", "xlsx"):
        for params in ({}, {"history": "0"}):
            response = office.get(risk_url(world), {**params, "format": format_})
            assert response.status_code == 400, (params, format_)
            assert response["Content-Type"] == "application/json"
            assert "history=1" in response.json()["format"][0]


def test_an_empty_list_is_a_header_alone(world, office):
    for url, params in ((comments_url(world), {}), (revisions_url(world), {}), (risk_url(world), {"history": "1"})):
        assert len(csv_rows(office.get(url, {**params, "format": "csv"}))) == 1, url
        assert len(xlsx_rows(office.get(url, {**params, "format": "xlsx"}))) == 1, url


# --- scoping: another organization's flag, metric or program ------------------------------------


def test_another_organizations_flag_metric_or_program_is_404_in_every_format(
    world, other_world, thread, revisions, risk_series, office
):
    FlagComment.objects.create(flag=other_world.flag, text="Theirs.")
    MetricRevisionFactory(metric=other_world.metric)
    RiskAssessmentFactory(program=other_world.program)
    for url, params in (
        (comments_url(other_world), {}),
        (revisions_url(other_world), {}),
        (risk_url(other_world), {"history": "1"}),
        (risk_url(other_world), {}),
    ):
        for format_ in FORMATS:
            response = office.get(url, {**params, "format": format_})
            assert response.status_code == 404, (url, format_)
            assert response["Content-Type"] == "application/json", (url, format_)
    # Theirs never shows in ours.
    assert "Theirs." not in {row[6] for row in csv_rows(office.get(comments_url(world), {"format": "csv"}))[1:]}


# --- errors stay JSON; only GET lists take a spreadsheet format -----------------------------------


def test_errors_of_a_spreadsheet_request_are_json_and_unknown_formats_404(world, revisions, office):
    bad_filter = office.get(revisions_url(world), {"format": "csv", "field": "nope"})
    assert bad_filter.status_code == 400 and bad_filter["Content-Type"] == "application/json"
    assert list(bad_filter.json()) == ["field"]
    for url in (comments_url(world), revisions_url(world)):
        for format_ in ("csv", "xlsx"):
            response = office.get(url, {"format": format_, "page": "0"})
            assert response.status_code == 400, (url, format_)
            assert list(response.json()) == ["page"]
    for url in (comments_url(world), revisions_url(world), risk_url(world)):
        response = office.get(url, {"format": "pdf", "history": "1"})
        assert response.status_code == 404 and response["Content-Type"] == "application/json"
    # A comment is written in JSON only, whatever the format asked for.
    response = office.post(f"{comments_url(world)}?format=csv", {"text": "x"}, format="json")
    assert response.status_code == 404 and not FlagComment.objects.exists()
    # The detail of the resource stays JSON only.
    assert office.get(f"/api/v1/flags/{world.flag.pk}/", {"format": "csv"}).status_code == 404


# --- comments are a page like every list ------------------------------------------------------


def test_comments_are_a_page_like_every_list(world, office):
    add_comments(world, 101)
    url = comments_url(world)
    first = office.get(url, {"page_size": 100}).json()
    assert list(first) == ["count", "next", "previous", "results"]
    assert first["count"] == 101 and len(first["results"]) == 100
    assert first["previous"] is None and "page=2" in first["next"]
    assert first["results"][0]["text"] == "Comment 0"  # oldest first
    last = office.get(url, {"page_size": 100, "page": 2}).json()
    assert [c["text"] for c in last["results"]] == ["Comment 100"] and last["next"] is None
    default = office.get(url).json()
    assert len(default["results"]) == 50 and default["next"]  # the API's default page, as every list
    assert office.get(url, {"page": 4}).status_code == 400  # no page 4 of 50: a 400, as every list
    # A spreadsheet holds every page.
    assert len(csv_rows(office.get(url, {"format": "csv"}))) == 1 + 101
    assert len(xlsx_rows(office.get(url, {"format": "xlsx"}))) == 1 + 101
