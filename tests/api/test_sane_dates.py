"""Dates are sane (SPEC §2): every date the API stores or filters on lies in 1900-01-01..2999-12-31,
and a scan's as_of in 1900-01-01..today + 366 days; anything else is a 400 that says the range,
and nothing is written."""

import datetime as dt

import pytest
from django.utils import timezone

from accountability.models import ForumSession, ScanRun
from metrics.models import Measurement
from programs.models import Program

pytestmark = pytest.mark.django_db

RANGE = "Dates go from 1900-01-01 to 2999-12-31"


def program_state(program) -> tuple:
    program.refresh_from_db()
    return program.started_on, Program.history.filter(id=program.pk).count()


@pytest.mark.parametrize("day", ["9999-12-31", "3000-01-01", "1899-12-31", "0001-01-01"])
def test_patching_a_program_to_an_absurd_start_is_400_with_the_range_and_writes_nothing(world, office, day):
    before = program_state(world.program)
    response = office.patch(f"/api/v1/programs/{world.program.pk}/", {"started_on": day}, format="json")
    assert response.status_code == 400
    assert response.json() == {"started_on": [f"{RANGE}; {day} is outside that range."]}
    assert program_state(world.program) == before


@pytest.mark.parametrize("day", ["1900-01-01", "2999-12-31"])
def test_the_first_and_last_day_of_the_range_are_accepted(world, office, day):
    response = office.patch(f"/api/v1/programs/{world.program.pk}/", {"started_on": day}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["started_on"] == day


@pytest.mark.parametrize(
    ("path", "field", "body"),
    [
        ("stages", "ends_on", {"ends_on": "3000-01-01"}),
        ("initiatives", "due_on", {"due_on": "3000-01-01"}),
        ("metrics", "target_on", {"target_on": "3000-01-01", "change_reason": "later"}),
        ("exemptions", "starts_on", {"starts_on": "1899-12-31"}),
        ("forums", "started_on", {"started_on": "1899-12-31"}),
        ("action-items", "due_on", {"due_on": "3000-01-01"}),
        ("escalations", "raised_on", {"raised_on": "1899-12-31"}),
        ("sessions", "scheduled_for", {"scheduled_for": "3000-01-01T09:00:00Z"}),
    ],
)
def test_every_stored_date_is_held_to_the_range(world, office, path, field, body):
    row = {
        "stages": world.stage,
        "initiatives": world.initiative,
        "metrics": world.metric,
        "exemptions": world.exemption,
        "forums": world.forum,
        "action-items": world.action_item,
        "escalations": world.escalation,
        "sessions": world.session,
    }[path]
    before = getattr(type(row).objects.get(pk=row.pk), field)
    response = office.patch(f"/api/v1/{path}/{row.pk}/", body, format="json")
    assert response.status_code == 400
    assert RANGE in response.json()[field][0]
    assert getattr(type(row).objects.get(pk=row.pk), field) == before


def test_a_session_just_inside_the_range_is_accepted(world, office):
    response = office.patch(
        f"/api/v1/sessions/{world.session.pk}/", {"scheduled_for": "2999-12-31T23:00:00Z"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert ForumSession.objects.get(pk=world.session.pk).scheduled_for.year == 2999


def test_measurements_single_and_bulk_refuse_periods_outside_the_range(world, office):
    before = Measurement.objects.count(), Measurement.history.count()
    single = office.post(
        "/api/v1/measurements/",
        {"metric": world.metric.pk, "period_end": "3000-01-31", "value": "1"},
        format="json",
    )
    assert single.status_code == 400
    assert single.json() == {"period_end": [f"{RANGE}; 3000-01-31 is outside that range."]}
    items = [
        {"metric": world.metric.pk, "period_end": "2999-12-31", "value": 1},
        {"metric": world.metric.pk, "period_end": "1899-12-31", "value": 2},
    ]
    bulk = office.post("/api/v1/measurements/bulk/", items, format="json")
    assert bulk.status_code == 400
    assert bulk.json() == {"items": {"1": {"period_end": [f"{RANGE}; 1899-12-31 is outside that range."]}}}
    assert (Measurement.objects.count(), Measurement.history.count()) == before


@pytest.mark.parametrize(
    "query",
    [
        "measurements/?period_end_after=3000-01-01",
        "flags/?open_on=1899-12-31",
        "sessions/?scheduled_for_before=3000-01-01",
        "dashboard/?as_of=3000-01-01",
        "programs/{program}/risk/?as_of=1899-12-31",
    ],
)
def test_date_filters_and_as_of_reads_outside_the_range_are_400(world, office, query):
    response = office.get("/api/v1/" + query.format(program=world.program.pk))
    assert response.status_code == 400
    (messages,) = response.json().values()
    assert RANGE in messages[0]


def test_a_scan_as_of_an_absurd_date_is_400_and_queues_nothing(world, office):
    today = timezone.localdate()
    latest = today + dt.timedelta(days=366)
    for day in ("9999-12-31", (latest + dt.timedelta(days=1)).isoformat(), "1899-12-31", "0001-01-01"):
        response = office.post("/api/v1/scans/", {"as_of": day}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "as_of": [
                f"A scan's as_of goes from 1900-01-01 to {latest} (today + 366 days); {day} is outside that range."
            ]
        }
    assert not ScanRun.objects.exists()


@pytest.mark.parametrize("offset", [366, 0])
def test_a_scan_up_to_a_year_and_a_day_ahead_is_queued(world, office, offset):
    day = timezone.localdate() + dt.timedelta(days=offset)
    response = office.post("/api/v1/scans/", {"as_of": day.isoformat()}, format="json")
    assert response.status_code == 202
    assert ScanRun.objects.get().as_of == day


def test_a_scan_on_the_first_day_of_the_range_is_queued(world, office):
    response = office.post("/api/v1/scans/", {"as_of": "1900-01-01"}, format="json")
    assert response.status_code == 202
