"""programs/: earliest_review_on (free on a draft, later only once launched, with a reason) and exit_criteria."""

import datetime as dt

import pytest

from programs.models import Program
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db


def url(program) -> str:
    return f"/api/v1/programs/{program.pk}/"


def test_a_draft_edits_its_review_date_and_exit_criteria_freely(world, office):
    draft = ProgramFactory(organization=world.organization, status="draft", earliest_review_on=dt.date(2027, 1, 1))
    body = {"earliest_review_on": "2026-06-30", "exit_criteria": "Retention below 80% two quarters running."}
    response = office.patch(url(draft), body, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["earliest_review_on"], response.json()["exit_criteria"]) == (
        "2026-06-30",
        body["exit_criteria"],
    )
    assert "change_reason" not in response.json()


def test_activation_fixes_the_default_review_date(world, office):
    draft = ProgramFactory(organization=world.organization, status="draft", started_on=dt.date(2024, 2, 29))
    response = office.post(f"{url(draft)}transition/", {"to": "active", "reason": "go", "force": True}, format="json")
    assert response.status_code == 200, response.json()
    assert office.get(url(draft)).json()["earliest_review_on"] == "2026-02-28"


def test_a_launched_program_moves_its_review_date_later_with_a_reason(world, office):
    program = world.program
    program.earliest_review_on = dt.date(2026, 1, 1)
    program.save()
    later = {"earliest_review_on": "2026-07-01", "change_reason": "Board extended the commitment"}
    response = office.patch(url(program), later, format="json")
    assert response.status_code == 200, response.json()
    program.refresh_from_db()
    assert program.earliest_review_on == dt.date(2026, 7, 1)
    latest = program.history.latest()
    assert "Board extended the commitment" in latest.history_change_reason
    assert latest.history_user is None  # an API key acted: no user row


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"earliest_review_on": "2025-12-31", "change_reason": "sooner"}, "earliest_review_on"),
        ({"earliest_review_on": "2026-07-01"}, "change_reason"),  # the field to send
        ({"earliest_review_on": None, "change_reason": "drop it"}, "earliest_review_on"),
    ],
    ids=["earlier", "no-reason", "removed"],
)
def test_a_launched_program_never_moves_its_review_date_earlier(world, office, body, field):
    program = world.program
    program.earliest_review_on = dt.date(2026, 1, 1)
    program.save()
    response = office.patch(url(program), {**body, "exit_criteria": "changed too"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    program.refresh_from_db()
    assert (program.earliest_review_on, program.exit_criteria) == (dt.date(2026, 1, 1), "")


def test_the_same_date_again_is_no_change(world, office):
    program = world.program
    program.earliest_review_on = dt.date(2026, 1, 1)
    program.save()
    count = Program.history.filter(id=program.pk).count()
    response = office.patch(url(program), {"earliest_review_on": "2026-01-01", "name": "Renamed"}, format="json")
    assert response.status_code == 200
    assert Program.history.filter(id=program.pk).count() == count + 1  # the rename only
