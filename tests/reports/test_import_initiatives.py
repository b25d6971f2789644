"""The initiatives import with progress updates: created, updated, unchanged; errors by row."""

import datetime as dt

import pytest

from programs.choices import InitiativeStatus
from programs.models import Initiative, ProgressUpdate
from tests.factories import InitiativeFactory, PersonFactory, ProgramFactory

from .conftest import confirm, preview, totals, xlsx_bytes

pytestmark = pytest.mark.django_db
MODEL = "programs.initiative"
HEADER = ["program", "name", "owner", "status", "due_on", "reported_on", "rag", "percent_complete", "note"]


@pytest.fixture
def setting(organization):
    program = ProgramFactory(organization=organization, name="Onboarding")
    owner = PersonFactory(organization=organization, email="ana@example.com")
    return program, owner


def rows() -> list[list]:
    return [
        HEADER,
        ["Onboarding", "Digital journey", "ana@example.com", "in_progress", dt.date(2026, 9, 30),
         dt.date(2026, 2, 28), "green", 20, "kick-off"],
        ["Onboarding", "Digital journey", "ana@example.com", "in_progress", dt.date(2026, 9, 30),
         dt.date(2026, 3, 31), "amber", 35, "pilot late"],
        ["Onboarding", "Branch refit", "ana@example.com", "planned", None, None, None, None, None],
    ]  # fmt: skip


def test_initiatives_and_updates_then_reimport_unchanged(office_client, office_user, setting):
    program, owner = setting
    InitiativeFactory(program=program, name="Branch refit", owner=owner, status="in_progress")
    response = preview(office_client, MODEL, "i.xlsx", xlsx_bytes(rows(), title="Initiatives"))
    assert totals(response) == {"new": 2, "update": 1, "skip": 0, "invalid": 0}
    assert not ProgressUpdate.objects.exists()
    confirm(office_client, MODEL, response)
    journey = Initiative.objects.get(name="Digital journey")
    assert journey.percent_complete == 35  # the latest update's
    assert list(journey.updates.order_by("reported_on").values_list("rag", flat=True)) == ["green", "amber"]
    assert Initiative.objects.get(name="Branch refit").status == "planned"
    assert journey.history.first().history_user == office_user

    again = preview(office_client, MODEL, "i.xlsx", xlsx_bytes(rows(), title="Initiatives"))
    assert totals(again) == {"new": 0, "update": 0, "skip": 3, "invalid": 0}


def test_errors_by_row_and_column_and_nothing_written(office_client, setting):
    data = rows()
    data[1][6] = "purple"
    data[2][4] = dt.date(2027, 1, 1)  # disagrees with row 2 on the due date
    data[3][2] = "nobody@example.com"
    response = preview(office_client, MODEL, "i.xlsx", xlsx_bytes(data))
    errors = {row.number: row.error_dict for row in response.context["result"].invalid_rows}
    assert errors == {
        2: {"rag": ["'purple' is not one of: green, amber, red."]},
        3: {"name": ["Row 2 gives this initiative other values."]},
        4: {"owner": ["No person with the email 'nobody@example.com' in the program's organization."]},
    }
    assert not Initiative.objects.exists()


def test_a_percent_in_other_scripts_digits_is_refused_ascii_is_taken(office_client, setting):
    data = rows()[:2]
    data[1][7] = "５０"  # full-width 50: int() would read it
    response = preview(office_client, MODEL, "i.xlsx", xlsx_bytes(data))
    errors = {row.number: row.error_dict for row in response.context["result"].invalid_rows}
    assert errors == {2: {"percent_complete": ["A whole number from 0 to 100 is required."]}}
    data[1][7] = "50"
    assert totals(preview(office_client, MODEL, "i.xlsx", xlsx_bytes(data)))["invalid"] == 0


def test_a_row_without_its_program_still_has_every_other_column_checked(office_client, setting):
    data = rows()[:2]
    data[1][0] = "Nowhere"
    data[1][3] = "someday"
    data[1][6] = "purple"
    response = preview(office_client, MODEL, "i.xlsx", xlsx_bytes(data))
    [row] = response.context["result"].invalid_rows
    assert row.error_dict == {
        "program": ["No program named 'Nowhere' in your organizations."],
        "status": [f"'someday' is not one of: {', '.join(InitiativeStatus.values)}."],
        "rag": ["'purple' is not one of: green, amber, red."],
    }
    assert not Initiative.objects.exists()
