"""Forum sessions carry their forum's organization, and an organization's list reads only its
own sessions: the page and its count filter the sessions' own column, in the order of the
index that starts with it (docs/performance.md, seventh round). Before, both joined every
organization's sessions to their forums and programs, so the page's cost grew with other
tenants' sessions.
The lists' reads are tested together in test_carried_organization_lists.py."""

import datetime as dt

import pytest

from accountability.models import ForumSession
from programs.changes import Change
from tests.factories import ForumFactory, ForumSessionFactory

pytestmark = pytest.mark.django_db


def test_every_writer_copies_the_forum_organization(world, office):
    body = {"forum": world.forum.pk, "scheduled_for": "2025-03-04T09:00:00Z", "status": "scheduled"}
    response = office.post("/api/v1/sessions/", body, format="json")
    assert response.status_code == 201, response.content
    assert "organization" not in response.json()  # a column for reads, not a field of the resource
    row = ForumSession.objects.get(pk=response.json()["id"])
    assert row.organization_id == world.organization.pk
    # Its snapshot keeps it, and its change-log entry names the organization and the program.
    assert set(ForumSession.history.filter(id=row.pk).values_list("organization_id", flat=True)) == {
        world.organization.pk
    }
    entry = Change.objects.get(model="accountability.forumsession", object_id=row.pk)
    assert (entry.organization_id, entry.program_id) == (world.organization.pk, world.program.pk)


def test_an_organization_sent_by_the_client_is_not_taken(world, other_world, office):
    body = {
        "forum": world.forum.pk,
        "scheduled_for": "2025-03-05T09:00:00Z",
        "status": "scheduled",
        "organization": other_world.organization.pk,
    }
    response = office.post("/api/v1/sessions/", body, format="json")
    assert response.status_code == 201, response.content
    assert ForumSession.objects.get(pk=response.json()["id"]).organization_id == world.organization.pk


def test_a_row_saved_without_it_takes_its_forum_organization(world, other_world):
    row = ForumSession(forum=other_world.forum, scheduled_for=dt.datetime(2025, 1, 31, 9, tzinfo=dt.UTC))
    row.save()
    row.refresh_from_db()
    assert row.organization_id == other_world.organization.pk != world.organization.pk


def test_filters_through_the_forum_and_program_still_apply(world, office):
    other = ForumFactory(program=world.program)
    ForumSessionFactory(forum=other)
    response = office.get("/api/v1/sessions/", {"forum": world.forum.pk})
    assert [row["id"] for row in response.json()["results"]] == [world.session.pk]
    assert response.json()["count"] == 1
    response = office.get("/api/v1/sessions/", {"program": world.program.pk})
    assert response.json()["count"] == 2


def test_another_organizations_session_is_not_found(world, other_world, office):
    assert office.get(f"/api/v1/sessions/{other_world.session.pk}/").status_code == 404
    assert office.get(f"/api/v1/sessions/{world.session.pk}/").status_code == 200
