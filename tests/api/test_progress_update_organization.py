"""Progress updates carry their initiative's organization, and an organization's list reads
only its own rows: the page and its count filter the updates' own column, in the order of
the index that starts with it (docs/performance.md, sixth round). Before, the count joined
every organization's updates to their initiatives and programs.
The lists' reads are tested together in test_carried_organization_lists.py."""

import datetime as dt

import pytest

from programs.changes import Change
from programs.models import ProgressUpdate
from tests.factories import InitiativeFactory, ProgressUpdateFactory

pytestmark = pytest.mark.django_db


def test_every_writer_copies_the_initiative_organization(world, office):
    body = {
        "initiative": world.initiative.pk,
        "author": world.person.pk,
        "reported_on": "2025-01-31",
        "rag": "green",
        "percent_complete": 40,
    }
    response = office.post("/api/v1/progress-updates/", body, format="json")
    assert response.status_code == 201, response.content
    assert "organization" not in response.json()  # a column for reads, not a field of the resource
    row = ProgressUpdate.objects.get(pk=response.json()["id"])
    assert row.organization_id == world.organization.pk
    # Its snapshot keeps it, and its change-log entry names the organization and the program.
    assert set(ProgressUpdate.history.filter(id=row.pk).values_list("organization_id", flat=True)) == {
        world.organization.pk
    }
    entry = Change.objects.get(model="programs.progressupdate", object_id=row.pk)
    assert (entry.organization_id, entry.program_id) == (world.organization.pk, world.program.pk)


def test_a_row_saved_without_it_takes_its_initiative_organization(world, other_world):
    row = ProgressUpdate(
        initiative=other_world.initiative,
        author=other_world.person,
        reported_on=dt.date(2025, 1, 31),
        rag="amber",
        percent_complete=10,
    )
    row.save()
    row.refresh_from_db()
    assert row.organization_id == other_world.organization.pk != world.organization.pk


def test_filters_through_the_initiative_still_apply(world, office):
    other = InitiativeFactory(program=world.program, owner=world.person)
    ProgressUpdateFactory(initiative=other, author=world.person)
    response = office.get("/api/v1/progress-updates/", {"initiative": world.initiative.pk})
    assert [row["id"] for row in response.json()["results"]] == [world.progress_update.pk]
    assert response.json()["count"] == 1
