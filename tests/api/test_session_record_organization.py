"""Attendance and agenda items carry their session's organization, and an organization's
lists read only its own rows: the page and its count filter the rows' own column, in the
order of the index that starts with it (docs/performance.md, "Attendance and agenda items
carry their organization")."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability.choices import AgendaOutcome, SessionStatus
from accountability.models import AgendaItem, Attendance
from accountability.session_record import AgendaEntry, AttendanceEntry, SessionRecord, session_record
from programs.changes import Change
from tests.factories import ForumSessionFactory, PersonFactory
from tests.plans import ordered_plan

pytestmark = pytest.mark.django_db

LISTS = [("/api/v1/attendance/", Attendance), ("/api/v1/agenda-items/", AgendaItem)]


def test_every_writer_copies_the_session_organization(world, office, office_user):
    # The API, one row at a time.
    newcomer = PersonFactory(organization=world.organization)
    world.forum.members.add(newcomer)
    response = office.post("/api/v1/attendance/", {"session": world.session.pk, "person": newcomer.pk}, format="json")
    assert response.status_code == 201, response.content
    response = office.post("/api/v1/agenda-items/", {"session": world.session.pk, "title": "NPS"}, format="json")
    assert response.status_code == 201, response.content
    # Meeting mode: the chair records a session with a new member and a new agenda item.
    held = ForumSessionFactory(forum=world.forum)
    session_record(
        session=held,
        record=SessionRecord(
            status=SessionStatus.HELD,
            attendance=[AttendanceEntry(person=newcomer, presence="present")],
            agenda=[AgendaEntry(outcome=AgendaOutcome.DEFERRED, title="Complaints")],
        ),
        actor=office_user,
    )
    for model in (Attendance, AgendaItem):
        rows = model.objects.filter(session__forum=world.forum)
        assert rows.count() == 3
        assert set(rows.values_list("organization_id", flat=True)) == {world.organization.pk}
        # Each snapshot keeps it, and each change-log entry names the program.
        assert set(
            model.history.filter(session_id__in=[world.session.pk, held.pk]).values_list("organization_id", flat=True)
        ) == {world.organization.pk}
        entries = Change.objects.filter(model=model._meta.label_lower, object_id__in=rows.values("pk"))
        assert set(entries.values_list("organization_id", "program_id")) == {(world.organization.pk, world.program.pk)}


def test_a_row_saved_without_it_takes_its_session_organization(world, other_world):
    row = AgendaItem(session=other_world.session, title="Churn")
    row.save()
    row.refresh_from_db()
    assert row.organization_id == other_world.organization.pk != world.organization.pk


@pytest.mark.parametrize(("path", "model"), LISTS)
def test_the_list_reads_only_the_callers_rows_by_their_own_column(world, other_world, office, path, model):
    with CaptureQueriesContext(connection) as ctx:
        # A full page, so the count is asked too (a page that is not full is counted from its rows).
        response = office.get(path, {"page_size": 1})
    assert response.status_code == 200
    ours = world.attendance if model is Attendance else world.agenda_item
    assert [row["id"] for row in response.json()["results"]] == [ours.pk]
    assert response.json()["count"] == 1
    table = model._meta.db_table
    reads = [q["sql"] for q in ctx.captured_queries if f'FROM "{table}"' in q["sql"]]
    assert len(reads) == 2, "the page and its count"
    for sql in reads:
        # Filtered on the rows' own organization column, with no join up to forums or
        # programs: no other organization's session is walked to answer it.
        assert f'"{table}"."organization_id"' in sql
        assert "accountability_forum" not in sql and "programs_program" not in sql


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the index's order is PostgreSQL's plan")
@pytest.mark.parametrize(
    ("model", "index"), [(Attendance, "attendance_org_list"), (AgendaItem, "agenda_item_org_list")]
)
def test_the_organization_index_serves_the_list_order(world, model, index):
    plan = ordered_plan(model.objects.filter(organization=world.organization).order_by("session_id", "id")[:100])
    assert index in plan, plan
