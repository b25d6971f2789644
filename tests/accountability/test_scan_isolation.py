"""A failure computing one program never stops the scan of the others (SPEC §2, Time and
evidence): the failure is recorded on the ScanRun with its program, that program's flags of
the failed kind are left exactly as they were, and a scan that raises resolves nothing."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability.choices import FlagKind, FlagStatus, ScanStatus
from accountability.detectors import DETECTORS
from accountability.events import flags_changed_signal
from accountability.models import Flag, RiskAssessment, ScanRun
from accountability.scans import scan_organization
from programs.models import Program
from tests.factories import InitiativeFactory, ProgramFactory

AS_OF = dt.date(2025, 6, 15)
LATER = AS_OF + dt.timedelta(days=1)

pytestmark = pytest.mark.django_db


def at_risk(organization) -> Program:
    """Paused (35) with a 24-month horizon (15): high early-bail risk, and overdue work."""
    program = ProgramFactory(
        organization=organization, status="paused", committed_horizon_months=24, started_on=dt.date(2022, 1, 10)
    )
    InitiativeFactory(program=program, status="in_progress", starts_on=dt.date(2025, 1, 1), due_on=dt.date(2025, 5, 1))
    return program


def flag(program, kind) -> Flag:
    return Flag.objects.get(program=program, kind=kind)


def flag_state(program, kind) -> tuple:
    f = flag(program, kind)
    return f.status, f.last_detected_on, f.resolution_note, f.closed_on


def calm_down(program) -> None:
    """Resumed with a five-year horizon and the work done: nothing left to flag."""
    Program.objects.filter(pk=program.pk).update(status="active", committed_horizon_months=60)
    program.initiatives.update(status="done")


# --- risk ------------------------------------------------------------------------------


def test_a_program_whose_risk_cannot_be_computed_keeps_its_early_bail_flag_and_the_others_are_assessed(
    organization,
):
    broken, healthy = at_risk(organization), at_risk(organization)
    first = scan_organization(organization=organization, as_of=AS_OF)
    assert first.status == ScanStatus.SUCCEEDED
    before = flag_state(broken, FlagKind.EARLY_BAIL_RISK)
    assert before[0] == FlagStatus.OPEN
    # Both calm down, but one holds a start date from before dates were checked (a v1 row,
    # in its history too: risk reads the program as on as_of): the month arithmetic of
    # results_expected_early on it fails (early_phase skips a start after as_of).
    calm_down(broken)
    calm_down(healthy)
    v1_dates = {"started_on": dt.date(9999, 12, 31), "first_results_due_on": dt.date(2025, 1, 1)}
    Program.objects.filter(pk=broken.pk).update(**v1_dates)
    Program.history.filter(id=broken.pk).update(**v1_dates)

    run = scan_organization(organization=organization, as_of=LATER)

    run.refresh_from_db()
    assert run.status == ScanStatus.FAILED
    assert [(e["where"], e["kind"], e["program_id"], e["error"]) for e in run.errors] == [
        ("risk", "early_bail_risk", broken.pk, "ValueError: year 10000 is out of range")
    ]
    # The other program was assessed and its flag resolved; the broken one's is as it was.
    assert RiskAssessment.objects.get(program=healthy, as_of=LATER).level == "low"
    assert not RiskAssessment.objects.filter(program=broken, as_of=LATER).exists()
    assert flag(healthy, FlagKind.EARLY_BAIL_RISK).status == FlagStatus.RESOLVED
    assert flag_state(broken, FlagKind.EARLY_BAIL_RISK) == before
    # Its detector flags were computed as usual (only risk failed): the overdue work resolved.
    assert flag(broken, FlagKind.INITIATIVE_OVERDUE).status == FlagStatus.RESOLVED

    # Once the date is corrected, the next scan assesses it and the flag follows.
    Program.objects.filter(pk=broken.pk).update(started_on=dt.date(2022, 1, 10))
    Program.history.filter(id=broken.pk).update(started_on=dt.date(2022, 1, 10))
    fixed = scan_organization(organization=organization, as_of=LATER)
    assert (fixed.status, fixed.errors) == (ScanStatus.SUCCEEDED, [])
    assert flag(broken, FlagKind.EARLY_BAIL_RISK).status == FlagStatus.RESOLVED


# --- detectors -------------------------------------------------------------------------


def fail_for(program_id: int, kind: str):
    """The real detector of `kind`, failing whenever it has to compute `program_id`.

    Fault injection through the registry, as a row of bad data in one program would make it
    fail: run for the whole organization it fails, run for any other program it works.
    """
    real = DETECTORS[kind]

    def detector(*, organization, as_of, program_ids=None):
        if program_ids is None or program_id in program_ids:
            raise RuntimeError(f"bad data in program {program_id}")
        return real(organization=organization, as_of=as_of, program_ids=program_ids)

    return detector


def test_a_detector_failing_for_one_program_leaves_that_programs_flags_of_its_kind_as_they_were(
    organization, monkeypatch
):
    broken, healthy = at_risk(organization), at_risk(organization)
    scan_organization(organization=organization, as_of=AS_OF)
    before = flag_state(broken, FlagKind.INITIATIVE_OVERDUE)
    # A third program's overdue work appears: the kind is still detected for the others.
    newcomer = at_risk(organization)
    broken.initiatives.update(status="done")
    healthy.initiatives.update(status="done")
    monkeypatch.setitem(
        DETECTORS, FlagKind.INITIATIVE_OVERDUE.value, fail_for(broken.pk, FlagKind.INITIATIVE_OVERDUE.value)
    )

    run = scan_organization(organization=organization, as_of=LATER)

    run.refresh_from_db()
    assert run.status == ScanStatus.FAILED
    error = f"RuntimeError: bad data in program {broken.pk}"
    assert [(e["where"], e["kind"], e["program_id"], e["error"]) for e in run.errors] == [
        ("detector:initiative_overdue", "initiative_overdue", broken.pk, error)
    ]
    assert flag_state(broken, FlagKind.INITIATIVE_OVERDUE) == before  # not resolved as "condition cleared"
    assert flag(healthy, FlagKind.INITIATIVE_OVERDUE).status == FlagStatus.RESOLVED
    assert flag(newcomer, FlagKind.INITIATIVE_OVERDUE).status == FlagStatus.OPEN
    # The broken program's other kinds were synced: its stalled flag resolved with the work done.
    assert flag(broken, FlagKind.INITIATIVE_STALLED).status == FlagStatus.RESOLVED


def test_without_the_failure_the_same_scan_resolves_that_flag(organization):
    """The other side of the test above: the flag it keeps is one the scan would resolve."""
    broken = at_risk(organization)
    scan_organization(organization=organization, as_of=AS_OF)
    broken.initiatives.update(status="done")
    run = scan_organization(organization=organization, as_of=LATER)
    assert (run.status, run.errors) == (ScanStatus.SUCCEEDED, [])
    assert flag(broken, FlagKind.INITIATIVE_OVERDUE).status == FlagStatus.RESOLVED


def test_a_detector_failing_for_every_program_is_one_error_and_its_kind_is_left_alone(organization, monkeypatch):
    programs = [at_risk(organization), at_risk(organization)]
    scan_organization(organization=organization, as_of=AS_OF)
    for program in programs:
        program.initiatives.update(status="done")

    def broken(**kwargs):
        raise RuntimeError("detector exploded")

    monkeypatch.setitem(DETECTORS, FlagKind.INITIATIVE_OVERDUE.value, broken)
    run = scan_organization(organization=organization, as_of=LATER)

    run.refresh_from_db()
    assert [(e["where"], e["program_id"]) for e in run.errors] == [("detector:initiative_overdue", None)]
    assert set(Flag.objects.filter(kind=FlagKind.INITIATIVE_OVERDUE).values_list("status", "last_detected_on")) == {
        (FlagStatus.OPEN, AS_OF)
    }
    assert set(Flag.objects.filter(kind=FlagKind.INITIATIVE_STALLED).values_list("status", flat=True)) == {
        FlagStatus.RESOLVED
    }


def test_isolating_a_failing_detector_costs_queries_only_on_the_day_it_fails(
    organization, monkeypatch, django_assert_max_num_queries
):
    """A clean scan runs each detector once for the organization; the program-by-program
    retry happens only for a detector that failed (a query count per program, that day only)."""
    programs = [at_risk(organization) for _ in range(3)]
    scan_organization(organization=organization, as_of=AS_OF)
    with django_assert_max_num_queries(200) as clean:
        scan_organization(organization=organization, as_of=LATER)
    monkeypatch.setitem(
        DETECTORS, FlagKind.INITIATIVE_OVERDUE.value, fail_for(programs[0].pk, FlagKind.INITIATIVE_OVERDUE.value)
    )
    with django_assert_max_num_queries(len(clean.captured_queries) + 10 * len(programs)):
        run = scan_organization(organization=organization, as_of=LATER)
    assert [e["program_id"] for e in run.errors] == [programs[0].pk]


# --- a scan that raises ------------------------------------------------------------------


def test_a_scan_that_raises_after_resolving_flags_resolves_nothing(organization):
    program = at_risk(organization)
    scan_organization(organization=organization, as_of=AS_OF)
    live = set(Flag.objects.live().values_list("id", "status", "last_detected_on"))
    calm_down(program)

    def outbox_down(**kwargs):
        if kwargs["resolved"]:
            raise RuntimeError("outbox unavailable")

    # The flags' events are sent inside the scan's transaction (their outbox rows commit
    # with it): a receiver that fails after the sync resolved flags makes the scan raise.
    flags_changed_signal.connect(outbox_down, dispatch_uid="test-outbox-down")
    try:
        with pytest.raises(RuntimeError, match="outbox unavailable"):
            scan_organization(organization=organization, as_of=LATER)
    finally:
        flags_changed_signal.disconnect(dispatch_uid="test-outbox-down")

    assert set(Flag.objects.live().values_list("id", "status", "last_detected_on")) == live
    assert not Flag.objects.filter(status=FlagStatus.RESOLVED).exists()
    assert not RiskAssessment.objects.filter(as_of=LATER).exists()
    run = ScanRun.objects.latest("id")
    assert run.status == ScanStatus.FAILED and (run.raised, run.refreshed, run.resolved) == (0, 0, 0)
    assert run.errors[-1]["where"] == "scan" and "outbox unavailable" in run.errors[-1]["error"]


def test_a_detector_failing_with_no_program_left_to_try_resolves_nothing_of_its_kind(organization, monkeypatch):
    program = at_risk(organization)
    scan_organization(organization=organization, as_of=AS_OF)
    Program.objects.filter(pk=program.pk).update(status="completed")  # no scanned program left

    def broken(**kwargs):
        raise RuntimeError("detector exploded")

    monkeypatch.setitem(DETECTORS, FlagKind.INITIATIVE_OVERDUE.value, broken)
    run = scan_organization(organization=organization, as_of=LATER)

    assert [(e["where"], e["program_id"]) for e in run.errors] == [("detector:initiative_overdue", None)]
    assert flag(program, FlagKind.INITIATIVE_OVERDUE).status == FlagStatus.OPEN
    # The other kinds of a program no longer scanned are resolved, as ever.
    assert flag(program, FlagKind.INITIATIVE_STALLED).status == FlagStatus.RESOLVED


def test_a_database_error_in_one_detector_spoils_neither_those_before_nor_those_after(organization, monkeypatch):
    """The detectors share one savepoint while they succeed. A query failing halfway (the
    transaction is then unusable until rolled back) costs only that detector's kind: the
    findings of the detectors before it are kept, and those after it run on the database
    restored. The query count of the clean pass is the savepoint's two, not two per detector."""
    program = at_risk(organization)
    order = list(DETECTORS)
    failing = FlagKind.METRIC_UNOWNED.value
    before, after = FlagKind.INITIATIVE_OVERDUE.value, FlagKind.NO_BUSINESS_OUTCOME.value
    assert order.index(before) < order.index(failing) < order.index(after)

    def reads_a_missing_table(**kwargs):
        with connection.cursor() as cursor:  # on PostgreSQL the transaction is then aborted
            cursor.execute("SELECT * FROM no_such_table")
        return []

    scan_organization(organization=organization, as_of=AS_OF - dt.timedelta(days=2))
    with CaptureQueriesContext(connection) as clean:  # a rescan, like the failing one
        scan_organization(organization=organization, as_of=AS_OF - dt.timedelta(days=1))
    monkeypatch.setitem(DETECTORS, failing, reads_a_missing_table)
    with CaptureQueriesContext(connection) as ctx:
        run = scan_organization(organization=organization, as_of=AS_OF)

    assert [(e["where"], e["program_id"]) for e in run.errors] == [(f"detector:{failing}", None)]
    assert "no_such_table" in run.errors[0]["error"]
    # Both found again by the failing day's scan.
    assert flag_state(program, before)[:2] == (FlagStatus.OPEN, AS_OF)
    assert flag_state(program, after)[:2] == (FlagStatus.OPEN, AS_OF)
    # A clean scan opens fewer savepoints than there are detectors (it used to open one per
    # detector, and more for the flags and the nudges); the failing day adds the
    # one for the detectors after the failure and one per program retried (here one).
    assert _savepoints(clean) < len(DETECTORS)
    assert _savepoints(ctx) == _savepoints(clean) + 2


def _savepoints(ctx) -> int:
    return sum(1 for q in ctx.captured_queries if q["sql"].startswith("SAVEPOINT"))
