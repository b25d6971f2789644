"""Attendance and agenda items carry their session's organization, and an organization's
lists read only its own rows: the page and its count filter the rows' own column, in the
order of the index that starts with it (docs/performance.md, "Attendance and agenda items
carry their organization").
The lists' reads are tested together in test_carried_organization_lists.py."""

import pytest

from accountability.choices import AgendaOutcome, SessionStatus
from accountability.models import AgendaItem, Attendance
from accountability.session_record import AgendaEntry, AttendanceEntry, SessionRecord, session_record
from programs.changes import Change
from tests.factories import ForumSessionFactory, PersonFactory

pytestmark = pytest.mark.django_db


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
