"""Early-bail risk for a past day reads the program as it stood on that day (SPEC §2, "as of
a date, the world as it stood"; §4, `--as-of` makes every rule reproducible), and
`early_phase` counts only once the program has started."""

import datetime as dt

import pytest
from django.utils import timezone

from accountability.risk import assess_risk
from programs.choices import ProgramStatus
from programs.dates import add_months
from programs.models import Program
from programs.services import program_transition
from tests.factories import PersonFactory, ProgramFactory

from .test_risk import AS_OF, LONG_AGO, _activate, _change, at, factor, points, stamp_history

pytestmark = pytest.mark.django_db

LATER = AS_OF + dt.timedelta(days=20)  # the day something changes, after AS_OF


@pytest.fixture
def program(organization):
    """A healthy program (as test_risk's): long started, 60-month horizon, an officer champion at 80%."""
    p = ProgramFactory(organization=organization, started_on=LONG_AGO)
    stamp_history(p, at(LONG_AGO))
    return p


def codes(program, as_of) -> set[str]:
    (assessment,) = [a for a in assess_risk(organization=program.organization, as_of=as_of) if a.program == program]
    return {f["code"] for f in assessment.factors}


# --- Status, horizon and champion as on as_of -----------------------------------------------


def test_a_program_paused_after_as_of_was_not_paused_on_it(program):
    _activate(program, 60)
    program_transition(program=program, to=ProgramStatus.PAUSED, reason="ops ultimatum", at=at(LATER))

    assert points(program, "program_paused") == 0  # AS_OF: still active
    assert points(program, "program_paused", as_of=LATER - dt.timedelta(days=1)) == 0
    assert points(program, "program_paused", as_of=LATER) == 35
    assert factor(program, "program_paused", as_of=LATER)["evidence"] == {"status": "paused"}


def test_a_horizon_cut_after_as_of_was_not_cut_on_it(program):
    _activate(program, 60)
    _change(program, LATER, committed_horizon_months=24)

    # On AS_OF the horizon was still the 60 months committed at activation: neither factor.
    assert {"horizon_shortened", "short_horizon"}.isdisjoint(codes(program, AS_OF))
    assert points(program, "horizon_shortened", as_of=LATER) == 20
    assert factor(program, "horizon_shortened", as_of=LATER)["evidence"]["committed_horizon_months"] == 24
    assert points(program, "short_horizon", as_of=LATER) == 0


def test_the_demos_pause_and_horizon_cut_are_absent_from_the_months_before_them(program):
    """The demo's story: horizon cut, then paused; a replayed scan of the months before holds neither."""
    _activate(program, 60)
    cut_on, paused_on = AS_OF + dt.timedelta(days=30), AS_OF + dt.timedelta(days=70)
    _change(program, cut_on, committed_horizon_months=24)
    program_transition(program=program, to=ProgramStatus.PAUSED, reason="ops ultimatum", at=at(paused_on))

    assert codes(program, AS_OF) == set()
    assert codes(program, cut_on) == {"horizon_shortened"}
    assert codes(program, paused_on) == {"horizon_shortened", "program_paused"}


def test_the_champion_on_as_of_is_the_one_judged(program):
    """The officer champion at 80% is replaced after AS_OF by a director at 20%."""
    director = PersonFactory(organization=program.organization, is_officer=False)
    _change(program, LATER, customer_champion=director, champion_time_pct=20)

    assert points(program, "champion_weak") == 0
    assert points(program, "champion_turnover") == 0
    weak = factor(program, "champion_weak", as_of=LATER)
    assert (weak["points"], weak["evidence"]) == (15, {"champion_id": director.pk, "reason": "not_officer"})
    assert points(program, "champion_turnover", as_of=LATER) == 10


def test_a_weak_champion_replaced_after_as_of_still_counts_on_it(program):
    director = PersonFactory(organization=program.organization, is_officer=False)
    _change(program, AS_OF - dt.timedelta(days=400), customer_champion=director)
    officer = PersonFactory(organization=program.organization, is_officer=True)
    _change(program, LATER, customer_champion=officer)

    assert factor(program, "champion_weak")["evidence"] == {"champion_id": director.pk, "reason": "not_officer"}
    assert points(program, "champion_weak", as_of=LATER) == 0


def test_the_champions_time_on_as_of_is_the_one_judged(program):
    _change(program, LATER, champion_time_pct=30)
    assert points(program, "champion_weak") == 0
    assert factor(program, "champion_weak", as_of=LATER)["evidence"] == {
        "champion_id": program.customer_champion_id,
        "reason": "part_time",
        "champion_time_pct": 30,
    }


def test_results_expected_early_reads_the_dates_in_force_on_as_of(program):
    _change(program, LATER, first_results_due_on=add_months(program.started_on, 6))
    assert points(program, "results_expected_early") == 0
    assert points(program, "results_expected_early", as_of=LATER) == 10


def test_a_scan_of_today_reads_the_program_as_it_is(program):
    """Today nothing has changed since: the current row is the answer."""
    _activate(program, 60)
    program_transition(program=program, to=ProgramStatus.PAUSED, reason="ops ultimatum", at=at(LATER))
    Program.objects.filter(pk=program.pk).update(committed_horizon_months=24, champion_time_pct=30)
    program.refresh_from_db()

    today = timezone.localdate()
    assert codes(program, today) == {"program_paused", "horizon_shortened", "champion_weak"}


# --- early_phase: only once started -----------------------------------------------------------

STARTED = dt.date(2024, 2, 29)  # a leap day: 12 months on is 2025-02-28 (add_months holds the month's end)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (STARTED - dt.timedelta(days=1), 0),  # not started yet
        (STARTED, 10),
        (add_months(STARTED, 12), 10),
        (add_months(STARTED, 12) + dt.timedelta(days=1), 5),
        (add_months(STARTED, 24), 5),
        (add_months(STARTED, 24) + dt.timedelta(days=1), 0),
    ],
    ids=str,
)
def test_early_phase_counts_from_the_start_on(program, as_of, expected):
    Program.objects.filter(pk=program.pk).update(started_on=STARTED)
    assert points(program, "early_phase", as_of=as_of) == expected


def test_a_program_not_started_on_as_of_is_assessed_without_early_phase(organization):
    """A scan of 1900-01-01 gave every program early_phase 10; not started is no phase at all.
    The program is still assessed: its plan's own risks (here results due too early) count."""
    program = ProgramFactory(organization=organization, started_on=STARTED, first_results_due_on=add_months(STARTED, 6))
    assert codes(program, dt.date(1900, 1, 1)) == {"results_expected_early"}
