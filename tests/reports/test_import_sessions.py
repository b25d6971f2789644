"""The forum sessions import with attendance: one row per attendee; re-import unchanged."""

import datetime as dt

import pytest
from django.utils import timezone

from accountability.choices import SessionStatus
from accountability.models import Attendance, ForumSession
from tests.factories import ForumFactory, PersonFactory, ProgramFactory

from .conftest import confirm, preview, totals, xlsx_bytes

pytestmark = pytest.mark.django_db
MODEL = "accountability.forumsession"


@pytest.fixture
def forum(organization):
    forum = ForumFactory(program=ProgramFactory(organization=organization, name="Onboarding"), name="Steering")
    PersonFactory(organization=organization, email="ceo@example.com")
    PersonFactory(organization=organization, email="cfo@example.com")
    PersonFactory(organization=organization, email="deputy@example.com")
    return forum


def sessions_csv() -> bytes:
    return (
        b"program,forum,scheduled_for,status,person,present,delegate\n"
        b"Onboarding,Steering,2026-03-05 10:00,held,ceo@example.com,yes,\n"
        b"Onboarding,Steering,2026-03-05 10:00,held,cfo@example.com,no,deputy@example.com\n"
        b"Onboarding,Steering,2026-04-02 10:00,scheduled,,,\n"
    )


def test_sessions_and_attendance_then_reimport_unchanged(office_client, office_user, forum):
    response = preview(office_client, MODEL, "s.csv", sessions_csv())
    assert totals(response) == {"new": 3, "update": 0, "skip": 0, "invalid": 0}
    assert not ForumSession.objects.exists()
    confirm(office_client, MODEL, response)
    held = ForumSession.objects.get(status="held")
    assert timezone.localtime(held.scheduled_for).replace(tzinfo=None) == dt.datetime(2026, 3, 5, 10, 0)
    cfo = Attendance.objects.get(person__email="cfo@example.com")
    assert (cfo.present, cfo.delegate.email) == (False, "deputy@example.com")
    # Each attendance row carries its session's organization, as the attendance list reads it.
    assert set(Attendance.objects.values_list("organization_id", flat=True)) == {forum.program.organization_id}
    assert held.history.first().history_user == office_user
    assert totals(preview(office_client, MODEL, "s.csv", sessions_csv())) == {
        "new": 0, "update": 0, "skip": 3, "invalid": 0
    }  # fmt: skip


def test_errors_by_row_and_nothing_written(office_client, forum):
    rows = [
        ["program", "forum", "scheduled_for", "person", "present"],
        ["Onboarding", "Steering", dt.datetime(2026, 3, 5, 10), "ceo@example.com", "yes"],
        ["Onboarding", "Steering", dt.datetime(2026, 3, 5, 10), "ceo@example.com", "no"],
        ["Onboarding", "Nope", dt.datetime(2026, 3, 5, 10), "", ""],
        ["Onboarding", "Steering", 46086, "", ""],
    ]
    response = preview(office_client, MODEL, "s.xlsx", xlsx_bytes(rows, title="Sessions"))
    errors = {row.number: row.error_dict for row in response.context["result"].invalid_rows}
    assert errors == {
        3: {"person": ["Duplicate of row 2: one row per attendee."]},
        4: {"forum": ["No forum 'Nope' of a program 'Onboarding' in your organizations."]},
        5: {"scheduled_for": ["46086 is an Excel serial number, not a date-time: format the column as a date-time."]},
    }
    assert not ForumSession.objects.exists()


def test_a_row_without_its_forum_still_has_every_other_column_checked(office_client, forum):
    text = b"program,forum,scheduled_for,status\nOnboarding,Nope,2026-03-05 25:00,adjourned\n"
    [row] = preview(office_client, MODEL, "s.csv", text).context["result"].invalid_rows
    assert row.error_dict == {
        "forum": ["No forum 'Nope' of a program 'Onboarding' in your organizations."],
        "scheduled_for": ["Date-time has wrong format. Use YYYY-MM-DD HH:MM."],
        "status": [f"'adjourned' is not one of: {', '.join(SessionStatus.values)}."],
    }
    assert not ForumSession.objects.exists()
