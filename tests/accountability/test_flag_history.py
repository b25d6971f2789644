"""A flag's severity and title as of a day come from its history (SPEC §2, "with their
severity and status as of D"): the latest snapshot written by a scan dated on or before
the day (`Flag.objects.with_severity_on`), read alike by the counts, the top flags and the
lists; from today on, the stored columns without reading the history."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability.choices import Severity
from accountability.models import Flag
from accountability.selectors import flag_counts, flags_open_on, top_open_flags
from programs.dates import local_date

from .flag_story import AFTER, BETWEEN, D0, SCANS, TODAY, build_story, late_title

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(organization):
    return build_story(organization)


def state(flag: Flag, day: dt.date) -> tuple[str, str]:
    flag = Flag.objects.with_state_on(day).get(pk=flag.pk)
    return flag.severity_on, flag.title_on


def test_the_stored_flag_is_the_latest_scans(story):
    flag = story["late_flag"]
    name = story["late"].name
    assert (flag.severity, flag.title) == (Severity.HIGH, late_title(name, 41))
    assert flag.first_detected_on == D0 and flag.last_detected_on == SCANS[-1]


def test_between_the_scans_the_flag_is_as_the_last_scan_before_found_it(story):
    name = story["late"].name
    # Raised medium on D0; the D0+14 scan found it 15 days overdue, still medium.
    assert state(story["late_flag"], D0) == (Severity.MEDIUM, late_title(name, 1))
    assert state(story["late_flag"], D0 + dt.timedelta(days=13)) == (Severity.MEDIUM, late_title(name, 8))
    assert state(story["late_flag"], BETWEEN) == (Severity.MEDIUM, late_title(name, 15))
    # The day before the scan that made it high, and that day.
    assert state(story["late_flag"], SCANS[3] - dt.timedelta(days=1))[0] == Severity.MEDIUM
    assert state(story["late_flag"], SCANS[3]) == (Severity.HIGH, late_title(name, 32))
    assert state(story["late_flag"], AFTER) == (Severity.HIGH, late_title(name, 32))
    # Last detected on or before the day: the stored values.
    assert state(story["late_flag"], SCANS[-1]) == (Severity.HIGH, late_title(name, 41))
    assert state(story["late_flag"], TODAY) == (Severity.HIGH, late_title(name, 41))


def test_a_snapshot_counts_for_its_scans_day_not_for_when_it_was_written(story):
    # Every snapshot was written today (the scans replayed past days), yet each speaks for its as_of.
    history = story["late_flag"].history.order_by("history_id")
    assert min(local_date(h.history_date) for h in history) > SCANS[-1]
    assert state(story["late_flag"], BETWEEN)[0] == Severity.MEDIUM


def test_without_history_the_stored_values(story):
    flag = story["late_flag"]
    flag.history.all().delete()
    assert state(flag, BETWEEN) == (flag.severity, flag.title)


def test_from_today_on_no_history_is_read(story):
    for day in (TODAY, TODAY + dt.timedelta(days=30)):
        with CaptureQueriesContext(connection) as ctx:
            list(flags_open_on(as_of=day, program_ids=[story["program"].id]))
            flag_counts(program_ids=[story["program"].id], as_of=day)
        assert not any("historical" in q["sql"].lower() for q in ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        list(flags_open_on(as_of=BETWEEN, program_ids=[story["program"].id]))
    assert any("historical" in q["sql"].lower() for q in ctx.captured_queries)


@pytest.mark.parametrize("day", [BETWEEN, AFTER, TODAY], ids=["between", "after", "today"])
def test_counts_top_flags_and_list_agree_on_each_day(story, day):
    program_id = story["program"].id
    listed = list(flags_open_on(as_of=day, program_ids=[program_id]))
    counts = flag_counts(program_ids=[program_id], as_of=day)[program_id]
    assert counts == {s: sum(1 for f in listed if f.severity_on == s) for s in counts}
    # Most severe first, by the severity on the day.
    ranks = [f.severity_rank for f in listed]
    assert ranks == sorted(ranks, reverse=True)
    tops = top_open_flags(program_ids=[program_id], as_of=day, per_program=len(listed))[program_id]
    assert [(t["id"], t["severity"], t["title"]) for t in tops] == [(f.id, f.severity_on, f.title_on) for f in listed]
    late = next(f for f in listed if f.id == story["late_flag"].id)
    expected = Severity.MEDIUM if day == BETWEEN else Severity.HIGH
    assert late.severity_on == expected


def test_the_query_counts_do_not_grow_with_the_flags(organization, story):
    def count(day):
        with CaptureQueriesContext(connection) as ctx:
            list(flags_open_on(as_of=day, program_ids=[story["program"].id]))
            flag_counts(program_ids=[story["program"].id], as_of=day)
            top_open_flags(program_ids=[story["program"].id], as_of=day, per_program=3)
        return len(ctx.captured_queries)

    before = count(BETWEEN)
    build_story(organization, name="Second story")
    assert count(BETWEEN) == before == 3
