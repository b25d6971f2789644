"""The program page states the earliest review date (as of the page's date) and the exit criteria."""

import datetime as dt
import re

import pytest

from programs.models import Program
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def exec_client(client, executive_user):
    client.force_login(executive_user)
    return client


def line(response, field: str) -> str:
    html = response.content.decode()
    match = re.search(rf'<p data-field="{field}">(.*?)</p>', html, re.S)
    assert match, field
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip()


def test_the_review_date_and_exit_criteria_are_one_line_each(exec_client, organization):
    program = ProgramFactory(
        organization=organization,
        earliest_review_on=dt.date(2026, 1, 1),
        exit_criteria="Retention below 80% for two quarters.",
    )
    page = exec_client.get(f"/dashboard/programs/{program.id}/?as_of=2025-12-31")
    assert line(page, "earliest-review") == (
        "Earliest review 1 Jan 2026 — no pause, cancellation or shorter horizon before then"
    )
    assert line(page, "exit-criteria") == "Exit criteria Retention below 80% for two quarters."
    on_the_day = exec_client.get(f"/dashboard/programs/{program.id}/?as_of=2026-01-01")
    assert line(on_the_day, "earliest-review") == "Earliest review 1 Jan 2026"


def test_the_review_date_is_read_as_of_the_pages_date(exec_client, organization):
    program = ProgramFactory(organization=organization, earliest_review_on=dt.date(2026, 1, 1))
    first = Program.history.filter(id=program.pk).get()
    first.history_date = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    first.save()
    program.earliest_review_on = dt.date(2026, 6, 30)
    program._history_date = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    program.save()
    before = exec_client.get(f"/dashboard/programs/{program.id}/?as_of=2025-02-01")
    after = exec_client.get(f"/dashboard/programs/{program.id}/?as_of=2025-04-01")
    assert line(before, "earliest-review").startswith("Earliest review 1 Jan 2026")
    assert line(after, "earliest-review").startswith("Earliest review 30 Jun 2026")
    assert line(after, "exit-criteria") == "Exit criteria none agreed at launch"
