"""PATCH programs/{id}/ and organizations/{id}/: refusals name the field to send, and
read-only fields are refused (400, nothing written), not silently ignored (SPEC §2, §5)."""

import datetime as dt

import pytest

from programs.models import Organization, Program, ProgramStatusChange

pytestmark = pytest.mark.django_db


def url(program) -> str:
    return f"/api/v1/programs/{program.pk}/"


def snapshot(program) -> tuple:
    row = Program.objects.values().get(pk=program.pk)
    return row, program.history.count(), ProgramStatusChange.objects.filter(program=program).count()


@pytest.fixture
def launched(world):
    program = world.program
    program.earliest_review_on = dt.date(2026, 1, 1)
    program.save()
    return program


# --- the review date's reason is `change_reason` --------------------------------------------


@pytest.mark.parametrize(
    "body",
    [{"earliest_review_on": "2026-07-01", "reason": "x"}, {"earliest_review_on": "2026-07-01", "change_reason": " "}],
    ids=["sent-as-reason", "blank"],
)
def test_a_review_move_without_change_reason_names_change_reason(body, launched, office):
    before = snapshot(launched)
    response = office.patch(url(launched), body, format="json")
    assert response.status_code == 400
    assert response.json() == {"change_reason": ["Say why the earliest review date moves (kept in the history)."]}
    assert snapshot(launched) == before


def test_a_review_move_with_change_reason_is_kept(launched, office):
    response = office.patch(url(launched), {"earliest_review_on": "2026-07-01", "change_reason": "x"}, format="json")
    assert response.status_code == 200, response.json()
    assert Program.objects.get(pk=launched.pk).earliest_review_on == dt.date(2026, 7, 1)


# --- status changes only through transition/ -------------------------------------------------


@pytest.mark.parametrize("status", ["paused", "cancelled", "completed", "draft", "bogus", 3])
def test_a_status_in_a_patch_is_refused_and_nothing_is_written(status, world, office):
    program = world.program
    before = snapshot(program)
    response = office.patch(url(program), {"status": status, "name": "Renamed too"}, format="json")
    assert response.status_code == 400
    message = response.json()["status"][0]
    assert list(response.json()) == ["status"]
    assert message.startswith(f"Change the status with POST /api/v1/programs/{program.pk}/transition/")
    assert snapshot(program) == before


def test_a_put_repeating_the_current_status_is_accepted(world, office):
    program = world.program
    read = office.get(url(program)).json()
    body = {key: value for key, value in read.items() if value is not None and key not in ("id", "readiness", "risk")}
    response = office.put(url(program), {**body, "name": "Renamed"}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["name"]) == ("active", "Renamed")
    same = office.patch(url(program), {"status": "active"}, format="json")
    assert same.status_code == 200


def test_a_program_is_created_as_a_draft_a_status_is_refused(world, office):
    body = {"organization": world.organization.pk, "name": "New programme"}
    refused = office.post("/api/v1/programs/", {**body, "status": "active"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["status"][0].startswith("Change the status with POST /api/v1/programs/<id>/transition/")
    assert not Program.objects.filter(name="New programme").exists()
    created = office.post("/api/v1/programs/", {**body, "status": "draft"}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "draft"


def test_the_transition_still_changes_the_status(world, office):
    program = world.program
    response = office.post(f"{url(program)}transition/", {"to": "paused", "reason": "Budget freeze"}, format="json")
    assert response.status_code == 200, response.json()
    assert Program.objects.get(pk=program.pk).status == "paused"


# --- organizations: name and slug are set by an operator -------------------------------------


@pytest.mark.parametrize("field", ["name", "slug"])
def test_an_organizations_name_or_slug_is_refused_and_nothing_is_written(field, world, office):
    org = world.organization
    before = Organization.objects.values().get(pk=org.pk)
    response = office.patch(f"/api/v1/organizations/{org.pk}/", {field: "renamed", "currency": "USD"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert "create_organization" in response.json()[field][0]
    assert Organization.objects.values().get(pk=org.pk) == before


def test_an_organizations_current_name_is_accepted(world, office):
    org = world.organization
    body = {"name": org.name, "slug": org.slug, "currency": "USD"}
    response = office.patch(f"/api/v1/organizations/{org.pk}/", body, format="json")
    assert response.status_code == 200, response.json()
    assert Organization.objects.get(pk=org.pk).currency == "USD"
