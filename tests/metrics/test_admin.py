"""The admin writes measurements, exemptions and progress updates through the services the
API calls: the same value rule, history rows with the acting user, the same side effects."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from metrics.models import Exemption, Measurement
from programs.models import Initiative
from tests.factories import (
    ForumFactory,
    ForumSessionFactory,
    InitiativeFactory,
    MeasurementFactory,
    MetricFactory,
    PersonFactory,
    ProgramFactory,
)
from tests.programs.test_admin import form_data

pytestmark = pytest.mark.django_db


def admin_url(label: str, view: str, *args) -> str:
    app, model = label.split(".")
    return reverse(f"admin:{app}_{model}_{view}", args=args)


@pytest.fixture
def office_client(client, office_user):
    client.force_login(office_user)
    return client


@pytest.fixture
def metric(organization):
    return MetricFactory(program=ProgramFactory(organization=organization))


def add_measurement(client, metric, value: str):
    return client.post(
        admin_url("metrics.measurement", "add"),
        {"metric": metric.pk, "period_end": "2024-03-31", "value": value, "source": "survey"},
    )


def test_a_measurement_added_in_the_admin_is_upserted_with_its_history(office_client, metric, office_user):
    assert add_measurement(office_client, metric, "999999999999999").status_code == 302
    row = Measurement.objects.get(metric=metric)
    assert (row.value, row.source) == (Decimal("999999999999999"), "survey")
    assert list(row.history.values_list("history_type", "history_user")) == [("+", office_user.pk)]


def test_the_admin_refuses_a_value_of_1e15_with_the_services_message(office_client, metric):
    response = add_measurement(office_client, metric, "1000000000000000")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["value"] == [
        "The value is out of range (at most 15 digits before the point)."
    ]
    assert not Measurement.objects.exists()


def test_a_correction_keeps_the_key_and_the_old_value_in_history(office_client, metric, office_user):
    row = MeasurementFactory(metric=metric, period_end=dt.date(2024, 3, 31), value=Decimal("60"))
    url = admin_url("metrics.measurement", "change", row.pk)
    data = form_data(office_client.get(url), value="61.5", period_end="2025-01-31")
    assert office_client.post(url, data).status_code == 302
    row.refresh_from_db()
    assert (row.period_end, row.value) == (dt.date(2024, 3, 31), Decimal("61.5"))
    assert Measurement.objects.count() == 1
    latest = row.history.latest()
    assert (latest.history_type, latest.value, latest.history_user_id) == ("~", Decimal("61.5"), office_user.pk)


def test_measurements_and_exemptions_added_on_the_metric_page_go_through_the_services(
    office_client, metric, office_user
):
    url = admin_url("metrics.metric", "change", metric.pk)
    person = PersonFactory(organization=metric.program.organization)
    data = form_data(
        office_client.get(url),
        **{
            "measurements-TOTAL_FORMS": "1",
            "measurements-0-period_end": "2024-04-30",
            "measurements-0-value": "12.3456",
            "measurements-0-source": "crm",
            "exemptions-TOTAL_FORMS": "1",
            "exemptions-0-person": str(person.pk),
            "exemptions-0-reason": "Top seller",
            "exemptions-0-starts_on": "2024-01-01",
        },
    )
    response = office_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    row = Measurement.objects.get(metric=metric)
    assert row.value == Decimal("12.3456")
    assert row.history.get().history_user == office_user
    assert Exemption.objects.get(metric=metric).person == person


def test_a_progress_update_added_on_the_initiative_page_moves_its_percent(office_client, organization):
    initiative = InitiativeFactory(program=ProgramFactory(organization=organization), percent_complete=10)
    url = admin_url("programs.initiative", "change", initiative.pk)
    data = form_data(
        office_client.get(url),
        **{
            "updates-TOTAL_FORMS": "1",
            "updates-0-reported_on": "2024-05-01",
            "updates-0-rag": "amber",
            "updates-0-percent_complete": "45",
            "updates-0-author": str(initiative.owner_id),
            "updates-0-note": "on track again",
        },
    )
    response = office_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Initiative.objects.get(pk=initiative.pk).percent_complete == 45


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("baseline", "55"),
        ("baseline_on", "2024-02-01"),
        ("direction", "decrease"),
        ("unit", "pts"),
        ("kind", "perception"),
    ],
)
def test_the_admin_asks_the_reason_for_the_definition_fields(office_client, metric, office_user, field, value):
    url = admin_url("metrics.metric", "change", metric.pk)
    refused = office_client.post(url, form_data(office_client.get(url), **{field: value}))
    assert refused.status_code == 200
    assert "needs a reason" in str(refused.context["adminform"].form.errors["change_reason"])
    assert not metric.revisions.exists()
    data = form_data(office_client.get(url), **{field: value, "change_reason": "Restated by Finance"})
    assert office_client.post(url, data).status_code == 302
    revision = metric.revisions.get()
    assert (revision.field, revision.reason, revision.changed_by) == (field, "Restated by Finance", office_user)


def test_approved_in_offers_only_held_sessions_of_the_program_up_to_today(office_client, metric):
    forum = ForumFactory(program=metric.program)
    held = ForumSessionFactory(forum=forum, scheduled_for=dt.datetime(2024, 3, 1, 9, tzinfo=dt.UTC))
    ForumSessionFactory(forum=forum, scheduled_for=dt.datetime(2024, 4, 1, 9, tzinfo=dt.UTC), status="cancelled")
    ForumSessionFactory(forum=forum, scheduled_for=dt.datetime(2999, 1, 1, 9, tzinfo=dt.UTC))  # not yet
    ForumSessionFactory(scheduled_for=dt.datetime(2024, 3, 1, 9, tzinfo=dt.UTC))  # another program's
    form = office_client.get(admin_url("metrics.metric", "change", metric.pk)).context["adminform"].form
    assert list(form.fields["approved_in"].queryset) == [held]
