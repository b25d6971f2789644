"""The admin of the governance v2 fields: an organization's board and currency, a program's
earliest review date (later only, with a reason) and exit criteria."""

import datetime as dt

import pytest

from programs.choices import ProgramStatus
from programs.models import Organization, Program
from tests.factories import PersonFactory, ProgramFactory

from .test_admin import admin_url, form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def office_client(client, office_user):
    client.force_login(office_user)
    return client


# --- organization -----------------------------------------------------------------------


def test_the_office_sets_the_board_and_the_currency(office_client, organization):
    board, recipient = PersonFactory(organization=organization), PersonFactory(organization=organization)
    url = admin_url("programs.organization", "change", organization.pk)
    data = form_data(
        office_client.get(url),
        board_contact=str(board.pk),
        board_recipients=[str(board.pk), str(recipient.pk)],
        currency=" usd ",
    )
    response = office_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    org = Organization.objects.get(pk=organization.pk)
    assert (org.board_contact, org.currency) == (board, "USD")
    assert set(org.board_recipients.all()) == {board, recipient}


def test_the_admin_refuses_another_organizations_people_and_unknown_currencies(
    office_client, organization, other_organization
):
    url = admin_url("programs.organization", "change", organization.pk)
    stranger = PersonFactory(organization=other_organization)
    response = office_client.post(url, form_data(office_client.get(url), currency="ABC"))
    assert "ISO 4217" in str(response.context["adminform"].form.errors["currency"])
    # Another tenant's people are not even choices: the office cannot name them.
    response = office_client.post(url, form_data(office_client.get(url), board_contact=str(stranger.pk)))
    assert "board_contact" in response.context["adminform"].form.errors
    assert Organization.objects.get(pk=organization.pk).board_contact is None


# --- program ----------------------------------------------------------------------------


@pytest.fixture
def launched(organization):
    return ProgramFactory(organization=organization, earliest_review_on=dt.date(2026, 1, 1))


def test_the_program_page_shows_the_review_date_and_exit_criteria(office_client, launched):
    page = office_client.get(admin_url("programs.program", "change", launched.pk))
    form = page.context["adminform"].form
    assert {"earliest_review_on", "exit_criteria", "review_change_reason"} <= set(form.fields)
    assert "2026-01-01" in page.content.decode()


def test_a_launched_program_moves_its_review_date_later_with_a_reason(office_client, office_user, launched):
    url = admin_url("programs.program", "change", launched.pk)
    data = form_data(
        office_client.get(url),
        earliest_review_on="2026-09-30",
        review_change_reason="Board extended the commitment",
        exit_criteria="Retention below 80% for two quarters",
    )
    response = office_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    launched.refresh_from_db()
    assert (launched.earliest_review_on, launched.exit_criteria) == (
        dt.date(2026, 9, 30),
        "Retention below 80% for two quarters",
    )
    latest = launched.history.latest()
    assert "Board extended the commitment" in latest.history_change_reason
    assert latest.history_user == office_user


@pytest.mark.parametrize(
    ("moved_to", "reason", "field"),
    [
        ("2025-12-31", "sooner", "earliest_review_on"),
        ("", "drop it", "earliest_review_on"),
        ("2026-03-01", "", "review_change_reason"),
    ],
    ids=["earlier", "removed", "no-reason"],
)
def test_the_admin_refuses_an_earlier_date_or_a_move_without_reason(office_client, launched, moved_to, reason, field):
    url = admin_url("programs.program", "change", launched.pk)
    data = form_data(office_client.get(url), earliest_review_on=moved_to, review_change_reason=reason)
    response = office_client.post(url, data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert Program.objects.get(pk=launched.pk).earliest_review_on == dt.date(2026, 1, 1)


def test_a_draft_edits_its_review_date_freely(office_client, organization):
    program = ProgramFactory(
        organization=organization, status=ProgramStatus.DRAFT, earliest_review_on=dt.date(2027, 1, 1)
    )
    url = admin_url("programs.program", "change", program.pk)
    response = office_client.post(url, form_data(office_client.get(url), earliest_review_on="2026-01-01"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Program.objects.get(pk=program.pk).earliest_review_on == dt.date(2026, 1, 1)
