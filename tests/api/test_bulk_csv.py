"""measurements/bulk/ as `text/csv`: the JSON path's all-or-nothing rule, errors by line."""

import datetime as dt
from decimal import Decimal

import pytest

from metrics.api.bulk import MAX_ITEMS
from metrics.models import Measurement
from tests.factories import MetricFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/measurements/bulk/"


def post(client, text: str | bytes, encoding="utf-8"):
    body = text if isinstance(text, bytes) else text.encode(encoding)
    return client.post(URL, body, content_type="text/csv")


def lines(metric, n: int, start=dt.date(2023, 1, 1)) -> str:
    rows = [f"{metric.pk},{(start + dt.timedelta(days=i)).isoformat()},{10 + i},crm" for i in range(n)]
    return "metric,period_end,value,source\r\n" + "\r\n".join(rows) + "\r\n"


def test_csv_creates_then_unchanged_then_updates(world, clients):
    client = clients["integration"]
    metric = MetricFactory(program=world.program)
    first = post(client, lines(metric, 3))
    assert first.status_code == 200, first.json()
    assert first.json() == {"created": 3, "updated": 0, "unchanged": 0}
    assert post(client, lines(metric, 3)).json() == {"created": 0, "updated": 0, "unchanged": 3}
    changed = lines(metric, 3).replace(",10,crm", ",99.5,crm")
    assert post(client, changed).json() == {"created": 0, "updated": 1, "unchanged": 2}
    assert Measurement.objects.get(metric=metric, period_end=dt.date(2023, 1, 1)).value == Decimal("99.5")
    assert Measurement.history.filter(metric_id=metric.pk).count() == 4


@pytest.mark.parametrize(
    ("encoding", "prefix"), [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b"")], ids=["utf8", "bom", "1252"]
)
def test_utf8_with_or_without_bom_and_windows_1252(world, office, encoding, prefix):
    metric = MetricFactory(program=world.program)
    text = f"Metric, Period_End ,value,source\n{metric.pk},2024-03-31,42,Zürich café\n"
    response = post(office, prefix + text.encode(encoding))
    assert response.status_code == 200, response.json()
    assert Measurement.objects.get(metric=metric).source == "Zürich café"


def test_source_may_be_left_out_and_columns_come_in_any_order(world, office):
    metric = MetricFactory(program=world.program)
    response = post(office, f"value,metric,period_end\n1.25,{metric.pk},2024-01-31\n")
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0}


def test_an_error_names_the_line_and_nothing_is_written(world, office):
    metric = MetricFactory(program=world.program)
    text = (
        "metric,period_end,value,source\n"
        f"{metric.pk},2024-01-31,1,crm\n"
        "\n"  # a blank line still counts in the numbering
        f'{metric.pk},2024-02-29,"not a number",crm\n'
        f"{metric.pk},2024-01-31,2,crm\n"
        f"{metric.pk},2024-13-01,3,crm\n"
    )
    response = post(office, text)
    assert response.status_code == 400
    assert response.json() == {
        "lines": {
            "4": {"value": ["A number is required."]},
            "5": {"period_end": ["Duplicate of line 2: one value per metric and period_end."]},
            "6": {"period_end": ["Not a valid date."]},
        }
    }
    assert not Measurement.objects.filter(metric=metric).exists()


def test_another_organizations_metric_does_not_exist(world, other_world, office):
    response = post(office, f"metric,period_end,value\n{other_world.metric.pk},2024-01-31,1\n")
    assert response.status_code == 400
    message = f'Invalid pk "{other_world.metric.pk}" - object does not exist.'
    assert response.json() == {"lines": {"2": {"metric": [message]}}}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("metric,period_end", "Line 1: missing column value."),
        ("metric,period_end,value,source,comment", "Line 1: unknown column comment."),
        ("metric,period_end,value,value", "Line 1: repeated column value."),
    ],
)
def test_a_wrong_header_is_refused(world, office, header, message):
    response = post(office, f"{header}\n{world.metric.pk},2024-01-31,1,x,y\n")
    assert response.status_code == 400
    assert response.json()["header"][0].startswith(message)
    assert Measurement.objects.count() == 1  # the world's own


def test_a_line_with_a_cell_too_many_or_too_few(world, office):
    text = f"metric,period_end,value\n{world.metric.pk},2024-01-31,1,extra\n{world.metric.pk},2024-02-29\n"
    response = post(office, text)
    assert response.json() == {
        "lines": {
            "2": {"non_field_errors": ["4 cells; the header has 3."]},
            "3": {"non_field_errors": ["2 cells; the header has 3."]},
        }
    }


def test_undecodable_empty_and_header_only_files(world, office):
    assert "neither UTF-8 nor Windows-1252" in post(office, b"metric,period_end,value\n\x81\x8d,1,2\n").json()["detail"]
    assert post(office, b"").status_code == 400
    assert post(office, "metric,period_end,value\n").json() == {"lines": ["The file has a header and no measurement."]}


@pytest.mark.parametrize("count", [MAX_ITEMS, MAX_ITEMS + 1])
def test_at_most_10000_lines(world, office, count):
    metric = MetricFactory(program=world.program)
    response = post(office, lines(metric, count, start=dt.date(1990, 1, 1)))
    if count > MAX_ITEMS:
        assert response.status_code == 400
        assert Measurement.objects.filter(metric=metric).count() == 0
    else:
        assert response.json()["created"] == MAX_ITEMS


@pytest.mark.parametrize("over", [0, 1])
def test_a_body_over_the_limit_is_413_before_parsing(world, office, settings, over):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    head = "metric,period_end,value\n"
    body = head + "x" * (1000 - len(head) - 1) + "\n" + "y" * over
    assert len(body) == 1000 + over
    response = post(office, body)
    assert response.status_code == (413 if over else 400)
    if over:
        assert response.json() == {"detail": "The request body is 1,001 bytes; the limit is 1,000 bytes."}


def test_the_executive_may_not(world, clients):
    response = post(clients["executive"], lines(world.metric, 1, start=dt.date(2000, 1, 1)))
    assert response.status_code == 403
