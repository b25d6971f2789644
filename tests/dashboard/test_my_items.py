"""My items (/dashboard/me/ and GET /api/v1/me/): the same selector, both sides of each rule's
threshold, nothing of another person or organization, a bounded number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.html import escape
from rest_framework.test import APIClient

from accountability.my_items import my_items, people_of
from programs.dates import day_start
from programs.services import api_key_create
from tests.factories import (
    ActionItemFactory,
    AttendanceFactory,
    FlagFactory,
    ForumFactory,
    ForumSessionFactory,
    InitiativeFactory,
    MeasurementFactory,
    MembershipFactory,
    MetricFactory,
    PersonFactory,
    ProgramFactory,
    ProgressUpdateFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 6, 30)


@pytest.fixture
def world(organization, other_organization):
    user = UserFactory()
    MembershipFactory(user=user, organization=organization, role="executive")
    me = PersonFactory(organization=organization, user=user, name="Maria Alvarez")
    someone = PersonFactory(organization=organization)
    program = ProgramFactory(organization=organization, stall_after_days=30)
    theirs = ProgramFactory(organization=other_organization)
    w = {"user": user, "me": me, "program": program}
    w["flag"] = FlagFactory(program=program, owner=me, escalation_level=2, first_detected_on=AS_OF - dt.timedelta(5))
    FlagFactory(program=program, owner=someone, kind="metric_stale", subject_id=10**6)  # not mine
    FlagFactory(program=program, owner=me, status="resolved", closed_on=AS_OF)  # closed
    w["action"] = ActionItemFactory(program=program, owner=me, due_on=AS_OF - dt.timedelta(1), description="Call Sales")
    ActionItemFactory(program=program, owner=me, status="done", completed_on=AS_OF)
    # Nudges: an action due within 3 days is nudged, one due in 4 is not yet.
    ActionItemFactory(program=program, owner=me, due_on=AS_OF + dt.timedelta(3), description="Send the survey")
    ActionItemFactory(program=program, owner=me, due_on=AS_OF + dt.timedelta(4), description="Book the venue")
    # Monthly metrics (30 days): a value 31 days old is due, 30 days old is not.
    due = MetricFactory(program=program, owner=me, name="Due metric", reporting_cadence="monthly")
    MeasurementFactory(metric=due, period_end=AS_OF - dt.timedelta(31), value=Decimal("1"))
    fresh = MetricFactory(program=program, owner=me, name="Fresh metric", reporting_cadence="monthly")
    MeasurementFactory(metric=fresh, period_end=AS_OF - dt.timedelta(30), value=Decimal("1"))
    # Initiatives of a program allowing 30 silent days: an update is owed after 15 (16 yes, 15 no).
    w["initiative"] = InitiativeFactory(program=program, owner=me, name="Owes an update")
    ProgressUpdateFactory(initiative=w["initiative"], author=me, reported_on=AS_OF - dt.timedelta(16))
    quiet = InitiativeFactory(program=program, owner=me, name="Reported recently")
    ProgressUpdateFactory(initiative=quiet, author=me, reported_on=AS_OF - dt.timedelta(15))
    # Sessions I chair: one held without attendance (listed), one with it, one in the future.
    forum = ForumFactory(program=program, chair=me)
    w["session"] = ForumSessionFactory(forum=forum, status="held", scheduled_for=day_start(AS_OF - dt.timedelta(3)))
    recorded = ForumSessionFactory(forum=forum, status="held", scheduled_for=day_start(AS_OF - dt.timedelta(10)))
    AttendanceFactory(session=recorded, person=me)
    ForumSessionFactory(forum=forum, status="scheduled", scheduled_for=day_start(AS_OF + dt.timedelta(3)))
    # Another organization's items of a person with my user: never shown (no membership there).
    stranger = PersonFactory(organization=other_organization, user=user)
    FlagFactory(program=theirs, owner=stranger)
    return w


def test_the_selector_applies_each_rule_on_both_sides(world, django_assert_max_num_queries):
    people = people_of(world["user"])
    assert people == [world["me"]]
    # Six for the items, up to seven for the nudges of the person's organization.
    with django_assert_max_num_queries(13):
        items = my_items(people=people, as_of=AS_OF)
    assert [f.pk for f in items.flags] == [world["flag"].pk]
    assert items.flags[0].escalation_level == 2 and items.flags[0].age_days == 5
    assert [(a.description, a.overdue) for a in items.actions] == [
        ("Call Sales", True),
        ("Send the survey", False),
        ("Book the venue", False),
    ]
    assert [m["name"] for m in items.metrics] == ["Due metric"]
    assert [i["name"] for i in items.initiatives] == ["Owes an update"]
    assert [s.pk for s in items.sessions] == [world["session"].pk]
    nudged = [n for n in items.nudges if n["kind"] == "action_due"]
    assert [(n["subject"], n["due_on"]) for n in nudged] == [("Send the survey", AS_OF + dt.timedelta(3))]
    assert nudged[0]["text"] == "Complete action 'Send the survey' by 3 Jul 2026."


def test_the_page_lists_them(world, client):
    client.force_login(world["user"])
    page = client.get(f"/dashboard/me/?as_of={AS_OF}").content.decode()
    for text in ("Call Sales", "Due metric", "Owes an update", "Sponsor", world["flag"].title, "Upcoming nudges"):
        assert text in page, text
    assert "Fresh metric" not in page and "Reported recently" not in page


def test_the_api_answers_the_same_for_the_user_and_for_a_key_they_created(world, organization):
    client = APIClient()
    client.force_login(world["user"])
    body = client.get(f"/api/v1/me/?as_of={AS_OF}").json()
    assert [f["id"] for f in body["flags"]] == [world["flag"].pk]
    assert body["flags"][0]["escalation_level"] == 2
    assert [m["name"] for m in body["metrics_due"]] == ["Due metric"]
    assert [i["name"] for i in body["initiatives_due"]] == ["Owes an update"]
    assert [s["id"] for s in body["sessions_without_attendance"]] == [world["session"].pk]
    _, raw = api_key_create(organization=organization, name="CEO's feed", role="executive", actor=world["user"])
    keyed = APIClient()
    keyed.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert keyed.get(f"/api/v1/me/?as_of={AS_OF}").json() == body


def test_nobody_linked_gets_empty_lists_and_bad_dates_a_400(organization):
    user = UserFactory()
    MembershipFactory(user=user, organization=organization, role="office")
    client = APIClient()
    client.force_login(user)
    body = client.get("/api/v1/me/").json()
    assert body["people"] == [] and body["flags"] == [] and body["as_of"] == timezone.localdate().isoformat()
    assert client.get("/api/v1/me/?as_of=2026-13-01").status_code == 400
    assert APIClient().get("/api/v1/me/").status_code == 401


def test_flags_the_ladder_brought_to_me_are_mine_to_act_on(world, organization, client):
    me, program = world["me"], world["program"]
    report = PersonFactory(organization=organization, reports_to=me, name="Direct Report")
    other_report = PersonFactory(organization=organization, reports_to=PersonFactory(organization=organization))
    organization.board_contact = me
    organization.save(update_fields=["board_contact"])
    sponsored = ProgramFactory(organization=organization, executive_sponsor=me)
    seen = AS_OF - dt.timedelta(20)
    climbed = FlagFactory(program=program, owner=report, escalation_level=1, first_detected_on=seen, subject_id=11)
    at_board = FlagFactory(
        program=program, owner=other_report, escalation_level=3, first_detected_on=seen, subject_id=12
    )
    # Not (yet) at my level: my report's flag still with its owner; my program's flag at the manager.
    FlagFactory(program=program, owner=report, escalation_level=0, first_detected_on=seen, subject_id=13)
    FlagFactory(program=sponsored, owner=other_report, escalation_level=1, first_detected_on=seen, subject_id=14)
    # At my level but closed.
    FlagFactory(program=program, owner=report, escalation_level=1, status="resolved", closed_on=AS_OF, subject_id=15)

    items = my_items(people=[me], as_of=AS_OF)

    reached = {f.pk: f.reached_you_as for f in items.flags}
    assert reached == {world["flag"].pk: None, climbed.pk: "the owner's manager", at_board.pk: "the board contact"}
    client.force_login(world["user"])
    page = client.get(f"/dashboard/me/?as_of={AS_OF}").content.decode()
    assert "as the owner&#x27;s manager" in page and "(owner: Direct Report)" in page


def test_as_of_a_past_day_the_flags_and_actions_are_those_of_that_day(organization):
    """A flag's severity, title and status on D (SPEC §2), flags closed since still listed,
    flags first found after D not yet; an action done after D was still open on D."""
    from tests.accountability.flag_story import BETWEEN, build_story, late_title

    story = build_story(organization)
    owner, late, long = story["owner"], story["late_flag"], story["long_flag"]
    user = UserFactory()
    MembershipFactory(user=user, organization=organization, role="executive")
    owner.user = user
    owner.save(update_fields=["user"])
    # Done the day after BETWEEN: open on BETWEEN, not on the day after.
    action = ActionItemFactory(
        program=story["program"], owner=owner, due_on=BETWEEN, status="done", completed_on=BETWEEN + dt.timedelta(1)
    )
    # Resolved the day after BETWEEN and acknowledged on it: open (not acknowledged) on BETWEEN.
    Flag = type(late)
    Flag.objects.filter(pk=late.pk).update(
        status="resolved",
        closed_on=BETWEEN + dt.timedelta(1),
        acknowledged_at=day_start(BETWEEN + dt.timedelta(1)),
        resolved_at=day_start(BETWEEN + dt.timedelta(1)),
    )

    then = my_items(people=[owner], as_of=BETWEEN)
    row = {f.pk: f for f in then.flags}[late.pk]
    assert (row.severity, row.title, row.status) == ("medium", late_title(story["late"].name, 15), "open")
    assert row.acknowledged_at is None
    assert long.pk in {f.pk for f in then.flags}
    assert [a.pk for a in then.actions] == [action.pk]

    day_after = my_items(people=[owner], as_of=BETWEEN + dt.timedelta(1))
    assert late.pk not in {f.pk for f in day_after.flags} and day_after.actions == []
    before_any_scan = my_items(people=[owner], as_of=story["late"].due_on)
    assert before_any_scan.flags == []

    # The page and the API say the same.
    client = APIClient()
    client.force_login(user)
    body = client.get(f"/api/v1/me/?as_of={BETWEEN}").json()
    flag = {f["id"]: f for f in body["flags"]}[late.pk]
    assert (flag["severity"], flag["title"], flag["status"]) == ("medium", late_title(story["late"].name, 15), "open")
    page = client.get(f"/dashboard/me/?as_of={BETWEEN}").content.decode()
    assert escape(late_title(story["late"].name, 15)) in page
    assert escape(late_title(story["late"].name, 41)) not in page
    assert f'href="/dashboard/flags/{late.pk}/?as_of={BETWEEN}"' in page
