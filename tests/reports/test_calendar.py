"""Calendar feeds: read back with the `icalendar` library, as a calendar client would."""

import datetime as dt

import pytest
from django.utils import timezone
from icalendar import Calendar

from accountability.choices import SessionStatus
from programs.changes import Change
from programs.models import Person
from tests.factories import (
    AgendaItemFactory,
    ForumFactory,
    ForumSessionFactory,
    MembershipFactory,
    PersonFactory,
    ProgramFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _at(days: int, hour: int = 9) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def _events(response) -> dict[str, object]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


@pytest.fixture
def world(organization, other_organization):
    """A member of one forum and the chair of another; a third forum they are not in; and a
    forum of another organization that lists them by mistake."""
    person = PersonFactory(organization=organization, name="Ada Member")
    program = ProgramFactory(organization=organization, name="Service Renewal")
    member_of = ForumFactory(program=program, name="Customer Council")
    member_of.members.add(person)
    chaired = ForumFactory(program=program, name="Steering Board", chair=person)
    not_in = ForumFactory(program=program, name="Ops Review")
    foreign = ForumFactory(program=ProgramFactory(organization=other_organization), name="Foreign Forum")
    foreign.members.add(person)
    sessions = {
        "member_next": ForumSessionFactory(forum=member_of, scheduled_for=_at(7), status=SessionStatus.SCHEDULED),
        "chaired_past": ForumSessionFactory(forum=chaired, scheduled_for=_at(-89), status=SessionStatus.HELD),
        "too_old": ForumSessionFactory(forum=chaired, scheduled_for=_at(-92), status=SessionStatus.HELD),
        "not_in": ForumSessionFactory(forum=not_in, scheduled_for=_at(3), status=SessionStatus.SCHEDULED),
        "foreign": ForumSessionFactory(forum=foreign, scheduled_for=_at(3), status=SessionStatus.SCHEDULED),
    }
    AgendaItemFactory(session=sessions["member_next"], title="Complaint backlog by silo")
    return person, sessions


def _uid(session) -> str:
    return f"session-{session.id}@cxgov"


def test_feed_lists_the_persons_forums_from_90_days_back(client, world):
    person, s = world
    events = _events(client.get(f"/calendar/{person.calendar_token}.ics"))
    assert set(events) == {_uid(s["member_next"]), _uid(s["chaired_past"])}
    event = events[_uid(s["member_next"])]
    assert str(event["SUMMARY"]) == "Customer Council · Service Renewal"
    assert event.decoded("DTSTART") == s["member_next"].scheduled_for
    assert event.decoded("DTSTART").utcoffset() == dt.timedelta(0)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "Complaint backlog by silo" in str(event["DESCRIPTION"])
    assert f"/dashboard/sessions/{s['member_next'].id}/record/" in str(event["URL"])
    assert "DTSTAMP" in event and int(event["SEQUENCE"]) == 0


def test_uids_stable_and_a_cancelled_session_has_a_higher_sequence(client, world):
    person, s = world
    url = f"/calendar/{person.calendar_token}.ics"
    before = _events(client.get(url))
    session = s["member_next"]
    session.status = SessionStatus.CANCELLED
    session.save()
    after = _events(client.get(url))
    assert set(before) == set(after)
    event = after[_uid(session)]
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) > int(before[_uid(session)]["SEQUENCE"])
    # A move raises it again; a postponed session also reads as cancelled.
    session.scheduled_for = _at(14)
    session.status = SessionStatus.POSTPONED
    session.save()
    moved = _events(client.get(url))[_uid(session)]
    assert str(moved["STATUS"]) == "CANCELLED"
    assert int(moved["SEQUENCE"]) == int(event["SEQUENCE"]) + 1
    # A change of notes is not a calendar change: the sequence stays.
    session.notes = "typo fixed"
    session.save()
    assert int(_events(client.get(url))[_uid(session)]["SEQUENCE"]) == int(moved["SEQUENCE"])


def test_wrong_and_revoked_tokens_answer_404(client, world, office_user):
    person, _ = world
    old = person.calendar_token
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    user = UserFactory()
    person.user = user
    person.save()
    MembershipFactory(user=user, organization=person.organization, role="executive")
    client.force_login(user)
    response = client.post(f"/dashboard/calendar/{person.pk}/regenerate/")
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.calendar_token != old
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{person.calendar_token}.ics").status_code == 200
    assert client.head(f"/calendar/{person.calendar_token}.ics").status_code == 200
    assert client.post(f"/calendar/{person.calendar_token}.ics").status_code == 405
    # The page shows the new address, never the old one.
    page = client.get("/dashboard/calendar/")
    assert person.calendar_token.encode() in page.content and old.encode() not in page.content


def test_regenerating_someone_elses_token_is_refused(client, world, executive_user):
    person, _ = world
    old = person.calendar_token
    client.force_login(executive_user)
    assert client.post(f"/dashboard/calendar/{person.pk}/regenerate/").status_code == 404
    assert client.get(f"/dashboard/calendar/{person.pk}/regenerate/").status_code == 405
    person.refresh_from_db()
    assert person.calendar_token == old


def test_inactive_person_has_no_feed(client, world):
    person, _ = world
    Person.objects.filter(pk=person.pk).update(active=False)
    assert client.get(f"/calendar/{person.calendar_token}.ics").status_code == 404


def test_organization_feed_for_the_office_only(client, world, organization):
    person, s = world
    office = PersonFactory(organization=organization, user=UserFactory())
    MembershipFactory(user=office.user, organization=organization, role="office")
    events = _events(client.get(f"/calendar/{office.calendar_token}/organization.ics"))
    assert set(events) == {_uid(s[k]) for k in ("member_next", "chaired_past", "not_in")}
    # Not for an executive's token, nor for a person with no sign-in.
    executive = PersonFactory(organization=organization, user=UserFactory())
    MembershipFactory(user=executive.user, organization=organization, role="executive")
    assert client.get(f"/calendar/{executive.calendar_token}/organization.ics").status_code == 404
    assert client.get(f"/calendar/{person.calendar_token}/organization.ics").status_code == 404


def test_tokens_are_distinct_and_long(organization):
    people = [PersonFactory(organization=organization) for _ in range(3)]
    tokens = {p.calendar_token for p in people}
    assert len(tokens) == 3 and all(len(t) >= 40 for t in tokens)


def test_feed_queries_are_constant(client, django_assert_max_num_queries, world):
    person, s = world
    url = f"/calendar/{person.calendar_token}.ics"
    with django_assert_max_num_queries(5):
        client.get(url)
    forum = s["member_next"].forum
    for days in range(20):
        session = ForumSessionFactory(forum=forum, scheduled_for=_at(days), status=SessionStatus.SCHEDULED)
        AgendaItemFactory(session=session)
        session.scheduled_for = _at(days + 1)
        session.save()
    with django_assert_max_num_queries(5):
        assert len(_events(client.get(url))) == 22


def test_calendar_url_on_people_for_the_office_only(client, world, office_user, executive_user):
    person, _ = world
    client.force_login(office_user)
    row = client.get(f"/api/v1/people/{person.pk}/").json()
    assert row["calendar_url"].endswith(f"/calendar/{person.calendar_token}.ics")
    client.force_login(executive_user)
    assert client.get(f"/api/v1/people/{person.pk}/").json()["calendar_url"] is None
    # Read-only: a PATCH cannot set it.
    client.force_login(office_user)
    client.patch(f"/api/v1/people/{person.pk}/", {"calendar_url": "x"}, content_type="application/json")
    person.refresh_from_db()
    assert row["calendar_url"].endswith(f"{person.calendar_token}.ics")


def test_calendar_url_in_the_people_list_create_and_spreadsheet_by_role(
    client, world, organization, other_organization, office_user, executive_user, settings
):
    """One column decides it (programs.access.calendar_url_column): the office of the
    person's organization sees the address in the list, the detail, a create's answer and
    the spreadsheet; an executive, an integration key and the office of another
    organization see null."""
    import csv
    import io

    from rest_framework.test import APIClient

    from programs.services import api_key_create

    settings.SITE_URL = "https://cx.example.com/"
    person, _ = world
    address = f"https://cx.example.com/calendar/{person.calendar_token}.ics"

    def sheet_rows(c) -> list[dict]:
        response = c.get("/api/v1/people/", {"format": "csv", "page_size": 100})
        assert response.status_code == 200
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(text)))

    def people(c) -> dict:
        response = c.get("/api/v1/people/", {"page_size": 100})
        assert response.status_code == 200
        return {row["id"]: row["calendar_url"] for row in response.json()["results"]}

    client.force_login(office_user)
    assert people(client)[person.pk] == address
    created = client.post(
        "/api/v1/people/",
        {"organization": organization.pk, "name": "New Hire", "email": "new.hire@example.com"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    new = Person.objects.get(pk=created.json()["id"])
    assert created.json()["calendar_url"] == f"https://cx.example.com/calendar/{new.calendar_token}.ics"
    rows = {int(row["id"]): row["calendar_url"] for row in sheet_rows(client)}
    assert rows[person.pk] == address

    client.force_login(executive_user)
    assert set(people(client).values()) == {None}
    assert {row["calendar_url"] for row in sheet_rows(client)} == {""}

    for role, expected in (("office", address), ("integration", None), ("executive", None)):
        _, raw = api_key_create(organization=organization, name=role, role=role)
        keyed = APIClient()
        keyed.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert people(keyed)[person.pk] == expected, role

    # The office of another organization, executive here: null here, the address there.
    elsewhere = PersonFactory(organization=other_organization, name="Bo Elsewhere")
    both = UserFactory()
    MembershipFactory(user=both, organization=organization, role="executive")
    MembershipFactory(user=both, organization=other_organization, role="office")
    client.force_login(both)
    seen = people(client)
    assert seen[person.pk] is None
    assert seen[elsewhere.pk] == f"https://cx.example.com/calendar/{elsewhere.calendar_token}.ics"


def test_a_new_token_is_in_the_change_log_without_its_value(client, world):
    """Every change names who made it (SPEC section 2): the log says the feed secret changed
    and who changed it, never the old or the new token."""
    person, _ = world
    old = person.calendar_token
    user = UserFactory()
    person.user = user
    person.save()
    MembershipFactory(user=user, organization=person.organization, role="executive")
    client.force_login(user)
    before = Change.objects.filter(model="programs.person", object_id=person.pk).count()
    assert client.post(f"/dashboard/calendar/{person.pk}/regenerate/").status_code == 302
    person.refresh_from_db()
    entries = Change.objects.filter(model="programs.person", object_id=person.pk).order_by("-at", "-id")
    assert entries.count() == before + 1
    entry = entries.first()
    assert entry.actor_user_id == user.pk and entry.action == "~"
    assert entry.changes == [{"field": "calendar_token", "label": "calendar token", "secret": True}]
    stored = str(Change.objects.filter(pk=entry.pk).values().get())
    assert old not in stored and person.calendar_token not in stored
    # Refused (someone else's person): nothing changes, nothing is logged.
    stranger = UserFactory()
    client.force_login(stranger)
    assert client.post(f"/dashboard/calendar/{person.pk}/regenerate/").status_code == 404
    assert entries.count() == before + 1
