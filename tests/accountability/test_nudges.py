"""Nudges before flags (SPEC §4): each rule's "days until you fire", at each lead-day boundary."""

import datetime as dt

import pytest

from accountability.choices import Cadence, SessionStatus
from accountability.nudges import flag_fires_within, nudges_due, nudges_for_person
from accountability.scans import scan_organization
from notifications.models import Notification, Nudge
from tests.factories import (
    ActionItemFactory,
    AttendanceFactory,
    ForumFactory,
    ForumSessionFactory,
    InitiativeFactory,
    MeasurementFactory,
    MetricFactory,
    PersonFactory,
    ProgramFactory,
    ProgressUpdateFactory,
)

pytestmark = pytest.mark.django_db
M = dt.date(2026, 6, 30)  # a measurement's period_end, an update's day, a forum's start


def days(n: int) -> dt.date:
    return M + dt.timedelta(days=n)


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization)


def due(organization, as_of, kind):
    return [n for n in nudges_due(organization=organization, as_of=as_of) if n.kind == kind]


def boundary(organization, kind: str, fires_on: int, lead: int) -> dict[str, int]:
    """How many `kind` nudges on each side of SPEC §4's "will be <flag> within `lead` days",
    for a flag first firing on days(fires_on)."""
    return {
        name: len(due(organization, days(day), kind))
        for name, day in (
            (f"fires in {lead + 1} days", fires_on - lead - 1),
            (f"fires in {lead} days", fires_on - lead),
            ("fires tomorrow", fires_on - 1),
            ("fired today", fires_on),
        )
    }


def nudged_within(lead: int) -> dict[str, int]:
    return {f"fires in {lead + 1} days": 0, f"fires in {lead} days": 1, "fires tomorrow": 1, "fired today": 0}


def test_flag_fires_within_counts_to_the_first_day_of_the_flag():
    """due_on is the last clear day; the flag fires the day after."""
    as_of = M
    assert flag_fires_within(days(0), as_of, 5)  # fires tomorrow
    assert flag_fires_within(days(4), as_of, 5)  # fires in 5 days
    assert not flag_fires_within(days(5), as_of, 5)  # fires in 6 days
    assert not flag_fires_within(days(-1), as_of, 5)  # fired today
    assert not flag_fires_within(days(0), as_of, 0)  # lead 0: never nudged


def test_metric_stale_within_five_days(organization, program):
    """Monthly: due by day 60, stale (the flag) from day 61, so nudged on days 56..60."""
    metric = MetricFactory(program=program, reporting_cadence="monthly")
    MeasurementFactory(metric=metric, period_end=M)
    assert boundary(organization, "metric_stale", fires_on=61, lead=5) == nudged_within(5)
    (nudge,) = due(organization, days(56), "metric_stale")
    assert (nudge.person_id, nudge.subject_id, nudge.due_on, nudge.days_left(days(56))) == (
        metric.owner_id,
        metric.pk,
        days(60),
        4,
    )
    assert nudge.url.endswith(f"/admin/metrics/measurement/add/?metric={metric.pk}&period_end={days(60)}")


def test_initiative_stalled_within_seven_days(organization, program):
    """Silent 30 days allowed: an update due by day 30, stalled from day 31, nudged on days 24..30."""
    initiative = InitiativeFactory(program=program)
    ProgressUpdateFactory(initiative=initiative, reported_on=M)
    assert boundary(organization, "initiative_stalled", fires_on=31, lead=7) == nudged_within(7)
    (nudge,) = due(organization, days(24), "initiative_stalled")
    assert (nudge.person_id, nudge.due_on) == (initiative.owner_id, days(30))
    assert "/admin/programs/progressupdate/add/?initiative=" in nudge.url


def test_action_item_three_days_ahead(organization, program):
    action = ActionItemFactory(program=program, due_on=days(10))
    assert due(organization, days(6), "action_due") == []
    (nudge,) = due(organization, days(7), "action_due")
    assert (nudge.person_id, nudge.due_on) == (action.owner_id, days(10))
    assert len(due(organization, days(10), "action_due")) == 1
    assert due(organization, days(11), "action_due") == []


def test_forum_lapsing_without_a_next_session_goes_to_the_chair(organization, program):
    """Monthly: must meet by day 45, lapsed from day 46, so nudged on days 32..45 unless a
    next session is scheduled."""
    forum = ForumFactory(program=program, cadence=Cadence.MONTHLY, started_on=M)
    assert boundary(organization, "forum_lapsed", fires_on=46, lead=14) == nudged_within(14)
    (nudge,) = due(organization, days(32), "forum_lapsed")
    assert (nudge.person_id, nudge.due_on) == (forum.chair_id, days(45))
    ForumSessionFactory(
        forum=forum, status=SessionStatus.SCHEDULED, scheduled_for=dt.datetime.combine(days(40), dt.time(9), dt.UTC)
    )
    assert due(organization, days(32), "forum_lapsed") == []


@pytest.mark.parametrize(
    ("kind", "fires_on", "lead"),
    [("metric_stale", 61, 10), ("initiative_stalled", 31, 3), ("forum_lapsed", 46, 1)],
)
def test_overridden_lead_days(organization, program, settings, kind, fires_on, lead):
    """CXGOV_NUDGE_LEAD_DAYS merged over the defaults: the same rule at the new lead."""
    settings.CXGOV_NUDGE_LEAD_DAYS = settings.CXGOV_NUDGE_LEAD_DAYS | {kind: lead}
    MeasurementFactory(metric=MetricFactory(program=program, reporting_cadence="monthly"), period_end=M)
    ProgressUpdateFactory(initiative=InitiativeFactory(program=program), reported_on=M)
    ForumFactory(program=program, cadence=Cadence.MONTHLY, started_on=M)
    assert boundary(organization, kind, fires_on=fires_on, lead=lead) == nudged_within(lead)


def test_held_session_without_attendance_for_two_days(organization, program):
    forum = ForumFactory(program=program, started_on=M)
    session = ForumSessionFactory(forum=forum, scheduled_for=dt.datetime.combine(days(5), dt.time(9), dt.UTC))
    assert due(organization, days(4), "attendance_missing") == []
    (nudge,) = due(organization, days(5), "attendance_missing")
    assert nudge.person_id == forum.chair_id and nudge.url.endswith(f"/dashboard/sessions/{session.pk}/record/")
    assert len(due(organization, days(6), "attendance_missing")) == 1
    assert due(organization, days(7), "attendance_missing") == []
    AttendanceFactory(session=session, person=forum.chair)
    assert due(organization, days(5), "attendance_missing") == []


def test_only_active_people_with_an_email(organization, program):
    gone = PersonFactory(organization=organization, active=False)
    silent = PersonFactory(organization=organization, email="")
    ActionItemFactory(program=program, owner=gone, due_on=days(1))
    ActionItemFactory(program=program, owner=silent, due_on=days(1))
    assert due(organization, days(0), "action_due") == []


def test_other_organizations_are_not_nudged_and_my_items_are_mine(organization, other_organization, program):
    mine = ActionItemFactory(program=program, due_on=days(1))
    ActionItemFactory(program=ProgramFactory(organization=other_organization), due_on=days(1))
    assert [n.subject_id for n in due(organization, days(0), "action_due")] == [mine.pk]
    assert [n.subject_id for n in nudges_for_person(person=mine.owner, as_of=days(0))] == [mine.pk]
    assert nudges_for_person(person=program.customer_champion, as_of=days(0)) == []


def test_a_fixed_number_of_queries(organization, program, django_assert_max_num_queries):
    for _ in range(20):
        ActionItemFactory(program=program, due_on=days(1))
        MeasurementFactory(metric=MetricFactory(program=program), period_end=M)
        ProgressUpdateFactory(initiative=InitiativeFactory(program=program), reported_on=M)
    with django_assert_max_num_queries(7):
        found = nudges_due(organization=organization, as_of=days(0))
    assert len(found) == 20


def test_the_scan_sends_one_grouped_email_a_day_and_never_twice(organization, program, mailoutbox, settings):
    settings.SITE_URL = "https://cxgov.example.com"
    owner = PersonFactory(organization=organization, name="Ada Owner")
    ActionItemFactory(program=program, owner=owner, due_on=days(3), description="Call the top ten customers")
    ActionItemFactory(program=program, owner=owner, due_on=days(3), description="Send the survey")
    scan_organization(organization=organization, as_of=days(-1))
    assert Notification.objects.filter(recipient=owner.email).count() == 0  # the day before
    scan_organization(organization=organization, as_of=days(0))
    (email,) = Notification.objects.filter(recipient=owner.email)
    assert email.key == f"nudges:{owner.pk}:{days(0)}"
    assert email.subject == "[cxgov] 2 reminders: the first due in 3 days"
    body = email.body_text
    assert "Complete action 'Call the top ten customers': due in 3 days (3 Jul 2026)" in body
    assert "Complete action 'Send the survey': due in 3 days" in body
    assert "https://cxgov.example.com/admin/accountability/actionitem/" in body
    assert Nudge.objects.filter(person=owner).count() == 2
    scan_organization(organization=organization, as_of=days(0))  # the same day again
    scan_organization(organization=organization, as_of=days(1))  # the next day: the same two, still due
    assert Notification.objects.filter(recipient=owner.email).count() == 1
    assert Nudge.objects.filter(person=owner).count() == 2


def test_writing_the_days_emails_is_a_fixed_number_of_queries(organization, program, django_assert_max_num_queries):
    from notifications.nudges import write_daily

    for _ in range(5):
        owner = PersonFactory(organization=organization)
        ActionItemFactory(program=program, owner=owner, due_on=days(1))
        ActionItemFactory(program=program, owner=owner, due_on=days(2))
    found = nudges_due(organization=organization, as_of=days(0))
    assert len(found) == 10
    # digest flags, nudges told, today's emails, people, the email insert and ids, the nudge insert
    with django_assert_max_num_queries(7):
        queued = write_daily(organization.pk, found, days(0))
    assert len(queued) == 5 and Nudge.objects.count() == 10
    with django_assert_max_num_queries(2):
        assert write_daily(organization.pk, found, days(0)) == []
