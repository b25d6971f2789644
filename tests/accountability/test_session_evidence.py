"""A session that is no longer scheduled is evidence (SPEC §2, ForumSession): it is corrected,
never deleted, and so are its attendance and agenda items — by the API, the admin (page, bulk
action, inlines), the services and the shell, cascades included. Each refusal names the rule
and leaves every row and history row in place; a session still only scheduled goes as before."""

import datetime as dt

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.urls import reverse
from rest_framework.test import APIClient

from accountability.choices import FlagKind, FlagStatus, SessionStatus
from accountability.models import AgendaItem, Attendance, Flag, ForumSession
from accountability.scans import scan_organization
from accountability.services import (
    SESSION_EVIDENCE_RULE,
    agenda_item_delete,
    attendance_delete,
    session_delete,
    session_record_delete_refusal,
)
from programs.services import api_key_create
from tests.factories import (
    AgendaItemFactory,
    AttendanceFactory,
    ForumFactory,
    ForumSessionFactory,
    PersonFactory,
    ProgramFactory,
)
from tests.programs.test_admin import form_data

AS_OF = dt.date(2025, 6, 30)

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    """Rows of every accountability model, history tables included."""
    return {m._meta.label: m._default_manager.count() for m in apps.get_app_config("accountability").get_models()}


def at(days_ago: int) -> dt.datetime:
    day = AS_OF - dt.timedelta(days=days_ago)
    return dt.datetime(day.year, day.month, day.day, 9, tzinfo=dt.UTC)


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization)


@pytest.fixture
def forum(program):
    forum = ForumFactory(program=program, chair=program.executive_sponsor, started_on=dt.date(2022, 1, 1))
    forum.members.add(program.executive_sponsor)
    return forum


def session_with_record(forum, status=SessionStatus.HELD, days_ago=10, present=False) -> ForumSession:
    session = ForumSessionFactory(forum=forum, status=status, scheduled_for=at(days_ago))
    AttendanceFactory(session=session, person=forum.chair, present=present)
    AgendaItemFactory(session=session)
    return session


def key(organization, role: str) -> APIClient:
    _, raw = api_key_create(organization=organization, name=role, role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


# --- the API -------------------------------------------------------------------------------


def test_an_integration_key_cannot_delete_the_sessions_where_the_sponsor_was_absent(organization, forum):
    """The issue's path: deleting two held sessions would have cleared `sponsor_disengaged`."""
    sessions = [session_with_record(forum, days_ago=10 + i) for i in range(3)]
    scan_organization(organization=organization, as_of=AS_OF)
    flag = Flag.objects.get(kind=FlagKind.SPONSOR_DISENGAGED)
    integration = key(organization, "integration")
    before = counts()
    for session in sessions[:2]:
        response = integration.delete(f"/api/v1/sessions/{session.pk}/")
        assert response.status_code == 400
        assert response.json() == {"detail": SESSION_EVIDENCE_RULE}
    assert counts() == before
    scan_organization(organization=organization, as_of=AS_OF + dt.timedelta(days=1))
    flag.refresh_from_db()
    assert flag.status == FlagStatus.OPEN and flag.last_detected_on == AS_OF + dt.timedelta(days=1)


@pytest.mark.parametrize("status", [SessionStatus.HELD, SessionStatus.CANCELLED, SessionStatus.POSTPONED])
def test_the_record_of_a_session_past_scheduled_is_never_deleted_by_the_api(organization, forum, status):
    session = session_with_record(forum, status=status)
    office = key(organization, "office")
    before = counts()
    for path in (
        f"sessions/{session.pk}",
        f"attendance/{session.attendance.get().pk}",
        f"agenda-items/{session.agenda_items.get().pk}",
    ):
        response = office.delete(f"/api/v1/{path}/")
        assert (response.status_code, response.json()) == (400, {"detail": SESSION_EVIDENCE_RULE}), path
    assert counts() == before


def test_a_session_set_back_to_scheduled_is_still_evidence(organization, forum):
    session = session_with_record(forum)
    office = key(organization, "office")
    assert office.patch(f"/api/v1/sessions/{session.pk}/", {"status": "scheduled"}, format="json").status_code == 200
    before = counts()
    response = office.delete(f"/api/v1/sessions/{session.pk}/")
    assert (response.status_code, response.json()) == (400, {"detail": SESSION_EVIDENCE_RULE})
    assert counts() == before


def test_a_session_still_scheduled_goes_with_its_planned_record(organization, forum):
    session = session_with_record(forum, status=SessionStatus.SCHEDULED, days_ago=-7)
    other = session_with_record(forum, status=SessionStatus.SCHEDULED, days_ago=-14)
    integration = key(organization, "integration")
    assert integration.delete(f"/api/v1/agenda-items/{other.agenda_items.get().pk}/").status_code == 204
    assert integration.delete(f"/api/v1/attendance/{other.attendance.get().pk}/").status_code == 204
    assert integration.delete(f"/api/v1/sessions/{session.pk}/").status_code == 204
    assert not ForumSession.objects.filter(pk=session.pk).exists()
    assert not Attendance.objects.filter(session_id=session.pk).exists()
    assert not AgendaItem.objects.filter(session_id=session.pk).exists()
    assert ForumSession.history.filter(id=session.pk, history_type="-").exists()


def test_correcting_a_held_sessions_attendance_is_allowed(organization, forum):
    session = session_with_record(forum)
    attendance = session.attendance.get()
    office = key(organization, "office")
    response = office.patch(f"/api/v1/attendance/{attendance.pk}/", {"present": True}, format="json")
    assert response.status_code == 200
    assert Attendance.objects.get(pk=attendance.pk).present is True


# --- the services and the shell ------------------------------------------------------------


def test_the_services_refuse_evidence_with_the_rule(forum):
    session = session_with_record(forum)
    before = counts()
    assert session_record_delete_refusal(session) == SESSION_EVIDENCE_RULE
    for attempt in (
        lambda: session_delete(session=session),
        lambda: attendance_delete(attendance=session.attendance.get()),
        lambda: agenda_item_delete(agenda_item=session.agenda_items.get()),
    ):
        with pytest.raises(ValidationError) as refused:
            attempt()
        assert refused.value.messages == [SESSION_EVIDENCE_RULE]
    assert counts() == before


def test_the_shell_meets_the_rule_on_every_orm_path(program, forum):
    session = session_with_record(forum)
    scheduled = session_with_record(forum, status=SessionStatus.SCHEDULED, days_ago=-7)
    before = counts()
    for attempt in (
        session.delete,
        ForumSession.objects.filter(forum=forum).delete,
        session.attendance.get().delete,
        Attendance.objects.all().delete,
        session.agenda_items.get().delete,
        AgendaItem.objects.all().delete,
    ):
        with pytest.raises(ValidationError, match="is evidence"):
            attempt()
    # Cascades meet it as a protected relation: the forum, its program, the person who attended.
    for attempt in (forum.delete, program.delete, forum.chair.delete):
        with pytest.raises(ProtectedError) as refused:
            attempt()
        assert session in refused.value.protected_objects or session.attendance.get() in refused.value.protected_objects
    assert counts() == before
    # The other side: the scheduled session's record goes.
    scheduled.delete()
    assert not Attendance.objects.filter(session_id=scheduled.pk).exists()


def test_a_delegate_who_stood_in_at_a_held_session_stays_named(organization, forum):
    delegate = PersonFactory(organization=organization)
    session = ForumSessionFactory(forum=forum, status=SessionStatus.HELD, scheduled_for=at(10))
    AttendanceFactory(session=session, person=forum.chair, present=False, delegate=delegate)
    with pytest.raises(ProtectedError):
        delegate.delete()
    assert Attendance.objects.get(session=session).delegate_id == delegate.pk
    # At a session still scheduled, the delegate is simply forgotten.
    planned = ForumSessionFactory(forum=forum, status=SessionStatus.SCHEDULED, scheduled_for=at(-7))
    stand_in = PersonFactory(organization=organization)
    AttendanceFactory(session=planned, person=forum.chair, delegate=stand_in)
    stand_in.delete()
    assert Attendance.objects.get(session=planned).delegate_id is None


# --- the admin -------------------------------------------------------------------------------


@pytest.fixture
def office_client(client, office_user):
    client.force_login(office_user)
    return client


def admin_url(model: str, view: str, *args) -> str:
    return reverse(f"admin:accountability_{model}_{view}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_admin_pages_and_bulk_actions_refuse_evidence_naming_the_rule(office_client, forum):
    session = session_with_record(forum)
    attendance, item = session.attendance.get(), session.agenda_items.get()
    before = counts()
    for model, obj in (("forumsession", session), ("attendance", attendance), ("agendaitem", item)):
        for response in (
            office_client.get(admin_url(model, "delete", obj.pk), follow=True),
            office_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}, follow=True),
        ):
            assert messages_of(response) == [f"“{obj}” was not deleted: {SESSION_EVIDENCE_RULE}"]
        bulk = {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
        response = office_client.post(admin_url(model, "changelist"), bulk, follow=True)
        assert messages_of(response) == [f"Nothing was deleted. “{obj}”: {SESSION_EVIDENCE_RULE}"]
    assert counts() == before


def test_the_session_page_inlines_refuse_to_delete_its_attendance(office_client, forum):
    session = session_with_record(forum)
    url = admin_url("forumsession", "change", session.pk)
    data = form_data(office_client.get(url), **{"attendance-0-DELETE": "on"})
    before = counts()
    response = office_client.post(url, data)
    assert response.status_code == 200
    errors = [str(e) for f in response.context["inline_admin_formsets"] for e in f.formset.non_form_errors()]
    assert errors == [f"“{session.attendance.get()}” was not deleted: {SESSION_EVIDENCE_RULE}"]
    assert counts() == before


def test_the_forum_page_inline_refuses_to_delete_a_held_session(office_client, forum):
    session = session_with_record(forum)
    url = reverse("admin:accountability_forum_change", args=[forum.pk])
    data = form_data(office_client.get(url), **{"sessions-0-DELETE": "on"})
    assert data["sessions-0-id"] == str(session.pk)
    before = counts()
    response = office_client.post(url, data)
    assert response.status_code == 200
    errors = [str(e) for f in response.context["inline_admin_formsets"] for e in f.formset.non_form_errors()]
    assert errors == [f"“{session}” was not deleted: {SESSION_EVIDENCE_RULE}"]
    assert counts() == before


def test_the_admin_deletes_a_scheduled_session_through_the_service(office_client, office_user, forum):
    session = session_with_record(forum, status=SessionStatus.SCHEDULED, days_ago=-7)
    response = office_client.post(admin_url("forumsession", "delete", session.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not ForumSession.objects.filter(pk=session.pk).exists()
    assert ForumSession.history.get(id=session.pk, history_type="-").history_user == office_user
