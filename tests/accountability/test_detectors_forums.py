"""forum_lapsed, forum_sessions_cancelled, sponsor_disengaged and the sponsor/cancellation helpers."""

import pytest

from accountability.choices import Cadence, FlagKind, SessionStatus, Severity, SubjectType
from accountability.detectors.forums import (
    detect_forum_lapsed,
    detect_forum_sessions_cancelled,
    detect_sponsor_delegating,
    detect_sponsor_disengaged,
    scanned_sponsor_presence,
    session_cancellation,
)
from accountability.selectors import SponsorPresence
from programs.choices import ProgramStatus
from tests.factories import AttendanceFactory, ForumFactory, ForumSessionFactory, PersonFactory, ProgramFactory

from .detector_helpers import AS_OF, ago, at, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization)


def session(forum, days_ago: int, status=SessionStatus.HELD, hour: int = 9):
    return ForumSessionFactory(forum=forum, scheduled_for=at(ago(days_ago), hour=hour), status=status)


# --- forum_lapsed ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cadence", "days", "severity"),
    [
        (Cadence.MONTHLY, 45, None),
        (Cadence.MONTHLY, 46, Severity.MEDIUM),
        (Cadence.MONTHLY, 90, Severity.MEDIUM),
        (Cadence.MONTHLY, 91, Severity.HIGH),
        (Cadence.WEEKLY, 10, None),
        (Cadence.WEEKLY, 11, Severity.MEDIUM),
        (Cadence.WEEKLY, 21, Severity.MEDIUM),
        (Cadence.WEEKLY, 22, Severity.HIGH),
        (Cadence.BIWEEKLY, 21, None),
        (Cadence.BIWEEKLY, 22, Severity.MEDIUM),
        (Cadence.BIWEEKLY, 43, Severity.HIGH),
        (Cadence.QUARTERLY, 136, None),
        (Cadence.QUARTERLY, 137, Severity.MEDIUM),
        (Cadence.QUARTERLY, 273, Severity.MEDIUM),
        (Cadence.QUARTERLY, 274, Severity.HIGH),
    ],
)
def test_lapsed_thresholds_from_last_held_session(organization, program, cadence, days, severity):
    forum = ForumFactory(program=program, cadence=cadence, started_on=ago(1000))
    session(forum, days + 30)
    last = session(forum, days)
    session(forum, days - 5, status=SessionStatus.CANCELLED)  # a cancelled session does not reset the clock
    findings = run(detect_forum_lapsed, organization)
    if severity is None:
        assert findings == []
        return
    [finding] = findings
    assert finding.kind == FlagKind.FORUM_LAPSED
    assert (finding.subject_type, finding.subject_id) == (SubjectType.FORUM, forum.id)
    assert finding.severity == severity
    assert finding.owner_id == forum.chair_id
    assert finding.evidence["last_held_on"] == ago(days).isoformat()
    assert finding.evidence["days_since"] == days
    assert {"id": last.id, "date": ago(days).isoformat(), "status": "held"} in finding.evidence["sessions"]
    assert f"{days} days" in finding.title


@pytest.mark.parametrize(("days", "severity"), [(45, None), (46, Severity.MEDIUM), (91, Severity.HIGH)])
def test_lapsed_counts_from_start_without_held_session(organization, program, days, severity):
    forum = ForumFactory(program=program, started_on=ago(days))
    session(forum, days - 1, status=SessionStatus.CANCELLED)
    findings = run(detect_forum_lapsed, organization)
    assert [f.severity for f in findings] == ([severity] if severity else [])
    if severity:
        assert findings[0].evidence["last_held_on"] is None
        assert findings[0].evidence["started_on"] == ago(days).isoformat()


def test_lapsed_counts_from_a_restart_later_than_the_last_session(organization, program):
    forum = ForumFactory(program=program, started_on=ago(20))
    session(forum, 300)
    assert run(detect_forum_lapsed, organization) == []


def test_forum_starting_in_the_future_is_not_lapsed(organization, program):
    ForumFactory(program=program, started_on=ago(-10))
    assert run(detect_forum_lapsed, organization) == []


def test_sessions_after_as_of_or_not_held_do_not_count(organization, program):
    forum = ForumFactory(program=program, started_on=ago(400))
    session(forum, 100)
    session(forum, 10, status=SessionStatus.SCHEDULED)
    session(forum, 5, status=SessionStatus.POSTPONED)
    session(forum, -3)  # held, but after the scan date
    [finding] = run(detect_forum_lapsed, organization)
    assert finding.evidence["last_held_on"] == ago(100).isoformat()


def test_inactive_forum_is_not_lapsed(organization, program):
    ForumFactory(program=program, started_on=ago(400), active=False)
    assert run(detect_forum_lapsed, organization) == []


def test_forum_without_chair_is_owned_by_champion(organization, program):
    ForumFactory(program=program, started_on=ago(400), chair=None)
    [finding] = run(detect_forum_lapsed, organization)
    assert finding.owner_id == program.customer_champion_id


# --- forum_sessions_cancelled ----------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "flagged"),
    [
        # newest first
        (["held", "cancelled", "held", "held"], False),
        (["held", "cancelled", "held", "postponed"], True),
        (["cancelled", "postponed", "held", "held"], True),
        (["held", "held", "held", "held", "cancelled", "cancelled"], False),  # older than the last 4
        (["cancelled", "cancelled"], True),
        (["scheduled", "cancelled", "held", "held"], False),
    ],
)
def test_sessions_cancelled(organization, program, statuses, flagged):
    forum = ForumFactory(program=program, started_on=ago(400))
    created = [session(forum, 10 + 7 * i, status=s) for i, s in enumerate(statuses)]
    findings = run(detect_forum_sessions_cancelled, organization)
    if not flagged:
        assert findings == []
        return
    [finding] = findings
    assert finding.kind == FlagKind.FORUM_SESSIONS_CANCELLED
    assert finding.subject_id == forum.id
    assert finding.severity == Severity.MEDIUM
    assert finding.owner_id == forum.chair_id
    assert [s["id"] for s in finding.evidence["sessions"]] == [s.id for s in created[:4]]
    assert finding.evidence["cancelled_or_postponed"] == sum(s in ("cancelled", "postponed") for s in statuses[:4])


def test_cancelled_sessions_after_as_of_do_not_count(organization, program):
    forum = ForumFactory(program=program, started_on=ago(400))
    session(forum, 10)
    session(forum, 0, status=SessionStatus.CANCELLED)  # on as_of: counts
    session(forum, -1, status=SessionStatus.CANCELLED)  # the day after: not yet past
    session(forum, -2, status=SessionStatus.CANCELLED)
    assert run(detect_forum_sessions_cancelled, organization) == []
    session(forum, 20, status=SessionStatus.POSTPONED)
    [finding] = run(detect_forum_sessions_cancelled, organization)
    assert finding.evidence["cancelled_or_postponed"] == 2


def test_cancelled_identity_changes_only_with_a_new_missed_session(organization, program):
    forum = ForumFactory(program=program, started_on=ago(400))
    session(forum, 30, status=SessionStatus.CANCELLED)
    session(forum, 20, status=SessionStatus.CANCELLED)
    first = run(detect_forum_sessions_cancelled, organization)[0].fingerprint
    session(forum, 10)
    assert run(detect_forum_sessions_cancelled, organization)[0].fingerprint == first
    session(forum, 5, status=SessionStatus.POSTPONED)
    assert run(detect_forum_sessions_cancelled, organization)[0].fingerprint != first


# --- scanned_sponsor_presence / session_cancellation -------------------------------------------


def sponsor_forum(program, **fields):
    return ForumFactory(program=program, started_on=ago(1000), **fields)


def attended(forum, person, days_ago: int, present: bool, status=SessionStatus.HELD, delegate=None):
    s = session(forum, days_ago, status=status)
    AttendanceFactory(session=s, person=person, present=present, delegate=delegate)
    return s


def test_scanned_sponsor_presence_counts_chaired_and_member_forums_in_180_days(organization, program):
    sponsor = program.executive_sponsor
    chaired = sponsor_forum(program, chair=sponsor)
    member_of = sponsor_forum(program, chair=program.customer_champion)
    member_of.members.add(sponsor)
    elsewhere = sponsor_forum(program, chair=program.customer_champion)
    a = attended(chaired, sponsor, 10, True)
    b = attended(member_of, sponsor, 179, False, delegate=PersonFactory(organization=organization))
    attended(chaired, sponsor, 180, True)  # outside: the window is (as_of - 180, as_of]
    attended(chaired, sponsor, 20, True, status=SessionStatus.CANCELLED)
    attended(chaired, sponsor, -1, True)  # after as_of
    attended(elsewhere, sponsor, 30, True)  # not chair, not member
    c = session(chaired, 50)  # no attendance row: absent
    presence = scanned_sponsor_presence(organization=organization, as_of=AS_OF)
    assert presence == {
        program.id: SponsorPresence(
            held=3,
            present=1,
            delegated=1,
            sessions=[
                {
                    "id": b.id,
                    "date": ago(179).isoformat(),
                    "status": "held",
                    "forum_id": member_of.id,
                    "forum": member_of.name,
                    "present": False,
                    "delegated": True,
                },
                {
                    "id": c.id,
                    "date": ago(50).isoformat(),
                    "status": "held",
                    "forum_id": chaired.id,
                    "forum": chaired.name,
                    "present": False,
                    "delegated": False,
                },
                {
                    "id": a.id,
                    "date": ago(10).isoformat(),
                    "status": "held",
                    "forum_id": chaired.id,
                    "forum": chaired.name,
                    "present": True,
                    "delegated": False,
                },
            ],
        )
    }
    assert presence[program.id].ratio == pytest.approx(1 / 3)


def test_scanned_sponsor_presence_every_scanned_program_has_an_entry(organization, program):
    no_sponsor = ProgramFactory(organization=organization, executive_sponsor=None)
    ProgramFactory(organization=organization, status=ProgramStatus.DRAFT)
    presence = scanned_sponsor_presence(organization=organization, as_of=AS_OF)
    assert presence == {program.id: SponsorPresence(0, 0), no_sponsor.id: SponsorPresence(0, 0)}
    assert presence[program.id].ratio is None
    only = scanned_sponsor_presence(organization=organization, as_of=AS_OF, program_ids=[program.id])
    assert only.keys() == {program.id}


def test_session_cancellation_counts_the_last_days(organization, program):
    forum = sponsor_forum(program)
    other = sponsor_forum(program, active=False)
    session(forum, 0, status=SessionStatus.CANCELLED)
    session(forum, 30, status=SessionStatus.POSTPONED)
    session(forum, 60)
    session(other, 89, status=SessionStatus.SCHEDULED)
    session(forum, 90, status=SessionStatus.CANCELLED)  # outside 90 days
    session(forum, -1, status=SessionStatus.CANCELLED)  # after as_of
    quiet = ProgramFactory(organization=organization)
    assert session_cancellation(organization=organization, as_of=AS_OF) == {program.id: (2, 4), quiet.id: (0, 0)}
    assert session_cancellation(organization=organization, as_of=AS_OF, days=91)[program.id] == (3, 5)


# --- sponsor_disengaged ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("present", "absent", "flagged"),
    [(0, 2, False), (1, 2, True), (0, 3, True), (2, 3, True), (2, 2, False), (3, 3, False)],
)
def test_sponsor_disengaged_thresholds(organization, program, present, absent, flagged):
    forum = sponsor_forum(program, chair=program.executive_sponsor)
    for i in range(present):
        attended(forum, program.executive_sponsor, 10 + i, True)
    for i in range(absent):
        attended(forum, program.executive_sponsor, 100 + i, False)
    findings = run(detect_sponsor_disengaged, organization)
    if not flagged:
        assert findings == []
        return
    [finding] = findings
    assert finding.kind == FlagKind.SPONSOR_DISENGAGED
    assert (finding.subject_type, finding.subject_id) == (SubjectType.PROGRAM, program.id)
    assert finding.severity == Severity.HIGH
    assert finding.owner_id == program.executive_sponsor_id
    assert finding.escalation_level == 0  # the sponsor is not the CEO
    assert (finding.evidence["held"], finding.evidence["present"]) == (present + absent, present)
    assert len(finding.evidence["sessions"]) == present + absent
    assert finding.evidence["sponsor_id"] == program.executive_sponsor_id


def test_sponsor_disengaged_is_owned_by_the_sponsor_even_with_a_ceo(organization, program):
    ceo = PersonFactory(organization=organization, title="CEO", is_officer=True)
    organization.ceo = ceo
    organization.save()
    forum = sponsor_forum(program, chair=program.executive_sponsor)
    for i in range(3):
        attended(forum, program.executive_sponsor, 10 + i, False)
    [finding] = run(detect_sponsor_disengaged, organization)
    assert (finding.owner_id, finding.escalation_level) == (program.executive_sponsor_id, 0)


def test_sponsor_disengaged_starts_at_the_board_when_the_sponsor_is_the_ceo(organization, program):
    organization.ceo = program.executive_sponsor
    organization.save()
    forum = sponsor_forum(program, chair=program.executive_sponsor)
    for i in range(3):
        attended(forum, program.executive_sponsor, 10 + i, False)
    [finding] = run(detect_sponsor_disengaged, organization)
    assert (finding.owner_id, finding.escalation_level) == (program.executive_sponsor_id, 3)


def test_delegates_do_not_count_as_presence(organization, program):
    forum = sponsor_forum(program, chair=program.executive_sponsor)
    stand_in = PersonFactory(organization=organization)
    for i in range(3):
        attended(forum, program.executive_sponsor, 10 + i, False, delegate=stand_in)
    [finding] = run(detect_sponsor_disengaged, organization)
    assert finding.evidence["present"] == 0


# --- sponsor_delegating ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("delegated", "present", "absent", "flagged"),
    [
        (2, 0, 0, False),  # 2 held sessions: too few to say anything
        (2, 1, 0, True),  # 2 of 3: at least half
        (1, 2, 0, False),  # 1 of 3: under half
        (2, 2, 0, True),  # 2 of 4: exactly half
        (1, 2, 1, False),  # 1 of 4
        (2, 2, 1, False),  # 2 of 5: under half
        (3, 2, 0, True),  # 3 of 5
    ],
)
def test_sponsor_delegating_thresholds(organization, program, delegated, present, absent, flagged):
    sponsor = program.executive_sponsor
    forum = sponsor_forum(program, chair=sponsor)
    stand_in = PersonFactory(organization=organization, title="Deputy")
    sent = [attended(forum, sponsor, 10 + i, False, delegate=stand_in) for i in range(delegated)]
    for i in range(present):
        attended(forum, sponsor, 50 + i, True)
    for i in range(absent):
        attended(forum, sponsor, 90 + i, False)
    findings = run(detect_sponsor_delegating, organization)
    if not flagged:
        assert findings == []
        return
    [finding] = findings
    held = delegated + present + absent
    assert finding.kind == FlagKind.SPONSOR_DELEGATING
    assert (finding.subject_type, finding.subject_id, finding.severity) == (
        SubjectType.PROGRAM,
        program.id,
        Severity.MEDIUM,
    )
    assert (finding.owner_id, finding.escalation_level) == (sponsor.id, 0)
    assert (finding.evidence["held"], finding.evidence["delegated"], finding.evidence["present"]) == (
        held,
        delegated,
        present,
    )
    assert sorted(finding.identity["delegated_session_ids"]) == sorted(s.id for s in sent)
    assert f"{delegated} of {held}" in finding.title


def test_sponsor_delegating_counts_only_the_180_day_window_and_held_sessions(organization, program):
    sponsor = program.executive_sponsor
    forum = sponsor_forum(program, chair=sponsor)
    stand_in = PersonFactory(organization=organization)
    attended(forum, sponsor, 10, False, delegate=stand_in)
    attended(forum, sponsor, 20, True)
    attended(forum, sponsor, 30, True)
    attended(forum, sponsor, 180, False, delegate=stand_in)  # outside the window
    attended(forum, sponsor, 40, False, delegate=stand_in, status=SessionStatus.CANCELLED)  # not held
    assert run(detect_sponsor_delegating, organization) == []
    attended(forum, sponsor, 179, False, delegate=stand_in)  # inside: 2 of 4
    [finding] = run(detect_sponsor_delegating, organization)
    assert (finding.evidence["held"], finding.evidence["delegated"]) == (4, 2)


def test_present_with_a_delegate_named_counts_as_present(organization, program):
    sponsor = program.executive_sponsor
    forum = sponsor_forum(program, chair=sponsor)
    stand_in = PersonFactory(organization=organization)
    for i in range(3):
        attended(forum, sponsor, 10 + i, True, delegate=stand_in)
    assert run(detect_sponsor_delegating, organization) == []
    assert scanned_sponsor_presence(organization=organization, as_of=AS_OF)[program.id].delegated == 0


def test_sponsor_delegating_starts_at_the_board_when_the_sponsor_is_the_ceo(organization, program):
    organization.ceo = program.executive_sponsor
    organization.save()
    forum = sponsor_forum(program, chair=program.executive_sponsor)
    stand_in = PersonFactory(organization=organization)
    for i in range(3):
        attended(forum, program.executive_sponsor, 10 + i, False, delegate=stand_in)
    [delegating] = run(detect_sponsor_delegating, organization)
    [disengaged] = run(detect_sponsor_disengaged, organization)  # the same sessions, the same rule's counts
    assert (delegating.owner_id, delegating.escalation_level) == (program.executive_sponsor_id, 3)
    assert delegating.evidence["sessions"] == disengaged.evidence["sessions"]
