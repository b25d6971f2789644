"""accountability.selectors and the flags' days: sponsor presence, forum adherence, flags
open on a date, risk on a date, in-flight initiatives; one answer for every reader."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accountability.choices import FlagKind, FlagStatus, SessionStatus, Severity
from accountability.detectors.forums import detect_sponsor_disengaged
from accountability.flag_actions import flag_acknowledge, flag_dismiss, flag_resolve
from accountability.models import Flag
from accountability.scans import scan_organization
from accountability.selectors import (
    flag_counts,
    flags_open_on,
    forum_adherence,
    in_flight_initiatives,
    risk_on,
    sponsor_presence,
    top_open_flags,
)
from programs.choices import InitiativeStatus, ProgramStatus
from tests.factories import (
    AttendanceFactory,
    FlagFactory,
    ForumFactory,
    ForumSessionFactory,
    InitiativeFactory,
    MetricFactory,
    PersonFactory,
    ProgramFactory,
    ProgressUpdateFactory,
    RiskAssessmentFactory,
)

from .detector_helpers import AS_OF, ago, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization, started_on=dt.date(2020, 1, 1))


def held(forum, days_ago: int, person=None, present: bool = True, delegate=None, status=SessionStatus.HELD):
    session = ForumSessionFactory(forum=forum, scheduled_for=at(ago(days_ago)), status=status)
    if person is not None:
        AttendanceFactory(session=session, person=person, present=present, delegate=delegate)
    return session


# --- Sponsor presence: one window, one rule ------------------------------------------------


@pytest.mark.parametrize(
    ("present", "absent", "pct", "disengaged"),
    [(1, 2, 33, True), (2, 2, 50, False), (2, 1, 67, False)],  # under half flags; exactly half does not
)
def test_sponsor_presence_on_both_sides_of_half(organization, program, present, absent, pct, disengaged):
    sponsor = program.executive_sponsor
    forum = ForumFactory(program=program, chair=sponsor)
    for i in range(present):
        held(forum, 10 + i, sponsor, present=True)
    for i in range(absent):
        held(forum, 40 + i, sponsor, present=False, delegate=PersonFactory(organization=organization))
    presence = sponsor_presence(program_ids=[program.id], as_of=AS_OF)[program.id]
    assert (presence.present, presence.held, presence.pct, presence.window_days) == (
        present,
        present + absent,
        pct,
        180,
    )
    # The detector reads the same function: it flags exactly when the selector says under half.
    findings = detect_sponsor_disengaged(organization=organization, as_of=AS_OF)
    assert bool(findings) is disengaged
    if findings:
        assert (findings[0].evidence["present"], findings[0].evidence["held"]) == (present, present + absent)


def test_sponsor_presence_window_boundary_day_in_and_out(program):
    sponsor = program.executive_sponsor
    forum = ForumFactory(program=program, chair=sponsor)
    held(forum, 0, sponsor, present=True)  # as_of itself: in
    held(forum, 179, sponsor, present=False)  # the window's first day: in
    held(forum, 180, sponsor, present=True)  # the day before: out
    held(forum, -1, sponsor, present=True)  # after as_of: out
    presence = sponsor_presence(program_ids=[program.id], as_of=AS_OF)[program.id]
    assert (presence.present, presence.held) == (1, 2)
    assert [s["date"] for s in presence.sessions] == [ago(179).isoformat(), AS_OF.isoformat()]
    # A shorter window is the same function with its window named.
    short = sponsor_presence(program_ids=[program.id], as_of=AS_OF, window_days=180 - 1)[program.id]
    assert (short.present, short.held, short.window_days) == (1, 1, 179)


def test_sponsor_presence_covers_any_program_asked_for(organization):
    draft = ProgramFactory(organization=organization, status=ProgramStatus.DRAFT)
    no_sponsor = ProgramFactory(organization=organization, executive_sponsor=None)
    forum = ForumFactory(program=draft, chair=draft.executive_sponsor)
    held(forum, 5, draft.executive_sponsor, present=True)
    presence = sponsor_presence(program_ids=[draft.id, no_sponsor.id], as_of=AS_OF)
    assert (presence[draft.id].held, presence[no_sponsor.id].held) == (1, 0)
    assert presence[no_sponsor.id].ratio is None and presence[no_sponsor.id].pct is None


# --- Forum adherence ---------------------------------------------------------------------


def test_forum_adherence_counts_the_window_ending_on_the_date(program):
    forum = ForumFactory(program=program)
    other = ForumFactory(program=program, active=False)
    held(forum, 0)
    held(forum, 30, status=SessionStatus.CANCELLED)
    held(other, 89, status=SessionStatus.POSTPONED)
    held(other, 60, status=SessionStatus.SCHEDULED)
    held(forum, 90)  # outside
    held(forum, -1)  # after as_of
    counts = forum_adherence(program_ids=[program.id], as_of=AS_OF)[program.id]
    assert (counts.held, counts.scheduled, counts.cancelled, counts.pct) == (1, 4, 2, 25)
    per_forum = forum_adherence(program_ids=[program.id], as_of=AS_OF, per_forum=True)
    assert (per_forum[forum.id].scheduled, per_forum[other.id].scheduled) == (2, 2)
    quiet = ProgramFactory(organization=program.organization)
    assert forum_adherence(program_ids=[quiet.id], as_of=AS_OF)[quiet.id].pct is None


# --- Flags open on a date ----------------------------------------------------------------


def test_a_flag_raised_by_a_scan_on_d40_and_resolved_by_todays_scan(organization, program):
    """SPEC §2: open on D when first detected on or before D and not closed by the end of D."""
    today = timezone.localdate()
    raised_on = today - dt.timedelta(days=40)
    scan_organization(organization=organization, as_of=raised_on)
    flag = Flag.objects.get(kind=FlagKind.NO_BUSINESS_OUTCOME, subject_id=program.id)
    assert (flag.first_detected_on, flag.closed_on) == (raised_on, None)
    MetricFactory(program=program)  # a strategic outcome metric: the condition clears
    scan_organization(organization=organization, as_of=today)
    flag.refresh_from_db()
    assert (flag.status, flag.closed_on) == (FlagStatus.RESOLVED, today)

    def open_on(day):
        return Flag.objects.open_on(day).filter(pk=flag.pk).exists()

    assert open_on(raised_on) and open_on(today - dt.timedelta(days=1))
    assert not open_on(raised_on - dt.timedelta(days=1))
    assert not open_on(today)
    assert flag_counts(program_ids=[program.id], as_of=raised_on)[program.id][Severity.HIGH] == 1
    assert flag_counts(program_ids=[program.id], as_of=raised_on - dt.timedelta(days=1))[program.id] == {
        "critical": 0,
        "high": 0,
        "medium": 0,
        "low": 0,
    }


def test_a_scan_for_a_past_date_closes_its_flags_on_that_date(organization, program):
    scan_organization(organization=organization, as_of=AS_OF - dt.timedelta(days=10))
    MetricFactory(program=program)
    scan_organization(organization=organization, as_of=AS_OF)
    flag = Flag.objects.get(kind=FlagKind.NO_BUSINESS_OUTCOME)
    assert flag.closed_on == AS_OF


def test_people_close_flags_on_the_day_they_act(organization, office_user):
    today = timezone.localdate()
    resolved = FlagFactory(program=ProgramFactory(organization=organization), first_detected_on=ago(5, today))
    dismissed = FlagFactory(
        program=resolved.program, subject_id=resolved.subject_id + 1, first_detected_on=ago(5, today)
    )
    flag_resolve(flag=resolved, actor=office_user, note="fixed")
    flag_dismiss(flag=dismissed, actor=office_user, reason="not ours")
    for flag in (resolved, dismissed):
        flag.refresh_from_db()
        assert flag.closed_on == today
        assert Flag.objects.open_on(today - dt.timedelta(days=1)).filter(pk=flag.pk).exists()
        assert not Flag.objects.open_on(today).filter(pk=flag.pk).exists()


def test_a_closed_flag_without_its_closing_day_is_refused_by_the_database(program):
    flag = FlagFactory(program=program)
    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.filter(pk=flag.pk).update(status=FlagStatus.RESOLVED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.filter(pk=flag.pk).update(closed_on=AS_OF)


def test_open_flags_with_their_status_then_and_ages_counted_to_the_date(organization, office_user, program):
    old = FlagFactory(program=program, severity=Severity.MEDIUM, first_detected_on=ago(30))
    severe = FlagFactory(
        program=program, subject_id=program.id + 1, severity=Severity.CRITICAL, first_detected_on=ago(3)
    )
    later = FlagFactory(
        program=program, subject_id=program.id + 2, severity=Severity.CRITICAL, first_detected_on=ago(-1)
    )
    closed = FlagFactory(
        program=program, subject_id=program.id + 3, status=FlagStatus.RESOLVED, first_detected_on=ago(60)
    )
    Flag.objects.filter(pk=closed.pk).update(closed_on=ago(1))
    flag_acknowledge(flag=old, actor=office_user)
    Flag.objects.filter(pk=old.pk).update(acknowledged_at=at(ago(10)))

    rows = list(flags_open_on(as_of=AS_OF, program_ids=[program.id]))
    assert [f.id for f in rows] == [severe.id, old.id]  # most severe first; not yet detected and closed left out
    assert [f.status_on for f in rows] == ["open", "acknowledged"]
    assert [f.status_on for f in flags_open_on(as_of=ago(11), program_ids=[program.id])] == ["open", "open"]
    # ... the one closed on ago(1) was still open the day before.
    assert closed.id in {f.id for f in flags_open_on(as_of=ago(2), program_ids=[program.id])}
    assert Flag.objects.with_status_on(AS_OF).get(pk=later.pk).status_on is None
    assert Flag.objects.with_status_on(AS_OF).get(pk=closed.pk).status_on == FlagStatus.RESOLVED

    tops = top_open_flags(program_ids=[program.id], as_of=AS_OF, per_program=1)[program.id]
    assert [(f["id"], f["age_days"]) for f in tops] == [(severe.id, 3)]
    counts = flag_counts(program_ids=[program.id], as_of=AS_OF)[program.id]
    assert (counts["critical"], counts["medium"], counts["high"]) == (1, 1, 0)


# --- Risk on a date ----------------------------------------------------------------------


def test_risk_on_is_the_latest_assessment_on_or_before_the_date(program):
    RiskAssessmentFactory(program=program, as_of=ago(60), score=20, level="low")
    RiskAssessmentFactory(program=program, as_of=ago(30), score=55, level="high", factors=[{"code": "x"}])
    RiskAssessmentFactory(program=program, as_of=ago(-5), score=90, level="critical")
    risk = risk_on(program_ids=[program.id], as_of=AS_OF, with_factors=True)[program.id]
    assert (risk.as_of, risk.score, risk.previous_score, risk.trend, risk.change) == (ago(30), 55, 20, "rising", 35)
    assert risk.factors == [{"code": "x"}] and risk.level_label == "High"
    assert risk_on(program_ids=[program.id], as_of=ago(31))[program.id].score == 20
    assert risk_on(program_ids=[program.id], as_of=ago(61)) == {}


# --- In-flight initiatives and their stall ---------------------------------------------


def test_in_flight_initiatives_read_updates_reported_by_the_date(program):
    initiative = InitiativeFactory(program=program, starts_on=ago(200), status=InitiativeStatus.IN_PROGRESS)
    ProgressUpdateFactory(initiative=initiative, reported_on=ago(31))
    ProgressUpdateFactory(initiative=initiative, reported_on=ago(-3))  # reported after as_of
    InitiativeFactory(program=program, status=InitiativeStatus.DONE)
    (row,) = in_flight_initiatives(program_ids=[program.id], as_of=AS_OF)
    assert (row["last_activity_on"], row["days_silent"], row["stall_severity"]) == (ago(31), 31, Severity.MEDIUM)
    (row,) = in_flight_initiatives(program_ids=[program.id], as_of=ago(1))
    assert (row["days_silent"], row["stall_severity"]) == (30, None)  # 30 days is not more than 30


# --- Query counts --------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 6])
def test_query_counts_do_not_grow(organization, size, django_assert_num_queries):
    programs = []
    for i in range(size):
        program = ProgramFactory(organization=organization)
        forum = ForumFactory(program=program, chair=program.executive_sponsor)
        for day in (3, 20, 50):
            held(forum, day, program.executive_sponsor, present=day != 20)
        for n in range(3):
            FlagFactory(program=program, subject_id=1000 * i + n, first_detected_on=ago(n + 1))
        RiskAssessmentFactory(program=program, as_of=ago(2))
        RiskAssessmentFactory(program=program, as_of=ago(9))
        InitiativeFactory(program=program, starts_on=ago(100))
        programs.append(program)
    ids = [p.id for p in programs]
    for fn, kwargs in [
        (sponsor_presence, {}),
        (forum_adherence, {}),
        (flag_counts, {}),
        (top_open_flags, {"per_program": 2}),
        (risk_on, {"with_factors": True}),
        (in_flight_initiatives, {}),
    ]:
        with django_assert_num_queries(1):
            assert len(fn(program_ids=ids, as_of=AS_OF, **kwargs)) == size
    with django_assert_num_queries(1):
        assert len(list(flags_open_on(as_of=AS_OF, program_ids=ids))) == 3 * size
