"""Measurements carry their metric's organization, and an organization's list reads only its
own rows: the page and its count filter the measurements' own column, in the order of the
index that starts with it (docs/performance.md, "Measurements carry their organization").
The lists' reads are tested together in test_carried_organization_lists.py."""

import datetime as dt
from decimal import Decimal

import pytest

from metrics.measurements import measurements_upsert
from metrics.models import Measurement
from tests.factories import MetricFactory

pytestmark = pytest.mark.django_db


def _post_one(client, metric, day: str, value: str):
    return client.post("/api/v1/measurements/", {"metric": metric.pk, "period_end": day, "value": value}, format="json")


def test_every_api_write_copies_the_metric_organization(world, office):
    assert _post_one(office, world.metric, "2025-01-31", "70").status_code == 201
    bulk = [{"metric": world.metric.pk, "period_end": "2025-02-28", "value": "71"}]
    assert office.post("/api/v1/measurements/bulk/", bulk, format="json").status_code == 200
    csv = f"metric,period_end,value\n{world.metric.pk},2025-03-31,72\n".encode()
    assert office.post("/api/v1/measurements/bulk/", csv, content_type="text/csv").status_code == 200
    assert _post_one(office, world.metric, "2025-03-31", "73").status_code == 200  # an update keeps it

    written = Measurement.objects.filter(metric=world.metric, period_end__year=2025)
    assert sorted((m.period_end.month, m.organization_id) for m in written) == [
        (1, world.organization.pk),
        (2, world.organization.pk),
        (3, world.organization.pk),
    ]
    # Each snapshot (+ and ~) keeps it too, so the history shows the row as it was.
    snapshots = Measurement.history.filter(metric_id=world.metric.pk, period_end__year=2025)
    assert snapshots.count() == 4
    assert set(snapshots.values_list("organization_id", flat=True)) == {world.organization.pk}


def test_one_call_writes_each_row_with_its_own_organization(organization, other_organization):
    ours, theirs = (
        MetricFactory(program__organization=organization),
        MetricFactory(program__organization=other_organization),
    )
    day = dt.date(2025, 1, 31)
    measurements_upsert(
        items=[
            {"metric": ours.pk, "period_end": day, "value": "1"},
            {"metric": theirs.pk, "period_end": day, "value": "2"},
        ]
    )
    assert dict(Measurement.objects.filter(period_end=day).values_list("metric_id", "organization_id")) == {
        ours.pk: organization.pk,
        theirs.pk: other_organization.pk,
    }


def test_a_row_saved_without_it_takes_its_metric_organization(organization):
    metric = MetricFactory(program__organization=organization)
    row = Measurement(metric=metric, period_end=dt.date(2025, 1, 31), value=Decimal("5"))
    row.save()
    row.refresh_from_db()
    assert row.organization_id == organization.pk


def test_a_program_keeps_its_organization_in_the_admin(world, admin_client):
    # Chosen on the add page; shown, not editable, once the program exists (as in the API).
    assert 'name="organization"' in admin_client.get("/admin/programs/program/add/").content.decode()
    page = admin_client.get(f"/admin/programs/program/{world.program.pk}/change/")
    assert page.status_code == 200
    assert 'name="organization"' not in page.content.decode()
    assert world.organization.name in page.content.decode()
