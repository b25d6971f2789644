"""organizations/: the caller's organizations; the office sets CEO, board contact, board recipients, currency."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from programs.models import Organization
from tests.factories import MembershipFactory, OrganizationFactory, PersonFactory

from .conftest import session_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/organizations/"


def detail(organization) -> str:
    return f"{URL}{organization.pk}/"


@pytest.mark.parametrize("role", ["office", "executive", "integration"])
def test_every_role_lists_only_its_organization(role, world, other_world, clients):
    response = clients[role].get(URL)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [world.organization.pk]
    row = response.json()["results"][0]
    assert set(row) == {"id", "name", "slug", "ceo", "board_contact", "board_recipients", "currency", "created_at"}
    assert row["currency"] == "EUR"
    assert clients[role].get(detail(other_world.organization)).status_code == 404


def test_without_credentials_it_is_401(anonymous, world):
    assert anonymous.get(URL).status_code == 401
    assert anonymous.patch(detail(world.organization), {"currency": "USD"}, format="json").status_code == 401


def test_superusers_see_every_organization(world, other_world, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    ids = [row["id"] for row in session_client(admin).get(URL).json()["results"]]
    assert set(ids) == {world.organization.pk, other_world.organization.pk}


def test_the_office_sets_ceo_board_contact_recipients_and_currency(world, office):
    ceo, board, recipient = (PersonFactory(organization=world.organization) for _ in range(3))
    body = {
        "ceo": ceo.pk,
        "board_contact": board.pk,
        "board_recipients": [board.pk, recipient.pk],
        "currency": "gbp",
        "name": world.organization.name,  # read-only: the current value is accepted (test_program_patch.py)
    }
    response = office.patch(detail(world.organization), body, format="json")
    assert response.status_code == 200, response.json()
    org = Organization.objects.get(pk=world.organization.pk)
    assert (org.ceo, org.board_contact, org.currency, org.name) == (ceo, board, "GBP", world.organization.name)
    assert set(org.board_recipients.all()) == {board, recipient}
    assert sorted(response.json()["board_recipients"]) == sorted([board.pk, recipient.pk])


@pytest.mark.parametrize("role", ["executive", "integration"])
def test_other_roles_may_not_change_it(role, world, clients):
    response = clients[role].patch(detail(world.organization), {"currency": "USD"}, format="json")
    assert response.status_code == 403
    assert Organization.objects.get(pk=world.organization.pk).currency == "EUR"


@pytest.mark.parametrize("currency", ["XYZ", "EURO", "", "HRK", 978, None])
def test_currency_must_be_an_iso_4217_code_in_circulation(currency, world, office):
    response = office.patch(detail(world.organization), {"currency": currency}, format="json")
    assert response.status_code == 400
    assert "currency" in response.json()
    assert Organization.objects.get(pk=world.organization.pk).currency == "EUR"


def test_people_of_another_organization_are_refused(world, other_world, office):
    stranger = other_world.person
    for body in ({"ceo": stranger.pk}, {"board_contact": stranger.pk}, {"board_recipients": [stranger.pk]}):
        response = office.patch(detail(world.organization), body, format="json")
        assert response.status_code == 400, body
        assert set(response.json()) == set(body)
    org = Organization.objects.get(pk=world.organization.pk)
    assert (org.ceo, org.board_contact, org.board_recipients.count()) == (None, None, 0)


def test_a_user_of_two_organizations_cannot_cross_them(world, other_world, office_user):
    MembershipFactory(user=office_user, organization=other_world.organization, role="office")
    client = session_client(office_user)
    response = client.patch(detail(world.organization), {"board_recipients": [other_world.person.pk]}, format="json")
    assert response.status_code == 400
    assert "belongs to another organization" in str(response.json())
    ok = client.patch(detail(other_world.organization), {"board_contact": other_world.person.pk}, format="json")
    assert ok.status_code == 200


def test_organizations_are_not_created_or_deleted_here(world, office):
    assert office.post(URL, {"name": "New", "slug": "new"}, format="json").status_code == 405
    assert office.delete(detail(world.organization)).status_code == 405
    assert office.put(detail(world.organization), {"currency": "USD"}, format="json").status_code == 405


def test_the_list_runs_a_constant_number_of_queries(world, office_user):
    client = session_client(office_user)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    world.organization.board_recipients.add(world.person)
    one = count()
    for _ in range(5):
        org = OrganizationFactory()
        MembershipFactory(user=office_user, organization=org, role="office")
        org.board_recipients.add(*(PersonFactory(organization=org) for _ in range(3)))
    assert len(client.get(URL).json()["results"]) == 6
    assert count() == one
