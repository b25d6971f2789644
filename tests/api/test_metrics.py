"""metrics/: guarded changes with change_reason and revisions; measurements upsert."""

import datetime as dt
from decimal import Decimal

import pytest

from metrics.choices import GUARDED_FIELDS
from metrics.models import Measurement, MetricRevision
from tests.factories import (
    ForumFactory,
    ForumSessionFactory,
    MeasurementFactory,
    MetricFactory,
    MetricRevisionFactory,
    PersonFactory,
    ProgramFactory,
)

from .conftest import session_client

pytestmark = pytest.mark.django_db

GUARDED = [
    ("target", "55.5"),
    ("target_on", "2026-06-30"),
    ("incentive_weight", 0),
    ("status", "retired"),
    ("baseline", "42.5"),
    ("baseline_on", "2024-02-01"),
    ("direction", "decrease"),
    ("unit", "points"),
    ("level", "tactical"),
    ("kind", "perception"),
]


@pytest.mark.parametrize(("field", "value"), GUARDED)
def test_a_guarded_change_without_change_reason_is_400_and_changes_nothing(field, value, world, office):
    world.metric.incentive_weight = 20
    world.metric.save()
    url = f"/api/v1/metrics/{world.metric.pk}/"
    response = office.patch(url, {field: value}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["change_reason"]
    assert field in response.json()["change_reason"][0]
    before = getattr(world.metric, field)
    world.metric.refresh_from_db()
    assert getattr(world.metric, field) == before
    assert not MetricRevision.objects.filter(metric=world.metric).exists()


@pytest.mark.parametrize(("field", "value"), GUARDED)
def test_a_guarded_change_with_a_reason_writes_a_revision(field, value, world, office):
    world.metric.incentive_weight = 20
    world.metric.save()
    url = f"/api/v1/metrics/{world.metric.pk}/"
    response = office.patch(url, {field: value, "change_reason": "Agreed at the QBR"}, format="json")
    assert response.status_code == 200, response.json()
    revision = MetricRevision.objects.get(metric=world.metric)
    assert (revision.field, revision.reason, revision.changed_by) == (field, "Agreed at the QBR", None)
    assert "change_reason" not in response.json()


def test_owner_change_needs_a_reason_and_records_the_session_user(world, office_user):
    new_owner = PersonFactory(organization=world.organization)
    client = session_client(office_user)
    url = f"/api/v1/metrics/{world.metric.pk}/"
    assert client.patch(url, {"owner": new_owner.pk}, format="json").status_code == 400
    response = client.patch(url, {"owner": new_owner.pk, "change_reason": "Reorg"}, format="json")
    assert response.status_code == 200
    revision = MetricRevision.objects.get(metric=world.metric)
    assert (revision.field, revision.old_value, revision.new_value) == (
        "owner",
        str(world.person.pk),
        str(new_owner.pk),
    )
    assert revision.changed_by == office_user


def test_approved_in_must_be_a_session_of_the_metrics_program(world, other_world, office):
    url = f"/api/v1/metrics/{world.metric.pk}/"
    elsewhere = ForumSessionFactory(forum=ForumFactory(program=ProgramFactory(organization=world.organization)))
    body = {"target": "65", "change_reason": "QBR"}
    wrong_program = office.patch(url, {**body, "approved_in": elsewhere.pk}, format="json")
    assert wrong_program.status_code == 400
    assert "approved_in" in wrong_program.json()
    other_org = office.patch(url, {**body, "approved_in": other_world.session.pk}, format="json")
    assert other_org.status_code == 400
    assert "does not exist" in other_org.json()["approved_in"][0]
    ok = office.patch(url, {**body, "approved_in": world.session.pk}, format="json")
    assert ok.status_code == 200
    assert MetricRevision.objects.get(metric=world.metric).approved_in == world.session


def test_unguarded_changes_need_no_reason_and_write_no_revision(world, office):
    response = office.patch(f"/api/v1/metrics/{world.metric.pk}/", {"name": "Retention"}, format="json")
    assert response.status_code == 200
    assert not MetricRevision.objects.exists()


def test_the_same_value_again_is_no_change(world, office):
    response = office.patch(f"/api/v1/metrics/{world.metric.pk}/", {"target": "70.0000"}, format="json")
    assert response.status_code == 200
    assert not MetricRevision.objects.exists()


def test_revisions_are_listed_newest_first_read_only_and_scoped(world, other_world, clients):
    old = MetricRevisionFactory(metric=world.metric, field="target", changed_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    new = MetricRevisionFactory(metric=world.metric, field="owner", changed_at=dt.datetime(2024, 2, 1, tzinfo=dt.UTC))
    client = clients["executive"]
    url = f"/api/v1/metrics/{world.metric.pk}/revisions/"
    body = client.get(url).json()
    assert [r["id"] for r in body["results"]] == [new.pk, old.pk]
    assert body["count"] == 2
    assert [r["id"] for r in client.get(url, {"field": "target"}).json()["results"]] == [old.pk]
    assert clients["office"].post(url, {}, format="json").status_code == 405
    assert client.get(f"/api/v1/metrics/{other_world.metric.pk}/revisions/").status_code == 404


def test_a_measured_metric_is_retired_never_deleted(world, office):
    response = office.delete(f"/api/v1/metrics/{world.metric.pk}/")
    assert response.status_code == 400
    assert "retire it instead" in response.json()["detail"]
    assert type(world.metric).objects.filter(pk=world.metric.pk).exists()


def test_the_cascade_rules_are_400s(world, office):
    url = "/api/v1/metrics/"
    operational = MetricFactory(program=world.program, parent=world.metric, level="operational")
    below = {
        "program": world.program.pk,
        "parent": operational.pk,
        "name": "X",
        "level": "strategic",
        "kind": "outcome",
    }
    response = office.post(url, below, format="json")
    assert response.status_code == 400
    assert response.json() == {"parent": ["A strategic metric cannot sit under a operational metric."]}
    other_program = MetricFactory(program=ProgramFactory(organization=world.organization))
    response = office.post(url, {**below, "parent": other_program.pk, "level": "operational"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"parent": [f"Metric {other_program.pk} belongs to another program."]}
    cycle = office.patch(
        f"{url}{world.metric.pk}/",
        {"parent": operational.pk, "level": "operational", "change_reason": "restated"},
        format="json",
    )
    assert cycle.status_code == 400
    assert "cycle" in str(cycle.json())


def test_metric_lists_carry_health_and_latest_value(world, office):
    MeasurementFactory(metric=world.metric, period_end=dt.date(2024, 12, 31), value=Decimal("40"))
    row = office.get("/api/v1/metrics/", {"program": world.program.pk}).json()["results"][0]
    assert (row["latest_value"], row["latest_period_end"], row["health"]) == ("40.0000", "2024-12-31", "off_track")


def test_a_measurement_post_upserts_on_metric_and_period(world, clients):
    client = clients["integration"]
    body = {"metric": world.metric.pk, "period_end": "2024-07-31", "value": 62.123456, "source": "crm"}
    first = client.post("/api/v1/measurements/", body, format="json")
    assert first.status_code == 201
    assert first.json()["value"] == "62.1235"
    again = client.post("/api/v1/measurements/", {**body, "value": 63}, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["value"] == "63.0000"
    row = Measurement.objects.get(pk=first.json()["id"])
    assert [h.value for h in row.history.order_by("history_date")] == [Decimal("62.1235"), Decimal("63.0000")]
    same = client.post("/api/v1/measurements/", {**body, "value": 63}, format="json")
    assert same.status_code == 200
    assert row.history.count() == 2


def test_a_measurement_cannot_move_to_another_metric_or_period(world, office):
    other_metric = MetricFactory(program=world.program)
    url = f"/api/v1/measurements/{world.measurement.pk}/"
    response = office.patch(url, {"metric": other_metric.pk, "period_end": "2024-01-31"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"metric", "period_end"}


def test_a_long_reason_is_kept_whole_in_the_revision_and_the_history(world, office):
    # The 2,000 characters the API allows: history once cut reasons at 100, and PostgreSQL
    # answered a longer one with a 500.
    reason = ("Agreed at the QBR after the benchmark review. " * 43).strip()  # 1,977 characters
    world.metric.incentive_weight = 20
    world.metric.save()
    response = office.patch(
        f"/api/v1/metrics/{world.metric.pk}/", {"target": "55.5", "change_reason": reason}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert MetricRevision.objects.get(metric=world.metric).reason == reason
    assert world.metric.history.latest("history_date").history_change_reason == reason
    too_long = office.patch(
        f"/api/v1/metrics/{world.metric.pk}/", {"target": "56", "change_reason": reason + "x" * 30}, format="json"
    )
    assert too_long.status_code == 400
    assert "2000 characters" in too_long.json()["change_reason"][0]


@pytest.mark.parametrize("field", GUARDED_FIELDS)
def test_revisions_filter_on_every_guarded_field(world, clients, field):
    wanted = MetricRevisionFactory(metric=world.metric, field=field)
    other = "unit" if field != "unit" else "kind"
    MetricRevisionFactory(metric=world.metric, field=other)
    url = f"/api/v1/metrics/{world.metric.pk}/revisions/"
    response = clients["executive"].get(url, {"field": field})
    assert response.status_code == 200, response.content
    assert [r["id"] for r in response.json()["results"]] == [wanted.pk]


def test_revisions_filter_refuses_a_field_that_writes_no_revision(world, clients):
    url = f"/api/v1/metrics/{world.metric.pk}/revisions/"
    response = clients["executive"].get(url, {"field": "name"})
    assert response.status_code == 400 and "field" in response.json()
