"""History that cannot be erased (SPEC §2, Metric): revisions are never deleted; a metric with
measurements or revisions is retired, never deleted; a measurement may be deleted only within
24 hours of being recorded. Each path (API, admin page, admin bulk action, admin inline,
service, shell) refuses with the rule, and every refusal leaves rows and history unchanged."""

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from metrics.measurements import measurement_delete, measurement_upsert
from metrics.models import MEASUREMENT_DELETE_RULE, REVISION_RULE, Measurement, Metric, MetricRevision
from metrics.services import METRIC_DELETE_RULE, metric_delete
from programs.services import api_key_create
from tests.factories import MeasurementFactory, MetricFactory, MetricRevisionFactory, ProgramFactory
from tests.programs.test_admin import form_data

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    """Rows of every metrics model, history tables included."""
    return {m._meta.label: m._default_manager.count() for m in apps.get_app_config("metrics").get_models()}


def recorded(metric, hours_ago: float, period_end=dt.date(2024, 6, 30)) -> Measurement:
    """A measurement first recorded `hours_ago` (its row and its history row dated then)."""
    measurement, _ = measurement_upsert(metric=metric, period_end=period_end, value=Decimal("61"))
    when = timezone.now() - dt.timedelta(hours=hours_ago)
    Measurement.objects.filter(pk=measurement.pk).update(recorded_at=when)
    Measurement.history.filter(id=measurement.pk).update(history_date=when)
    measurement.refresh_from_db()
    return measurement


@pytest.fixture
def metric(organization):
    return MetricFactory(program=ProgramFactory(organization=organization))


@pytest.fixture
def office_api(organization):
    _, raw = api_key_create(organization=organization, name="office", role="office")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def office_client(client, office_user):
    client.force_login(office_user)
    return client


def admin_url(model: str, view: str, *args) -> str:
    return reverse(f"admin:metrics_{model}_{view}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- revisions --------------------------------------------------------------------------


def test_revisions_are_never_deleted_or_rewritten_from_the_shell(metric):
    revision = MetricRevisionFactory(metric=metric)
    before = counts()
    for attempt in (
        revision.delete,
        MetricRevision.objects.filter(pk=revision.pk).delete,
        lambda: MetricRevision.objects.filter(metric=metric).update(reason="rewritten"),
        lambda: revision.save(),
    ):
        with pytest.raises(ValidationError) as refused:
            attempt()
        assert refused.value.messages == [REVISION_RULE]
    assert counts() == before
    assert MetricRevision.objects.get(pk=revision.pk).reason == revision.reason


def test_a_revised_metric_is_refused_by_the_database_relation_too(metric):
    MetricRevisionFactory(metric=metric)
    before = counts()
    with pytest.raises(ProtectedError):  # on_delete=PROTECT: no path through the ORM takes revisions along
        metric.delete()
    with pytest.raises(ProtectedError):
        Metric.objects.filter(pk=metric.pk).delete()
    with pytest.raises(ValidationError) as refused:
        metric_delete(metric=metric)
    assert refused.value.messages == [METRIC_DELETE_RULE]
    assert counts() == before


def test_the_api_refuses_to_delete_a_revised_or_measured_metric_with_the_rule(metric, office_api):
    revised = metric
    MetricRevisionFactory(metric=revised)
    measured = MetricFactory(program=metric.program)
    recorded(measured, hours_ago=1)
    before = counts()
    for target in (revised, measured):
        response = office_api.delete(f"/api/v1/metrics/{target.pk}/")
        assert response.status_code == 400
        assert response.json() == {"detail": METRIC_DELETE_RULE}
    assert counts() == before
    # The other side: a metric never measured nor revised goes.
    bare = MetricFactory(program=metric.program)
    assert office_api.delete(f"/api/v1/metrics/{bare.pk}/").status_code == 204
    assert not Metric.objects.filter(pk=bare.pk).exists()


def test_measuring_then_deleting_measurement_by_measurement_never_erases_a_metric(metric, office_api):
    """The issue's path: delete the measurements one by one, then the metric."""
    old = recorded(metric, hours_ago=48, period_end=dt.date(2024, 5, 31))
    fresh = recorded(metric, hours_ago=1, period_end=dt.date(2024, 6, 30))
    history = Measurement.history.count()
    assert office_api.delete(f"/api/v1/measurements/{fresh.pk}/").status_code == 204
    assert Measurement.history.count() == history + 1  # the deletion is itself kept
    refused = office_api.delete(f"/api/v1/measurements/{old.pk}/")
    assert (refused.status_code, refused.json()) == (400, {"detail": MEASUREMENT_DELETE_RULE})
    response = office_api.delete(f"/api/v1/metrics/{metric.pk}/")
    assert (response.status_code, response.json()) == (400, {"detail": METRIC_DELETE_RULE})
    assert Metric.objects.filter(pk=metric.pk).exists() and Measurement.objects.filter(pk=old.pk).exists()


# --- measurements: the 24-hour window ------------------------------------------------------


@pytest.mark.parametrize(("hours_ago", "deletable"), [(0, True), (23.9, True), (24.1, False), (24 * 400, False)])
def test_a_measurement_is_deletable_only_within_24_hours_of_being_recorded(metric, office_api, hours_ago, deletable):
    measurement = recorded(metric, hours_ago=hours_ago)
    before = counts()
    response = office_api.delete(f"/api/v1/measurements/{measurement.pk}/")
    if deletable:
        assert response.status_code == 204
        assert not Measurement.objects.filter(pk=measurement.pk).exists()
        assert Measurement.history.filter(id=measurement.pk, history_type="-").exists()
    else:
        assert response.status_code == 400
        assert response.json() == {"detail": MEASUREMENT_DELETE_RULE}
        assert counts() == before


def test_a_correction_does_not_reopen_the_window(metric, office_api):
    measurement = recorded(metric, hours_ago=30)
    corrected, _ = measurement_upsert(metric=metric, period_end=measurement.period_end, value=Decimal("62"))
    assert timezone.now() - corrected.recorded_at < dt.timedelta(minutes=1)  # the row says "just written"
    before = counts()
    response = office_api.delete(f"/api/v1/measurements/{measurement.pk}/")
    assert (response.status_code, response.json()) == (400, {"detail": MEASUREMENT_DELETE_RULE})
    assert counts() == before


def test_the_service_and_the_shell_refuse_an_old_measurement(metric):
    measurement = recorded(metric, hours_ago=25)
    before = counts()
    for attempt in (
        lambda: measurement_delete(measurement=measurement),
        measurement.delete,
        Measurement.objects.filter(metric=metric).delete,
    ):
        with pytest.raises(ValidationError) as refused:
            attempt()
        assert refused.value.messages == [MEASUREMENT_DELETE_RULE]
    assert counts() == before


def test_the_service_deletes_a_fresh_measurement_naming_who(metric, office_user):
    measurement = recorded(metric, hours_ago=2)
    measurement_delete(measurement=measurement, actor=office_user)
    assert Measurement.history.get(id=measurement.pk, history_type="-").history_user == office_user


def test_the_admin_page_and_bulk_action_refuse_an_old_measurement_naming_the_rule(office_client, metric):
    old = recorded(metric, hours_ago=25, period_end=dt.date(2024, 5, 31))
    fresh = recorded(metric, hours_ago=1, period_end=dt.date(2024, 6, 30))
    before = counts()
    for response in (
        office_client.get(admin_url("measurement", "delete", old.pk), follow=True),
        office_client.post(admin_url("measurement", "delete", old.pk), {"post": "yes"}, follow=True),
    ):
        assert messages_of(response) == [f"“{old}” was not deleted: {MEASUREMENT_DELETE_RULE}"]
    bulk = {"action": "delete_selected", "_selected_action": [old.pk, fresh.pk], "post": "yes"}
    response = office_client.post(admin_url("measurement", "changelist"), bulk, follow=True)
    assert messages_of(response) == [f"Nothing was deleted. “{old}”: {MEASUREMENT_DELETE_RULE}"]
    assert counts() == before
    # The fresh one alone goes.
    response = office_client.post(admin_url("measurement", "delete", fresh.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Measurement.objects.filter(pk=fresh.pk).exists()


def test_the_metric_page_inline_refuses_to_delete_an_old_measurement(office_client, metric):
    old = recorded(metric, hours_ago=25)
    url = admin_url("metric", "change", metric.pk)
    data = form_data(office_client.get(url))
    (index,) = [k.split("-")[1] for k, v in data.items() if k.endswith("-id") and v == str(old.pk)]
    data[f"measurements-{index}-DELETE"] = "on"
    before = counts()
    response = office_client.post(url, data)
    assert response.status_code == 200  # the page again, with the refusal
    errors = [str(e) for f in response.context["inline_admin_formsets"] for e in f.formset.non_form_errors()]
    assert errors == [f"“{old}” was not deleted: {MEASUREMENT_DELETE_RULE}"]
    assert counts() == before


def test_the_metric_page_inline_deletes_a_fresh_measurement_through_the_service(office_client, office_user, metric):
    fresh = recorded(metric, hours_ago=1)
    url = admin_url("metric", "change", metric.pk)
    data = form_data(office_client.get(url))
    (index,) = [k.split("-")[1] for k, v in data.items() if k.endswith("-id") and v == str(fresh.pk)]
    data[f"measurements-{index}-DELETE"] = "on"
    assert office_client.post(url, data).status_code == 302
    assert not Measurement.objects.filter(pk=fresh.pk).exists()
    assert Measurement.history.get(id=fresh.pk, history_type="-").history_user == office_user


def test_a_measurement_without_history_counts_from_recorded_at(metric):
    """Rows imported before history existed: `recorded_at` is all there is."""
    measurement = MeasurementFactory(metric=metric, period_end=dt.date(2024, 1, 31))
    Measurement.history.filter(id=measurement.pk).delete()
    Measurement.objects.filter(pk=measurement.pk).update(recorded_at=timezone.now() - dt.timedelta(hours=25))
    with pytest.raises(ValidationError, match="within 24 hours"):
        measurement_delete(measurement=measurement)
