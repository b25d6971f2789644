"""customer_agenda_deferred and forum_attendance_falling."""

import pytest

from accountability.choices import AgendaOutcome, FlagKind, SessionStatus, Severity, SubjectType
from accountability.detectors.meetings import detect_customer_agenda_deferred, detect_forum_attendance_falling
from tests.factories import (
    AgendaItemFactory,
    AttendanceFactory,
    ForumFactory,
    ForumSessionFactory,
    PersonFactory,
    ProgramFactory,
)

from .detector_helpers import ago, at, run

pytestmark = pytest.mark.django_db

D, X, OK = AgendaOutcome.DEFERRED, AgendaOutcome.DROPPED, AgendaOutcome.DISCUSSED


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization)


@pytest.fixture
def forum(program):
    return ForumFactory(program=program, started_on=ago(1000))


def held(forum, days_ago: int, status=SessionStatus.HELD):
    return ForumSessionFactory(forum=forum, scheduled_for=at(ago(days_ago)), status=status)


def with_items(forum, days_ago: int, *outcomes, customer=True, status=SessionStatus.HELD):
    s = held(forum, days_ago, status=status)
    for outcome in outcomes:
        AgendaItemFactory(session=s, outcome=outcome, customer_item=customer)
    return s


# --- customer_agenda_deferred ----------------------------------------------------------


@pytest.mark.parametrize(
    ("sessions", "flagged"),
    [
        # outcomes of customer items per held session, oldest first
        ([(OK,), (D,), (X,)], True),
        ([(D,), (OK, D), (OK,)], False),  # cleared: the latest session handled its items
        ([(D,), (OK,), (D,)], False),  # not consecutive
        ([(OK,), (OK,), (D, OK)], False),
        ([(D,), (D, X)], True),
        ([(D,)], False),
    ],
)
def test_two_latest_held_sessions_deferring_customer_items(organization, forum, sessions, flagged):
    created = [with_items(forum, 100 - 10 * i, *outcomes) for i, outcomes in enumerate(sessions)]
    findings = run(detect_customer_agenda_deferred, organization)
    if not flagged:
        assert findings == []
        return
    [finding] = findings
    assert finding.kind == FlagKind.CUSTOMER_AGENDA_DEFERRED
    assert (finding.subject_type, finding.subject_id) == (SubjectType.FORUM, forum.id)
    assert finding.severity == Severity.MEDIUM
    assert finding.owner_id == forum.chair_id
    evidence_sessions = finding.evidence["sessions"]
    assert [s["id"] for s in evidence_sessions] == [s.id for s in created[-2:]]
    assert evidence_sessions[-1]["date"] == ago(100 - 10 * (len(sessions) - 1)).isoformat()
    deferred = [i["outcome"] for s in evidence_sessions for i in s["deferred_items"]]
    assert deferred == [o for outcomes in sessions[-2:] for o in outcomes if o != OK]


def test_non_customer_items_do_not_count(organization, forum):
    with_items(forum, 20, D, customer=False)
    with_items(forum, 10, D, customer=False)
    assert run(detect_customer_agenda_deferred, organization) == []


def test_only_held_sessions_count(organization, forum):
    with_items(forum, 30, D)
    with_items(forum, 20, OK, status=SessionStatus.CANCELLED)
    with_items(forum, 10, D)
    assert [f.subject_id for f in run(detect_customer_agenda_deferred, organization)] == [forum.id]


def test_sessions_after_as_of_do_not_count(organization, forum):
    with_items(forum, 20, D)
    with_items(forum, 10, D)
    with_items(forum, -5, OK)
    assert [f.subject_id for f in run(detect_customer_agenda_deferred, organization)] == [forum.id]
    with_items(forum, 0, OK)  # a session on as_of itself counts
    assert run(detect_customer_agenda_deferred, organization) == []


def test_inactive_forum_is_not_checked(organization, program):
    forum = ForumFactory(program=program, active=False)
    with_items(forum, 20, D)
    with_items(forum, 10, D)
    assert run(detect_customer_agenda_deferred, organization) == []


# --- forum_attendance_falling ----------------------------------------------------------


def attendance_series(forum, counts: list[int], members: list, outsider=None):
    """Held sessions, oldest first, with `counts[i]` members present in person."""
    sessions = []
    for i, n in enumerate(counts):
        s = held(forum, 10 + 14 * (len(counts) - i))
        for j, person in enumerate(members):
            AttendanceFactory(session=s, person=person, present=j < n)
        if outsider is not None:
            AttendanceFactory(session=s, person=outsider, present=True)
        sessions.append(s)
    return sessions


@pytest.fixture
def members(organization, forum):
    people = [PersonFactory(organization=organization) for _ in range(5)]
    forum.members.add(*people)
    return people


@pytest.mark.parametrize(
    ("counts", "flagged"),
    [
        ([5, 5, 5, 3, 3, 3], False),  # 60%: not under
        ([5, 5, 5, 2, 3, 3], True),  # 2.67 / 5 = 53%
        ([5, 5, 5, 3, 3, 2], True),  # 2.67 / 5
        ([5, 5, 5, 3, 2], False),  # fewer than 6 held sessions
        ([0, 0, 0, 0, 0, 0], False),  # first three average 0
        ([3, 3, 3, 5, 1, 1, 1], True),  # 1 / 3 = 33%; the middle session is in neither sample
        ([3, 3, 3, 1, 2, 2, 2], False),  # 2 / 3 = 67%
    ],
)
def test_attendance_falling(organization, forum, members, counts, flagged):
    sessions = attendance_series(forum, counts, members)
    findings = run(detect_forum_attendance_falling, organization)
    if not flagged:
        assert findings == []
        return
    [finding] = findings
    assert finding.kind == FlagKind.FORUM_ATTENDANCE_FALLING
    assert (finding.subject_type, finding.subject_id) == (SubjectType.FORUM, forum.id)
    assert finding.severity == Severity.MEDIUM
    assert finding.owner_id == forum.chair_id
    assert [s["id"] for s in finding.evidence["first_sessions"]] == [s.id for s in sessions[:3]]
    assert [s["id"] for s in finding.evidence["last_sessions"]] == [s.id for s in sessions[-3:]]
    assert [s["present"] for s in finding.evidence["last_sessions"]] == counts[-3:]
    assert finding.evidence["first_average"] == round(sum(counts[:3]) / 3, 2)
    assert finding.evidence["last_average"] == round(sum(counts[-3:]) / 3, 2)
    assert finding.evidence["held_sessions"] == len(counts)


def test_attendance_counts_members_in_person_only(organization, forum, members):
    outsider = PersonFactory(organization=organization)
    sessions = attendance_series(forum, [5, 5, 5, 5, 5, 5], members, outsider=outsider)
    # In the last three sessions members sent delegates (not in person) instead.
    for s in sessions[-3:]:
        s.attendance.filter(person__in=members[1:]).update(present=False, delegate=outsider)
    [finding] = run(detect_forum_attendance_falling, organization)
    assert finding.evidence["first_average"] == 5  # the outsider is never counted
    assert finding.evidence["last_average"] == 1


def test_attendance_ignores_cancelled_and_future_sessions(organization, forum, members):
    attendance_series(forum, [5, 5, 5, 5, 5, 5], members)
    for days in (5, -10):
        s = held(forum, days, status=SessionStatus.CANCELLED if days > 0 else SessionStatus.HELD)
        for person in members:
            AttendanceFactory(session=s, person=person, present=False)
    assert run(detect_forum_attendance_falling, organization) == []
