"""GET changes/: every role reads its organization's change log (SPEC §2: integration =
"read; write ..."), never another organization's; the log stays read-only."""

import pytest

from programs.changes import Change
from tests.factories import MembershipFactory, PersonFactory, UserFactory

from .conftest import key_client, session_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/changes/"
ROLES = ("office", "executive", "integration")


@pytest.fixture
def entries(organization, other_organization):
    """A logged change in each organization (a person created through the API)."""
    for org, name in ((organization, "Ours"), (other_organization, "Theirs")):
        response = key_client(org, "office").post("/api/v1/people/", {"name": name}, format="json")
        assert response.status_code == 201, response.json()
    return (
        Change.objects.filter(organization=organization).latest("id"),
        Change.objects.filter(organization=other_organization).latest("id"),
    )


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_its_organizations_log_with_a_key(role, organization, entries):
    ours, theirs = entries
    client = key_client(organization, role)
    response = client.get(URL, {"page_size": 100})
    assert response.status_code == 200
    results = response.json()["results"]
    assert ours.pk in {r["id"] for r in results}
    assert {r["organization"] for r in results} == {organization.pk}
    assert client.get(f"{URL}{ours.pk}/").status_code == 200
    # Another organization's entry: not listed, 404 by id, and filters do not reach it.
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert client.get(URL, {"object_id": theirs.object_id, "model": "person"}).json()["count"] == 0


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_its_organizations_log_with_a_session(role, organization, entries):
    ours, theirs = entries
    user = UserFactory()
    MembershipFactory(user=user, organization=organization, role=role)
    client = session_client(user)
    ids = {r["id"] for r in client.get(URL, {"page_size": 100}).json()["results"]}
    assert ours.pk in ids and theirs.pk not in ids
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_the_log_is_read_only_for_every_role(role, organization, entries):
    ours, _ = entries
    client = key_client(organization, role)
    count = Change.objects.count()
    # 405 for the office; the others are refused by role first (403), as on every read-only list.
    refused = 405 if role == "office" else 403
    assert client.post(URL, {}, format="json").status_code == refused
    assert client.patch(f"{URL}{ours.pk}/", {"reason": "x"}, format="json").status_code == refused
    assert client.delete(f"{URL}{ours.pk}/").status_code == refused
    assert Change.objects.filter(pk=ours.pk, reason=ours.reason).exists()
    assert Change.objects.count() == count


def test_a_user_with_roles_in_two_organizations_reads_both_logs(organization, other_organization, entries):
    ours, theirs = entries
    user = UserFactory()
    MembershipFactory(user=user, organization=organization, role="integration")
    MembershipFactory(user=user, organization=other_organization, role="executive")
    PersonFactory(organization=other_organization)
    ids = {r["id"] for r in session_client(user).get(URL, {"page_size": 100}).json()["results"]}
    assert {ours.pk, theirs.pk} <= ids


def test_without_credentials_it_is_401(entries):
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code == 401
