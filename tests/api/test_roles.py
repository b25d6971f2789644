"""Every resource × every role: allowed, 401, 403, 404 across organizations, 400 for
another organization's id in a body (and nothing written)."""

import pytest

from .conftest import session_client
from .resources import DELETABLE, RESOURCES, ROLES, UPDATABLE, WRITABLE

pytestmark = pytest.mark.django_db

URL = "/api/v1/{}/"


def detail(resource, pk) -> str:
    return f"/api/v1/{resource.path}/{pk}/"


@pytest.mark.parametrize("resource", RESOURCES, ids=str)
@pytest.mark.parametrize("role", ROLES)
def test_every_role_lists_and_reads_only_its_organization(resource, role, world, other_world, clients):
    response = clients[role].get(URL.format(resource.path), {"page_size": 1000})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    ids = {row["id"] for row in body["results"]}
    assert getattr(world, resource.attr).pk in ids
    assert getattr(other_world, resource.attr).pk not in ids

    assert clients[role].get(detail(resource, getattr(world, resource.attr).pk)).status_code == 200
    other = clients[role].get(detail(resource, getattr(other_world, resource.attr).pk))
    assert other.status_code == 404
    assert other.json()["detail"].endswith("matches the given query.")


@pytest.mark.parametrize("resource", RESOURCES, ids=str)
def test_without_credentials_every_action_is_401(resource, world, anonymous):
    pk = getattr(world, resource.attr).pk
    responses = [
        anonymous.get(URL.format(resource.path)),
        anonymous.get(detail(resource, pk)),
        anonymous.post(URL.format(resource.path), {}, format="json"),
        anonymous.patch(detail(resource, pk), {}, format="json"),
        anonymous.delete(detail(resource, pk)),
    ]
    # Authentication comes first: even methods the resource lacks answer 401, not 405.
    assert [r.status_code for r in responses] == [401] * 5
    assert all(r.headers["WWW-Authenticate"] == "Bearer" for r in responses)
    assert responses[0].json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize("resource", WRITABLE, ids=str)
@pytest.mark.parametrize("role", ROLES)
def test_create_is_allowed_to_the_spec_roles_only(resource, role, world, clients):
    model = type(getattr(world, resource.attr))
    before = model.objects.count()
    response = clients[role].post(URL.format(resource.path), resource.create(world), format="json")
    if role in resource.create_roles:
        assert response.status_code == 201, response.json()
        assert model.objects.count() == before + 1
        assert response.json()["id"]
    else:
        assert response.status_code == 403, response.json()
        assert "role" in response.json()["detail"]
        assert model.objects.count() == before


@pytest.mark.parametrize("resource", WRITABLE, ids=str)
def test_an_id_of_another_organization_in_a_body_is_400_and_writes_nothing(resource, world, other_world, office):
    model = type(getattr(world, resource.attr))
    before = model.objects.count()
    response = office.post(URL.format(resource.path), resource.cross(world, other_world), format="json")
    assert response.status_code == 400, response.json()
    message = str(response.json())
    assert "does not exist" in message
    assert model.objects.count() == before


@pytest.mark.parametrize("resource", UPDATABLE, ids=str)
@pytest.mark.parametrize("role", ROLES)
def test_update_is_allowed_to_the_spec_roles_only(resource, role, world, clients):
    row = getattr(world, resource.attr)
    body = resource.update(world)
    response = clients[role].patch(detail(resource, row.pk), body, format="json")
    if role in resource.update_roles:
        assert response.status_code == 200, response.json()
        for name, value in body.items():
            assert str(response.json()[name]).startswith(str(value).rstrip("0").rstrip(".")), (name, response.json())
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("resource", UPDATABLE, ids=str)
def test_updating_another_organizations_row_is_404(resource, world, other_world, office):
    row = getattr(other_world, resource.attr)
    response = office.patch(detail(resource, row.pk), resource.update(other_world), format="json")
    assert response.status_code == 404


@pytest.mark.parametrize("resource", UPDATABLE, ids=str)
def test_a_patch_cannot_point_a_row_at_another_organization(resource, world, other_world, office):
    row = getattr(world, resource.attr)
    body = resource.cross(world, other_world)
    # Only the reference fields: moving between parents is refused separately.
    refs = {k: v for k, v in body.items() if isinstance(v, int | list) and k not in ("sequence", "present")}
    response = office.patch(detail(resource, row.pk), refs, format="json")
    assert response.status_code == 400, response.json()


@pytest.mark.parametrize("resource", DELETABLE, ids=str)
@pytest.mark.parametrize("role", ROLES)
def test_delete_is_allowed_to_the_spec_roles_only(resource, role, world, clients):
    row = resource.fresh(world)
    response = clients[role].delete(detail(resource, row.pk))
    if role in resource.delete_roles:
        assert response.status_code == 204
        assert not type(row).objects.filter(pk=row.pk).exists()
    else:
        assert response.status_code == 403
        assert type(row).objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("resource", DELETABLE, ids=str)
def test_deleting_another_organizations_row_is_404(resource, world, other_world, office):
    row = resource.fresh(other_world)
    assert office.delete(detail(resource, row.pk)).status_code == 404
    assert type(row).objects.filter(pk=row.pk).exists()


def test_session_users_get_the_roles_of_their_membership(world, office_user, executive_user, integration_user):
    body = {"program": world.program.pk, "name": "Callback service", "owner": world.person.pk}
    assert session_client(office_user).post("/api/v1/initiatives/", body, format="json").status_code == 201
    assert session_client(executive_user).post("/api/v1/initiatives/", body, format="json").status_code == 403
    assert session_client(integration_user).post("/api/v1/initiatives/", body, format="json").status_code == 403
    assert session_client(executive_user).get("/api/v1/initiatives/").json()["count"] == 2


def test_a_user_without_membership_sees_nothing_and_writes_nothing(world, django_user_model):
    stranger = django_user_model.objects.create_user("stranger", password="pw-for-tests-only")
    client = session_client(stranger)
    assert client.get("/api/v1/programs/").json()["count"] == 0
    assert client.get(f"/api/v1/programs/{world.program.pk}/").status_code == 404
    assert client.post("/api/v1/business-units/", {"name": "X"}, format="json").status_code == 403


def test_superusers_see_every_organization(world, other_world, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    ids = {p["id"] for p in session_client(admin).get("/api/v1/programs/").json()["results"]}
    assert {world.program.pk, other_world.program.pk} <= ids


def test_a_user_of_two_organizations_names_the_organization_on_create(world, other_world, office_user):
    from tests.factories import MembershipFactory

    MembershipFactory(user=office_user, organization=other_world.organization, role="office")
    client = session_client(office_user)
    missing = client.post("/api/v1/business-units/", {"name": "Claims"}, format="json")
    assert missing.status_code == 400
    assert "organization" in missing.json()
    named = client.post(
        "/api/v1/business-units/", {"name": "Claims", "organization": other_world.organization.pk}, format="json"
    )
    assert named.status_code == 201
    assert named.json()["organization"] == other_world.organization.pk
    # Both organizations are the caller's, yet one write may not mix them.
    mixed = client.post(
        "/api/v1/initiatives/",
        {"program": world.program.pk, "name": "Mixed", "owner": other_world.person.pk},
        format="json",
    )
    assert mixed.status_code == 400
    assert mixed.json() == {"owner": [f"Person {other_world.person.pk} belongs to another organization."]}


def test_roles_are_per_organization_for_a_user_of_two(world, other_world, office_user):
    from tests.factories import MembershipFactory

    MembershipFactory(user=office_user, organization=other_world.organization, role="executive")
    client = session_client(office_user)
    body = {"program": other_world.program.pk, "name": "Elsewhere", "owner": other_world.person.pk}
    assert client.post("/api/v1/initiatives/", body, format="json").status_code == 403
    assert client.patch(f"/api/v1/programs/{other_world.program.pk}/", {"name": "X"}, format="json").status_code == 403
    assert client.patch(f"/api/v1/programs/{world.program.pk}/", {"name": "X"}, format="json").status_code == 200
