"""The one date rule (`programs.dates`): its bounds, and every non-API path that applies it —
the admin's forms, the services that write dates, and the scan's entry points."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accountability.models import ScanRun
from accountability.scans import scan_organization, scan_queue, scan_queue_all
from accountability.tasks import scan_organization_task
from metrics.measurements import measurement_upsert
from metrics.models import Exemption, Measurement
from metrics.services import exemption_grant
from programs.dates import check_sane_dates, check_scan_as_of, date_range_message, is_sane_date, sane_date
from programs.models import Program, ProgressUpdate
from programs.services import progress_update_create
from tests.factories import InitiativeFactory, MetricFactory, PersonFactory, ProgramFactory
from tests.programs.test_admin import form_data

RANGE = "Dates go from 1900-01-01 to 2999-12-31"


@pytest.mark.parametrize(
    ("value", "sane"),
    [
        (dt.date(1899, 12, 31), False),
        (dt.date(1900, 1, 1), True),
        (dt.date(2999, 12, 31), True),
        (dt.date(3000, 1, 1), False),
        (dt.datetime(2999, 12, 31, 23, 59, tzinfo=dt.UTC), True),
        (dt.datetime(3000, 1, 1, 0, 0, tzinfo=dt.UTC), False),
        (dt.datetime(1899, 12, 31, 23, 59, tzinfo=dt.UTC), False),
        (None, True),
    ],
)
def test_the_range_is_1900_to_2999_inclusive(value, sane):
    assert is_sane_date(value) is sane
    if sane:
        sane_date(value)
    else:
        with pytest.raises(ValidationError) as refused:
            sane_date(value)
        assert refused.value.messages == [date_range_message(value)]
        assert refused.value.messages[0].startswith(RANGE)


def test_check_sane_dates_names_each_field_out_of_range():
    with pytest.raises(ValidationError) as refused:
        check_sane_dates(starts_on=dt.date(2024, 1, 1), ends_on=dt.date(9999, 12, 31), due_on=dt.date(1, 1, 1))
    assert refused.value.message_dict == {
        "ends_on": [f"{RANGE}; 9999-12-31 is outside that range."],
        "due_on": [f"{RANGE}; 0001-01-01 is outside that range."],
    }


def test_a_scan_looks_back_to_1900_and_ahead_at_most_366_days():
    today = dt.date(2025, 6, 15)
    assert check_scan_as_of(dt.date(1900, 1, 1), today=today) == dt.date(1900, 1, 1)
    assert check_scan_as_of(dt.date(2026, 6, 16), today=today) == dt.date(2026, 6, 16)  # today + 366
    for day in (dt.date(2026, 6, 17), dt.date(1899, 12, 31), dt.date(9999, 12, 31)):
        with pytest.raises(ValidationError) as refused:
            check_scan_as_of(day, today=today)
        assert refused.value.message_dict == {
            "as_of": [
                f"A scan's as_of goes from 1900-01-01 to 2026-06-16 (today + 366 days); {day} is outside that range."
            ]
        }


# --- the services -------------------------------------------------------------------------


@pytest.mark.django_db
def test_services_that_write_dates_refuse_them_out_of_range(organization):
    initiative = InitiativeFactory(program__organization=organization)
    metric = MetricFactory(program=initiative.program)
    person = PersonFactory(organization=organization)
    before = ProgressUpdate.objects.count(), Exemption.objects.count(), Measurement.objects.count()
    with pytest.raises(ValidationError) as refused:
        progress_update_create(
            initiative=initiative,
            author=initiative.owner,
            reported_on=dt.date(3000, 1, 1),
            rag="green",
            percent_complete=5,
        )
    assert refused.value.message_dict == {"reported_on": [f"{RANGE}; 3000-01-01 is outside that range."]}
    with pytest.raises(ValidationError, match="1899-12-31 is outside"):
        exemption_grant(metric=metric, person=person, reason="star performer", starts_on=dt.date(1899, 12, 31))
    with pytest.raises(ValidationError) as refused:
        measurement_upsert(metric=metric, period_end=dt.date(3000, 1, 31), value=1)
    assert refused.value.message_dict == {"period_end": [f"{RANGE}; 3000-01-31 is outside that range."]}
    assert (ProgressUpdate.objects.count(), Exemption.objects.count(), Measurement.objects.count()) == before
    # The last day of the range is a date like any other.
    measurement_upsert(metric=metric, period_end=dt.date(2999, 12, 31), value=1)
    assert Measurement.objects.count() == before[2] + 1


# --- the admin ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_form_refuses_a_date_out_of_range_with_the_range(client, office_user, organization):
    program = ProgramFactory(organization=organization, started_on=dt.date(2024, 1, 1))
    client.force_login(office_user)
    url = reverse("admin:programs_program_change", args=[program.pk])
    history = Program.history.filter(id=program.pk).count()
    response = client.post(url, form_data(client.get(url), started_on="3000-01-01"))
    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors["started_on"] == [f"{RANGE}; 3000-01-01 is outside that range."]
    program.refresh_from_db()
    assert program.started_on == dt.date(2024, 1, 1)
    assert Program.history.filter(id=program.pk).count() == history


# --- the scan's entry points --------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_refuses_an_as_of_out_of_range_and_scans_nothing(organization):
    with pytest.raises(CommandError) as refused:
        call_command("run_governance_scan", "--as-of", "9999-12-31")
    latest = timezone.localdate() + dt.timedelta(days=366)
    assert str(refused.value) == (
        f"--as-of: A scan's as_of goes from 1900-01-01 to {latest} (today + 366 days); "
        "9999-12-31 is outside that range."
    )
    assert not ScanRun.objects.exists()


@pytest.mark.django_db
def test_the_scan_services_refuse_an_as_of_out_of_range(organization):
    for call in (
        lambda: scan_queue(organization=organization, as_of=dt.date(1, 1, 1)),
        lambda: scan_queue_all(as_of=dt.date(9999, 12, 31)),
        lambda: scan_organization(organization=organization, as_of=dt.date(1899, 12, 31)),
    ):
        with pytest.raises(ValidationError, match="A scan's as_of goes from 1900-01-01"):
            call()
    assert not ScanRun.objects.exists()


@pytest.mark.django_db
def test_a_run_queued_with_an_absurd_as_of_is_closed_failed_saying_why(organization):
    # A row written before the rule existed (or by hand): the worker refuses it, recorded.
    run = ScanRun.objects.create(organization=organization, as_of=dt.date(9999, 12, 31))
    assert scan_organization_task.apply(args=[run.pk]).get() == {"scan_run": run.pk, "status": "failed"}
    run.refresh_from_db()
    assert run.status == "failed" and run.finished_at is not None
    assert run.errors[0]["where"] == "as_of"
    assert "9999-12-31 is outside that range" in run.errors[0]["error"]
