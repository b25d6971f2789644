"""`GET /api/v1/flags/?as_of=D` shows each flag as it was at the end of D (SPEC §2, Time and
evidence): its status on D (`Flag.objects.with_status_on`), its severity and title on D
(`with_severity_on`, from the flag's history), nothing of what came later; without as_of,
the flag as it is now. Every flag carries `closed_on`."""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from programs.dates import day_start
from tests.accountability.flag_story import AFTER, BETWEEN, build_story, late_title
from tests.factories import FlagFactory, UserFactory

from .conftest import key_client

pytestmark = pytest.mark.django_db

RESOLVED_ON = dt.date(2026, 11, 20)
ACKNOWLEDGED_ON = dt.date(2026, 11, 10)


@pytest.fixture
def flags(world):
    user = UserFactory()
    resolved = FlagFactory(
        program=world.program,
        kind="metric_stale",
        subject_type="metric",
        subject_id=world.metric.pk,
        status="resolved",
        first_detected_on=dt.date(2026, 11, 1),
        last_detected_on=dt.date(2026, 11, 19),
        acknowledged_at=day_start(ACKNOWLEDGED_ON) + dt.timedelta(hours=9),
        acknowledged_by=user,
        resolved_at=day_start(RESOLVED_ON) + dt.timedelta(hours=8),
        resolved_by=user,
        resolution_note="condition cleared",
        closed_on=RESOLVED_ON,
    )
    return resolved


def listed(client, **params) -> dict[int, dict]:
    response = client.get("/api/v1/flags/", params)
    assert response.status_code == 200, response.content
    return {row["id"]: row for row in response.json()["results"]}


def test_as_of_before_the_resolution_shows_the_flag_open_on_that_day(flags, clients):
    row = listed(clients["executive"], as_of="2026-11-05")[flags.pk]
    assert row["status"] == "open"
    assert row["resolved_at"] is row["resolved_by"] is row["resolved_by_key"] is row["closed_on"] is None
    assert row["resolution_note"] == ""
    # Acknowledged on 11-10: not yet on 11-05.
    assert row["acknowledged_at"] is row["acknowledged_by"] is None
    assert listed(clients["executive"], open_on="2026-11-05")[flags.pk] == row


def test_as_of_after_the_acknowledgement_shows_it(flags, clients):
    row = listed(clients["executive"], as_of="2026-11-15")[flags.pk]
    assert row["status"] == "acknowledged"
    assert row["acknowledged_at"] is not None and row["acknowledged_by"] == flags.acknowledged_by_id
    assert row["resolved_at"] is None and row["closed_on"] is None and row["resolution_note"] == ""
    # The day before the closing day is the last one it is open.
    assert listed(clients["executive"], as_of="2026-11-19")[flags.pk]["status"] == "acknowledged"


def test_on_or_after_the_closing_day_it_is_not_open(flags, clients):
    assert flags.pk not in listed(clients["executive"], as_of="2026-11-20")
    assert flags.pk not in listed(clients["executive"], open_on="2026-12-31")


def test_without_as_of_the_current_representation_with_closed_on(flags, clients):
    row = listed(clients["executive"])[flags.pk]
    assert row["status"] == "resolved"
    assert row["closed_on"] == "2026-11-20"
    assert row["resolution_note"] == "condition cleared"
    assert row["resolved_at"] is not None and row["acknowledged_at"] is not None
    detail = clients["executive"].get(f"/api/v1/flags/{flags.pk}/").json()
    assert detail == row


def test_the_detail_as_of_a_day_is_the_row_of_the_list_as_of_that_day(flags, clients):
    client = clients["executive"]
    detail = f"/api/v1/flags/{flags.pk}/"
    for day in ("2026-11-05", "2026-11-15", "2026-11-19"):
        assert client.get(detail, {"as_of": day}).json() == listed(client, as_of=day)[flags.pk]
    assert client.get(detail, {"as_of": "2026-11-15"}).json()["status"] == "acknowledged"
    # Closed on 11-20: from that day on it is the flag as stored, resolved.
    current = listed(client)[flags.pk]
    assert client.get(detail, {"as_of": "2026-11-20"}).json() == current
    assert client.get(detail).json() == current


def test_the_detail_before_the_flag_existed_is_a_404_and_a_bad_day_a_400(flags, clients):
    client = clients["executive"]
    detail = f"/api/v1/flags/{flags.pk}/"
    # First detected on 11-01: it is there that day, not the day before.
    assert client.get(detail, {"as_of": "2026-11-01"}).json()["status"] == "open"
    before = client.get(detail, {"as_of": "2026-10-31"})
    assert before.status_code == 404
    expected = f"Flag {flags.pk} was first detected on 2026-11-01, after 2026-10-31: it did not exist yet."
    assert before.json()["detail"] == expected
    for bad in ("2026-13-01", "yesterday", "1899-12-31", ""):
        response = client.get(detail, {"as_of": bad})
        assert response.status_code == 400 and "as_of" in response.json(), bad


def test_status_filter_with_as_of_is_the_status_on_that_day(flags, clients):
    client = clients["executive"]
    assert flags.pk in listed(client, as_of="2026-11-05", status="open")
    assert flags.pk not in listed(client, as_of="2026-11-05", status="acknowledged")
    assert flags.pk in listed(client, as_of="2026-11-15", status="acknowledged")
    assert flags.pk not in listed(client, as_of="2026-11-15", status="resolved")
    assert flags.pk in listed(client, as_of="2026-11-15", live="true")
    assert flags.pk not in listed(client, as_of="2026-11-15", live="false")
    # Without as_of: the current status.
    assert flags.pk in listed(client, status="resolved")
    assert flags.pk not in listed(client, status="open")
    bad = client.get("/api/v1/flags/", {"as_of": "2026-11-05", "status": "gone"})
    assert bad.status_code == 400 and "status" in bad.json()


def test_two_different_days_are_a_400(flags, clients):
    client = clients["executive"]
    response = client.get("/api/v1/flags/", {"as_of": "2026-11-05", "open_on": "2026-11-06"})
    assert response.status_code == 400 and "as_of" in response.json()
    assert client.get("/api/v1/flags/", {"as_of": "2026-11-05", "open_on": "2026-11-05"}).status_code == 200


def test_csv_as_of_a_day(flags, clients):
    response = clients["executive"].get("/api/v1/flags/", {"as_of": "2026-11-05", "format": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(text))}
    row = rows[str(flags.pk)]
    assert "closed_on" in row
    assert row["status"] == "open" and row["resolution_note"] == "" and row["closed_on"] == ""
    current = clients["executive"].get("/api/v1/flags/", {"format": "csv"})
    text = b"".join(current.streaming_content).decode("utf-8-sig")
    row = {r["id"]: r for r in csv.DictReader(io.StringIO(text))}[str(flags.pk)]
    assert row["status"] == "resolved" and row["closed_on"] == "2026-11-20"


def test_another_organizations_key_sees_nothing(flags, other_organization):
    stranger = key_client(other_organization, "office")
    assert flags.pk not in listed(stranger, as_of="2026-11-05")
    assert stranger.get(f"/api/v1/flags/{flags.pk}/").status_code == 404


def test_schema_has_closed_on(clients):
    schema = clients["executive"].get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200, schema.content[:300]
    assert "closed_on" in schema.json()["components"]["schemas"]["Flag"]["properties"]


def _count(client, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/flags/", params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_as_of_list_query_count_is_constant(world, office):
    office.get("/api/v1/people/")  # the key's first use writes last_used_at once
    as_of = {"as_of": "2026-11-05", "page_size": 100}
    small = _count(office, **as_of)
    plain = _count(office, page_size=100)
    for i in range(30):
        FlagFactory(
            program=world.program,
            subject_type="metric",
            subject_id=20_000 + i,
            kind="metric_stale",
            first_detected_on=dt.date(2026, 11, 1),
            acknowledged_at=timezone.now() if i % 2 else None,
        )
    assert _count(office, **as_of) == small == plain
    assert _count(office, status="acknowledged", **as_of) == small


# --- Severity and title as of a day, from real scans (tests/accountability/flag_story.py) ---


@pytest.fixture
def story(organization):
    return build_story(organization)


def test_severity_and_title_as_of_a_day_are_the_scans_of_then(story, clients):
    client, flag, name = clients["executive"], story["late_flag"], story["late"].name
    between = listed(client, as_of=BETWEEN.isoformat())[flag.pk]
    assert (between["severity"], between["title"]) == ("medium", late_title(name, 15))
    assert listed(client, open_on=BETWEEN.isoformat())[flag.pk] == between
    after = listed(client, as_of=AFTER.isoformat())[flag.pk]
    assert (after["severity"], after["title"]) == ("high", late_title(name, 32))
    now = listed(client)[flag.pk]
    assert (now["severity"], now["title"]) == ("high", late_title(name, 41))
    assert listed(client, as_of=timezone.localdate().isoformat())[flag.pk] == now
    # The rest of the row is the flag's, as of the day (status) or stored (detail, evidence).
    assert between["status"] == "open" and between["detail"] == now["detail"]


def test_csv_as_of_a_day_has_the_severity_then(story, clients):
    response = clients["executive"].get("/api/v1/flags/", {"as_of": BETWEEN.isoformat(), "format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    row = {r["id"]: r for r in csv.DictReader(io.StringIO(text))}[str(story["late_flag"].pk)]
    assert (row["severity"], row["title"]) == ("medium", late_title(story["late"].name, 15))


def test_as_of_a_past_day_query_count_is_constant(story, office, organization):
    office.get("/api/v1/people/")  # the key's first use writes last_used_at once
    params = {"as_of": BETWEEN.isoformat(), "page_size": 100}
    small = _count(office, **params)
    build_story(organization, name="Second story")
    assert _count(office, **params) == small == _count(office, page_size=100)


def test_the_detail_as_of_a_day_has_the_severity_and_title_then(story, clients):
    client, flag, name = clients["executive"], story["late_flag"], story["late"].name
    between = client.get(f"/api/v1/flags/{flag.pk}/", {"as_of": BETWEEN.isoformat()}).json()
    assert (between["severity"], between["title"]) == ("medium", late_title(name, 15))
    assert between == listed(client, as_of=BETWEEN.isoformat())[flag.pk]
    now = client.get(f"/api/v1/flags/{flag.pk}/").json()
    assert (now["severity"], now["title"]) == ("high", late_title(name, 41))


def test_another_organization_gets_a_404_for_the_detail_as_of_a_day(story, other_organization):
    stranger = key_client(other_organization, "office")
    response = stranger.get(f"/api/v1/flags/{story['late_flag'].pk}/", {"as_of": BETWEEN.isoformat()})
    assert response.status_code == 404 and "first detected" not in response.json()["detail"]


def test_severity_filter_as_of_a_day_reads_the_severity_then(story, clients):
    """`?severity=` with a day filters on the severity on that day, as the rows show it."""
    client, flag = clients["executive"], story["late_flag"]
    day = {"as_of": BETWEEN.isoformat()}
    assert flag.pk in listed(client, severity="medium", **day)
    assert flag.pk not in listed(client, severity="high", **day)
    assert flag.pk in listed(client, severity="high", as_of=AFTER.isoformat())
    assert flag.pk in listed(client, severity="high") and flag.pk not in listed(client, severity="medium")


def test_ordering_by_severity_as_of_a_day_is_by_the_severity_then(story, clients):
    """On BETWEEN the late flag was medium and the long one high; now both are high."""
    client, late, long = clients["executive"], story["late_flag"], story["long_flag"]

    def order(**params) -> list[int]:
        response = client.get(
            "/api/v1/flags/", {"program": story["program"].pk, "kind": "initiative_overdue", **params}
        )
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert order(as_of=BETWEEN.isoformat(), ordering="-severity,id") == [long.pk, late.pk]
    assert order(as_of=BETWEEN.isoformat(), ordering="severity,id") == [late.pk, long.pk]
    # Now both are high: the tie goes to the id, whichever way severity runs.
    first, second = sorted([late.pk, long.pk])
    assert order(ordering="severity,id") == order(ordering="-severity,id") == [first, second]


def test_ordering_by_severity_is_by_rank_not_spelling(world, clients):
    flags = {
        severity: FlagFactory(
            program=world.program, kind="metric_stale", subject_type="metric", subject_id=30_000 + i, severity=severity
        ).pk
        for i, severity in enumerate(["medium", "critical", "low", "high"])
    }
    client = clients["executive"]

    def severities(ordering: str) -> list[str]:
        response = client.get("/api/v1/flags/", {"program": world.program.pk, "ordering": ordering})
        assert response.status_code == 200, response.content
        return [row["severity"] for row in response.json()["results"] if row["id"] in flags.values()]

    assert severities("-severity") == ["critical", "high", "medium", "low"]
    assert severities("severity") == ["low", "medium", "high", "critical"]
    csv_response = client.get("/api/v1/flags/", {"program": world.program.pk, "ordering": "-severity", "format": "csv"})
    text = b"".join(csv_response.streaming_content).decode("utf-8-sig")
    ids = [int(row["id"]) for row in csv.DictReader(io.StringIO(text)) if int(row["id"]) in flags.values()]
    assert ids == [flags[s] for s in ("critical", "high", "medium", "low")]
    assert client.get("/api/v1/flags/", {"ordering": "-sevrity"}).status_code == 400
