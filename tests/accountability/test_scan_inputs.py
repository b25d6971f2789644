"""Each input several rules share is read once per scan, and fresh outside a scan."""

import collections
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability.choices import FlagKind
from accountability.models import Flag
from accountability.selectors import sponsor_presence
from cxgov.scan_inputs import read_once_per_scan
from tests.factories import AttendanceFactory, ForumFactory, ForumSessionFactory, PersonFactory, ProgramFactory
from tests.metrics.factories import MetricFactory

from .test_scans import AS_OF, scan, troubled_program

pytestmark = pytest.mark.django_db

# The tables behind the shared inputs: sponsor presence and adherence (sessions,
# attendance), in-flight work (initiatives, updates), freshness (measurements), lapses.
SHARED_TABLES = (
    "accountability_attendance",
    "accountability_forumsession",
    "programs_initiative",
    "metrics_measurement",
)


def _repeated(queries) -> dict[str, int]:
    reads = collections.Counter(
        q["sql"] for q in queries if q["sql"].startswith("SELECT") and any(t in q["sql"] for t in SHARED_TABLES)
    )
    return {sql[:200]: n for sql, n in reads.items() if n > 1}


def test_a_scan_asks_each_shared_question_once(organization):
    for _ in range(3):
        troubled_program(organization)
    with CaptureQueriesContext(connection) as ctx:
        run = scan(organization)
    assert run.raised > 0
    assert _repeated(ctx.captured_queries) == {}


def test_outside_a_scan_the_selectors_read_the_data_as_it_is_now(organization):
    program = troubled_program(organization)
    first = sponsor_presence(program_ids=[program.pk], as_of=AS_OF, with_sessions=False)[program.pk]
    held_at = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.UTC)
    session = ForumSessionFactory(forum__program=program, status="held", scheduled_for=held_at)
    AttendanceFactory(session=session, person=program.executive_sponsor, present=True)
    again = sponsor_presence(program_ids=[program.pk], as_of=AS_OF, with_sessions=False)[program.pk]
    assert (again.held, again.present) == (first.held + 1, first.present + 1)


def test_inside_one_scan_a_repeated_question_is_answered_without_the_database(organization):
    program = troubled_program(organization)
    with read_once_per_scan():
        first = sponsor_presence(program_ids=[program.pk], as_of=AS_OF, with_sessions=False)
        with CaptureQueriesContext(connection) as ctx:
            again = sponsor_presence(program_ids={program.pk}, as_of=AS_OF, with_sessions=False)
        assert again == first and again is not first
        assert len(ctx.captured_queries) == 0
        with CaptureQueriesContext(connection) as ctx:
            sponsor_presence(program_ids=[program.pk], as_of=AS_OF)  # another question: with sessions
        assert len(ctx.captured_queries) > 0


def _sponsor_sessions(organization, attendance: list[str]):
    """A program whose sponsor chairs a forum with one held session per entry of
    `attendance` ("present", "absent" or "delegate") in the 180 days before AS_OF."""
    program = ProgramFactory(organization=organization, started_on=dt.date(2022, 1, 10))
    forum = ForumFactory(program=program, started_on=dt.date(2023, 1, 1))
    stand_in = PersonFactory(organization=organization)
    for days, how in enumerate(attendance, start=10):
        held = dt.datetime.combine(AS_OF - dt.timedelta(days=days), dt.time(9), tzinfo=dt.UTC)
        session = ForumSessionFactory(forum=forum, status="held", scheduled_for=held)
        AttendanceFactory(
            session=session,
            person=program.executive_sponsor,
            present=how == "present",
            delegate=stand_in if how == "delegate" else None,
        )
    return program


def test_a_scan_reads_the_sponsors_sessions_once_for_every_rule_that_cites_them(organization):
    # sponsor_disengaged, sponsor_delegating and the risk assessment's sponsor factors all
    # cite the sessions; they share one read (the counts, then one session list), where
    # each used to read the sessions of its own programs.
    absent = _sponsor_sessions(organization, ["absent"] * 3)
    delegating = _sponsor_sessions(organization, ["present", "present", "delegate", "delegate"])
    faithful = _sponsor_sessions(organization, ["present"] * 3)
    with CaptureQueriesContext(connection) as ctx:
        scan(organization)
    presence_reads = [
        q
        for q in ctx.captured_queries
        if 'FROM "accountability_forumsession"' in q["sql"] and "sponsor_present" in q["sql"]
    ]
    assert len(presence_reads) == 2  # the counts of every program, the sessions of those that missed one
    raised = set(
        Flag.objects.filter(kind__in=[FlagKind.SPONSOR_DISENGAGED, FlagKind.SPONSOR_DELEGATING]).values_list(
            "kind", "program_id"
        )
    )
    assert raised == {(FlagKind.SPONSOR_DISENGAGED, absent.pk), (FlagKind.SPONSOR_DELEGATING, delegating.pk)}
    evidence = Flag.objects.get(kind=FlagKind.SPONSOR_DELEGATING).evidence
    assert (evidence["held"], evidence["delegated"], len(evidence["sessions"])) == (4, 2, 4)
    assert not Flag.objects.filter(program=faithful, kind__startswith="sponsor_").exists()


def test_a_scan_reads_the_metric_cascade_once_for_the_three_detectors_that_walk_it(organization):
    # metric_unowned, metric_not_cascaded and kumbaya_metric each read the metrics table
    # (Kumbaya twice); they share one read of every metric with its parent, owner and
    # program's champion.
    program = troubled_program(organization)
    outcome = MetricFactory(program=program, kind="outcome", level="strategic", owner=None)
    MetricFactory(program=program, kind="perception", level="tactical", parent=None)  # tied to nothing
    MetricFactory(program=program, kind="operational", level="operational", parent=outcome)
    with CaptureQueriesContext(connection) as ctx:
        scan(organization)
    cascade_reads = [
        q
        for q in ctx.captured_queries
        if q["sql"].startswith("SELECT")
        and 'FROM "metrics_metric"' in q["sql"]
        and '"metrics_metric"."parent_id"' in q["sql"]
    ]
    assert len(cascade_reads) == 1, [q["sql"][:120] for q in cascade_reads]
    raised = set(Flag.objects.filter(program=program).values_list("kind", flat=True))
    assert {FlagKind.METRIC_UNOWNED, FlagKind.KUMBAYA_METRIC} <= raised
