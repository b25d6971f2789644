"""Meeting mode (/dashboard/sessions/<id>/record/ and POST /api/v1/sessions/{id}/record/): one
submit, one transaction, through the services; the chair, the office and integrations only."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accountability.models import ActionItem, AgendaItem, Attendance, Flag, ForumSession
from accountability.scans import scan_organization
from metrics.models import MetricRevision
from programs.dates import day_start
from tests.factories import (
    AgendaItemFactory,
    ForumFactory,
    ForumSessionFactory,
    MembershipFactory,
    MetricFactory,
    PersonFactory,
    ProgramFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(organization):
    today = timezone.localdate()
    chair_user = UserFactory()
    MembershipFactory(user=chair_user, organization=organization, role="executive")
    program = ProgramFactory(organization=organization)
    chair = PersonFactory(organization=organization, user=chair_user, name="Chair Person")
    ana, ben, cy, dee = (PersonFactory(organization=organization, name=n) for n in ("Ana", "Ben", "Cy", "Dee"))
    forum = ForumFactory(program=program, chair=chair)
    forum.members.add(chair, ana, ben, cy, program.executive_sponsor)
    session = ForumSessionFactory(
        forum=forum, status="scheduled", scheduled_for=day_start(today - dt.timedelta(days=1))
    )
    item = AgendaItemFactory(session=session, title="Customer NPS", customer_item=True, outcome="discussed")
    metric = MetricFactory(
        program=program,
        name="Retention",
        baseline=Decimal("50"),
        target=Decimal("60"),
        target_on=today.replace(year=today.year + 2),
    )
    return {
        "chair_user": chair_user,
        "program": program,
        "forum": forum,
        "session": session,
        "item": item,
        "metric": metric,
        "people": {"chair": chair, "ana": ana, "ben": ben, "cy": cy, "dee": dee, "sponsor": program.executive_sponsor},
    }


def form(m, **extra) -> dict:
    p = m["people"]
    due = (timezone.localdate() + dt.timedelta(days=14)).isoformat()
    data = {
        "status": "held",
        "notes": "Good session.",
        f"att-{p['chair'].pk}": "present",
        f"att-{p['sponsor'].pk}": "present",
        f"att-{p['ana'].pk}": "present",
        f"att-{p['ben'].pk}": "delegate",
        f"del-{p['ben'].pk}": str(p["dee"].pk),
        f"att-{p['cy'].pk}": "absent",
        f"agenda-{m['item'].pk}": "deferred",
        "new-agenda-title-0": "Complaints backlog",
        "new-agenda-outcome-0": "discussed",
        "action-description-0": "Call the top ten accounts",
        "action-owner-0": str(p["ana"].pk),
        "action-due-0": due,
        "action-description-1": "Draft the callback script",
        "action-owner-1": str(p["cy"].pk),
        "action-due-1": due,
        "change-metric-0": str(m["metric"].pk),
        "change-field-0": "target",
        "change-value-0": "55",
        "change-reason-0": "Call volumes doubled; agreed to phase the goal",
    }
    return {**data, **extra}


def chair_client(m) -> Client:
    client = Client()
    client.force_login(m["chair_user"])
    return client


def test_the_chair_records_the_whole_session_in_one_submit(meeting, django_assert_max_num_queries):
    client, p, session = chair_client(meeting), meeting["people"], meeting["session"]
    with django_assert_max_num_queries(20):
        page = client.get(f"/dashboard/sessions/{session.pk}/record/")
    assert page.status_code == 200 and "Customer NPS" in page.content.decode()
    done = client.post(f"/dashboard/sessions/{session.pk}/record/", form(meeting))
    assert done.status_code == 302, done.content.decode()[:2000]
    assert done["Location"] == f"/dashboard/programs/{meeting['program'].pk}/#forum-{meeting['forum'].pk}"
    session.refresh_from_db()
    assert (session.status, session.notes) == ("held", "Good session.")
    rows = {a.person_id: (a.present, a.delegate_id) for a in Attendance.objects.filter(session=session)}
    assert rows[p["ana"].pk] == (True, None)
    assert rows[p["ben"].pk] == (False, p["dee"].pk)
    assert rows[p["cy"].pk] == (False, None)
    assert AgendaItem.objects.get(pk=meeting["item"].pk).outcome == "deferred"
    assert AgendaItem.objects.filter(session=session, title="Complaints backlog", outcome="discussed").exists()
    assert sorted(ActionItem.objects.filter(session=session).values_list("description", flat=True)) == [
        "Call the top ten accounts",
        "Draft the callback script",
    ]
    revision = MetricRevision.objects.get(metric=meeting["metric"])
    assert (revision.field, revision.old_value, revision.new_value) == ("target", "60", "55")
    assert revision.approved_in_id == session.pk and revision.changed_by_id == meeting["chair_user"].pk
    # The next scan reads it: the loosened target, approved in this session.
    scan_organization(organization=meeting["program"].organization, as_of=timezone.localdate())
    flag = Flag.objects.get(kind="metric_negotiated_away", subject_id=meeting["metric"].pk)
    reason = flag.evidence["reasons"][0]
    assert reason["reason"] == "target_loosened" and reason["revisions"][0]["approved_in"] == session.pk


def test_a_refused_entry_writes_nothing(meeting):
    client, session = chair_client(meeting), meeting["session"]
    for bad in (
        {"change-reason-0": ""},  # a decided change without its reason
        {"change-value-0": "lots"},
        {"action-due-0": "someday"},
        {f"del-{meeting['people']['ben'].pk}": ""},  # a delegate nobody named
        {"status": "exploded"},
        {"action-owner-1": "99999999"},
    ):
        response = client.post(f"/dashboard/sessions/{session.pk}/record/", form(meeting, **bad))
        assert response.status_code == 400, bad
        assert "Nothing was saved" in response.content.decode()
    session.refresh_from_db()
    assert session.status == "scheduled"
    assert not Attendance.objects.filter(session=session).exists()
    assert not ActionItem.objects.exists() and not MetricRevision.objects.exists()


def test_only_the_chair_the_office_and_integrations_record(meeting, organization, other_organization):
    session = meeting["session"]
    url = f"/dashboard/sessions/{session.pk}/record/"
    for role, expected in (("executive", 403), ("office", 200), ("integration", 200)):
        user = UserFactory()
        MembershipFactory(user=user, organization=organization, role=role)
        client = Client()
        client.force_login(user)
        assert client.get(url).status_code == expected, role
    outsider = UserFactory()
    MembershipFactory(user=outsider, organization=other_organization, role="office")
    client = Client()
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.post(url, form(meeting)).status_code == 404
    assert ForumSession.objects.get(pk=session.pk).status == "scheduled"


def test_a_future_session_is_not_held_yet(meeting):
    session = meeting["session"]
    ForumSession.objects.filter(pk=session.pk).update(scheduled_for=day_start(timezone.localdate() + dt.timedelta(2)))
    response = chair_client(meeting).post(f"/dashboard/sessions/{session.pk}/record/", form(meeting))
    assert response.status_code == 400
    assert "cannot be recorded as held yet" in response.content.decode()


def test_the_api_records_with_the_same_service(meeting, organization):
    p, session = meeting["people"], meeting["session"]
    client = APIClient()
    client.force_login(meeting["chair_user"])
    body = {
        "status": "held",
        "attendance": [
            {"person": p["ana"].pk, "presence": "present"},
            {"person": p["ben"].pk, "presence": "delegate", "delegate": p["dee"].pk},
        ],
        "agenda": [{"item": meeting["item"].pk, "outcome": "deferred"}],
        "actions": [{"owner": p["cy"].pk, "description": "Send the minutes", "due_on": "2099-01-01"}],
        "metric_changes": [{"metric": meeting["metric"].pk, "field": "target", "value": "58", "reason": "Phased"}],
    }
    url = f"/api/v1/sessions/{session.pk}/record/"
    bad = client.post(
        url, {**body, "actions": [{"owner": p["cy"].pk, "description": "x", "due_on": "3000-01-01"}]}, format="json"
    )
    assert bad.status_code == 400 and not Attendance.objects.filter(session=session).exists()
    stranger = PersonFactory(organization=ProgramFactory().organization)
    assert (
        client.post(
            url, {**body, "attendance": [{"person": stranger.pk, "presence": "present"}]}, format="json"
        ).status_code
        == 400
    )
    done = client.post(url, body, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "held"
    assert Attendance.objects.get(session=session, person=p["ben"]).delegate_id == p["dee"].pk
    assert MetricRevision.objects.get(metric=meeting["metric"]).approved_in_id == session.pk
    executive = UserFactory()
    MembershipFactory(user=executive, organization=organization, role="executive")
    other = APIClient()
    other.force_login(executive)
    assert other.post(url, body, format="json").status_code == 403
