"""measurements/bulk/: up to 10,000 items, all or nothing, errors by index, set-based."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics.api.bulk import MAX_ITEMS
from metrics.models import Measurement
from tests.factories import MetricFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/measurements/bulk/"


def items(metric, n: int, start=dt.date(2023, 1, 1), value=10) -> list[dict]:
    return [
        {
            "metric": metric.pk,
            "period_end": (start + dt.timedelta(days=i)).isoformat(),
            "value": value + i,
            "source": "crm",
        }
        for i in range(n)
    ]


def history(metric):
    return Measurement.history.filter(metric_id=metric.pk)


def test_bulk_creates_updates_and_skips_identical_items_with_history(world, clients):
    client = clients["integration"]
    metric = MetricFactory(program=world.program)
    body = items(metric, 3)
    first = client.post(URL, body, format="json")
    assert first.status_code == 200, first.json()
    assert first.json() == {"created": 3, "updated": 0, "unchanged": 0}
    assert sorted(Measurement.objects.filter(metric=metric).values_list("value", flat=True)) == [
        Decimal("10"),
        Decimal("11"),
        Decimal("12"),
    ]
    assert sorted(history(metric).values_list("history_type", flat=True)) == ["+", "+", "+"]

    again = client.post(URL, body, format="json")
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 3}
    assert history(metric).count() == 3

    body[1]["value"] = "99.5"
    changed = client.post(URL, {"items": body}, format="json")
    assert changed.json() == {"created": 0, "updated": 1, "unchanged": 2}
    row = Measurement.objects.get(metric=metric, period_end=body[1]["period_end"])
    assert row.value == Decimal("99.5")
    assert list(row.history.values_list("history_type", "value", "history_change_reason")) == [
        ("~", Decimal("99.5"), "bulk ingest"),
        ("+", Decimal("11"), "bulk ingest"),
    ]


def test_one_bad_item_writes_nothing_and_names_its_index(world, office):
    metric = MetricFactory(program=world.program)
    body = items(metric, 5)
    body[3]["value"] = "NaN"
    response = office.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"items": {"3": {"value": ["The value must be a finite number (not NaN or Infinity)."]}}}
    assert not Measurement.objects.filter(metric=metric).exists()
    assert not history(metric).exists()


@pytest.mark.parametrize(
    ("item", "errors"),
    [
        ({"period_end": "2024/01/31", "value": 1}, {"period_end": ["Date has wrong format. Use YYYY-MM-DD."]}),
        ({"period_end": "2024-02-30", "value": 1}, {"period_end": ["Not a valid date."]}),
        (
            {"period_end": "2024-01-31", "value": "1e17"},
            {"value": ["The value is out of range (at most 15 digits before the point)."]},
        ),
        (
            {"period_end": "2024-01-31", "value": -1_000_000_000_000_000},
            {"value": ["The value is out of range (at most 15 digits before the point)."]},
        ),
        (
            {"period_end": "2024-01-31", "value": "Infinity"},
            {"value": ["The value must be a finite number (not NaN or Infinity)."]},
        ),
        ({"period_end": "2024-01-31", "value": True}, {"value": ["A finite number is required."]}),
        ({"period_end": "2024-01-31", "value": "abc"}, {"value": ["A number is required."]}),
        ({"period_end": "2024-01-31"}, {"value": ["This field is required."]}),
        (
            {"period_end": "2024-01-31", "value": 1, "source": 5},
            {"source": ["A text of at most 200 characters is required."]},
        ),
        (
            {"period_end": "2024-01-31", "value": 1, "source": "x" * 201},
            {"source": ["A text of at most 200 characters is required."]},
        ),
    ],
)
def test_each_kind_of_bad_item_is_refused_by_index(item, errors, world, office):
    body = items(world.metric, 2) + [{"metric": world.metric.pk, **item}]
    response = office.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"items": {"2": errors}}
    assert Measurement.objects.filter(metric=world.metric).count() == 1  # the world's one


def test_items_that_are_not_objects_or_lack_a_metric(world, office):
    response = office.post(URL, [["not", "an", "object"], {"period_end": "2024-01-31", "value": 1}], format="json")
    assert response.json() == {
        "items": {
            "0": {"non_field_errors": ["Each item must be an object."]},
            "1": {"metric": ["This field is required."]},
        }
    }


def test_a_duplicate_pair_names_both_indexes(world, office):
    body = items(world.metric, 3)
    body.append(dict(body[1]))
    response = office.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "items": {"3": {"period_end": ["Duplicate of item 1: one value per metric and period_end."]}}
    }


def test_a_metric_of_another_organization_is_400_by_index(world, other_world, office):
    body = items(world.metric, 2) + items(other_world.metric, 1)
    response = office.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "items": {"2": {"metric": [f'Invalid pk "{other_world.metric.pk}" - object does not exist.']}}
    }
    assert Measurement.objects.count() == 2  # the two worlds' own rows


def test_size_limits(world, office):
    assert office.post(URL, [], format="json").json() == {"items": ["The list is empty."]}
    too_many = [{"metric": world.metric.pk, "period_end": "2024-01-01", "value": 1}] * (MAX_ITEMS + 1)
    response = office.post(URL, too_many, format="json")
    assert response.status_code == 400
    assert response.json() == {"items": ["At most 10,000 items per request; got 10,001."]}
    assert office.post(URL, {"rows": []}, format="json").status_code == 400


def test_bulk_roles(world, clients, anonymous):
    body = items(world.metric, 1, start=dt.date(2022, 1, 1))
    assert anonymous.post(URL, body, format="json").status_code == 401
    assert clients["executive"].post(URL, body, format="json").status_code == 403
    assert clients["office"].post(URL, body, format="json").status_code == 200


def _count_queries(client, body) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(URL, body, format="json")
    assert response.status_code == 200, response.json()
    return len(ctx.captured_queries)


def test_ten_thousand_items_are_written_with_a_constant_number_of_queries(world, clients):
    client = clients["integration"]
    metrics = [MetricFactory(program=world.program) for _ in range(10)]
    small = [i for m in metrics[:2] for i in items(m, 5)]
    big = [i for m in metrics for i in items(m, 1000, start=dt.date(2000, 1, 1))]
    assert len(big) == MAX_ITEMS
    small_queries = _count_queries(client, small)
    big_queries = _count_queries(client, big)
    if connection.vendor == "postgresql":
        # One statement writes the rows and their history, whatever the item count; the change log
        # adds three (the rows' organization and program, the metrics' names, one insert), and from
        # 5,000 entries two more (its staging table and the COPY into it before the insert).
        assert big_queries <= small_queries + 2
        assert big_queries <= 11
    else:
        # SQLite: Django batches inserts by its 999-variable limit (about 200 rows); still
        # set-based, never a query per item.
        # The change log's entries (13 columns) go 76 to an insert.
        assert big_queries <= small_queries + 2 * (MAX_ITEMS // 99 + 1) + (MAX_ITEMS // 76 + 1)
        assert big_queries < MAX_ITEMS / 30
    assert Measurement.objects.filter(metric__in=metrics).count() == 10 + MAX_ITEMS
    assert Measurement.history.filter(metric_id__in=[m.pk for m in metrics]).count() == 10 + MAX_ITEMS
