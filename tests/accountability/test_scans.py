"""The full scan: flags and risk together, idempotency, resolution on a fix, scope, the
per-organization lock, failure recording, queueing and the Celery tasks (eager here; see
test_worker.py for a real worker)."""

import datetime as dt
import threading
import time

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accountability import locks
from accountability.choices import FlagKind, FlagStatus, ScanStatus
from accountability.detectors import DETECTORS, run_detectors
from accountability.locks import ScanLocked, organization_scan_lock
from accountability.models import Flag, RiskAssessment, ScanRun
from accountability.scans import scan_organization, scan_queue
from accountability.tasks import scan_all_organizations_task, scan_organization_task
from programs.authentication import ApiKeyPrincipal
from programs.choices import ProgramStatus
from tests.conftest import missing_service
from tests.factories import (
    ApiKeyFactory,
    InitiativeFactory,
    MetricFactory,
    OrganizationFactory,
    ProgramFactory,
    ProgressUpdateFactory,
)

AS_OF = dt.date(2025, 6, 15)

pytestmark = pytest.mark.django_db


def days_ago(n: int) -> dt.date:
    return AS_OF - dt.timedelta(days=n)


def troubled_program(organization, **fields):
    """Stalled and overdue work, no outcome metric, a not-ambitious target."""
    program = ProgramFactory(organization=organization, started_on=dt.date(2022, 1, 10), **fields)
    InitiativeFactory(program=program, starts_on=days_ago(100), due_on=days_ago(10))
    MetricFactory(program=program, kind="perception", baseline=50, target=45)  # asks for no improvement
    return program


def expected_keys(organization, as_of=AS_OF) -> set[tuple[str, str, int]]:
    return {f.key for f in run_detectors(organization=organization, as_of=as_of)}


def live_keys(organization) -> set[tuple[str, str, int]]:
    return set(Flag.objects.live().filter(organization=organization).values_list("kind", "subject_type", "subject_id"))


def scan(organization, as_of=AS_OF, **kwargs) -> ScanRun:
    return scan_organization(organization=organization, as_of=as_of, **kwargs)


@pytest.fixture
def no_redis(settings):
    settings.REDIS_URL = ""


# --- The scan --------------------------------------------------------------------------


def test_a_scan_raises_every_finding_assesses_risk_and_records_the_run(organization):
    program = troubled_program(organization)

    run = scan(organization)

    run.refresh_from_db()
    keys = expected_keys(organization)
    assert {FlagKind.INITIATIVE_STALLED, FlagKind.INITIATIVE_OVERDUE, FlagKind.METRIC_NEGOTIATED_AWAY} <= {
        k for k, _, _ in keys
    }
    assert live_keys(organization) == keys
    assert (run.status, run.raised, run.refreshed, run.resolved, run.errors) == (
        ScanStatus.SUCCEEDED,
        len(keys),
        0,
        0,
        [],
    )
    assert run.as_of == AS_OF and run.started_at <= run.finished_at
    assessment = RiskAssessment.objects.get(program=program)
    assert (assessment.as_of, assessment.scan_run_id) == (AS_OF, run.pk)
    # The negotiated-away flag raised by this very scan already counts in its risk.
    assert {"code": "metrics_negotiated", "points": 5} in [
        {k: f[k] for k in ("code", "points")} for f in assessment.factors
    ]


def _snapshot(organization):
    flags = list(
        Flag.objects.filter(organization=organization)
        .order_by("id")
        .values("id", "kind", "subject_id", "status", "severity", "title", "evidence", "owner_id", "first_detected_at")
    )
    risk = list(RiskAssessment.objects.order_by("id").values("id", "program_id", "as_of", "score", "level", "factors"))
    return flags, risk


def test_the_same_scan_twice_changes_nothing_the_second_time(organization):
    troubled_program(organization)
    troubled_program(organization, status=ProgramStatus.PAUSED, customer_champion=None)
    first = scan(organization)
    before = _snapshot(organization)

    second = scan(organization)

    assert _snapshot(organization) == before
    assert (second.raised, second.resolved, second.refreshed) == (0, 0, first.raised)
    assert ScanRun.objects.count() == 2


def test_fixing_a_condition_and_rescanning_resolves_its_flag(organization):
    program = troubled_program(organization)
    scan(organization)
    initiative = program.initiatives.get()
    stalled = Flag.objects.get(kind=FlagKind.INITIATIVE_STALLED, subject_id=initiative.pk)

    ProgressUpdateFactory(initiative=initiative, reported_on=days_ago(1))
    run = scan(organization)

    stalled.refresh_from_db()
    assert (stalled.status, stalled.resolution_note, stalled.resolved_by) == ("resolved", "condition cleared", None)
    assert run.resolved == 1
    assert Flag.objects.get(kind=FlagKind.INITIATIVE_OVERDUE).status == FlagStatus.OPEN


def test_a_high_risk_program_gets_an_early_bail_flag_owned_by_the_ceo(organization, settings):
    ceo = organization.people.create(name="Dana CEO", title="CEO", is_officer=True)
    organization.ceo = ceo
    organization.save()
    program = troubled_program(organization, status=ProgramStatus.PAUSED, customer_champion=None)  # 35 + 15 + 5

    scan(organization)

    flag = Flag.objects.get(kind=FlagKind.EARLY_BAIL_RISK)
    assessment = RiskAssessment.objects.get(program=program)
    assert assessment.level == "high" and flag.severity == "high"
    assert (flag.subject_type, flag.subject_id, flag.owner_id) == ("program", program.pk, ceo.pk)

    # Resuming and naming a champion brings it down: the early-bail flag resolves.
    program.status = ProgramStatus.ACTIVE
    program.customer_champion = ceo
    program.save()
    scan(organization)
    flag.refresh_from_db()
    assert flag.status == FlagStatus.RESOLVED


def test_a_scan_limited_to_some_programs_leaves_the_others_alone(organization):
    mine, other = troubled_program(organization), troubled_program(organization)
    scan(organization)
    other.initiatives.update(status="done")

    run = scan(organization, program_ids=[mine.pk])

    assert run.program_ids == [mine.pk]
    assert run.resolved == 0
    assert Flag.objects.live().filter(program=other, kind=FlagKind.INITIATIVE_STALLED).count() == 1
    assert RiskAssessment.objects.filter(scan_run=run).get().program == mine


def test_the_scan_uses_the_same_number_of_queries_whatever_the_size(organization, other_organization):
    troubled_program(organization)
    for _ in range(6):
        troubled_program(other_organization)
    with CaptureQueriesContext(connection) as small:
        scan(organization)
    with CaptureQueriesContext(connection) as large:
        scan(other_organization)
    if connection.vendor == "postgresql":
        assert len(large.captured_queries) == len(small.captured_queries)
    else:
        # SQLite takes at most 999 parameters a statement, so Django splits a bulk insert of
        # wide rows (flag snapshots) into batches; the seven-program scan needs one more.
        assert len(small.captured_queries) <= len(large.captured_queries) <= len(small.captured_queries) + 2
    # 79 on PostgreSQL (85 on SQLite): the rules and risk, the escalation ladder's read and
    # the nudges' seven queries with their savepoint (fixed numbers, checked in their own
    # tests). The detectors share one savepoint: one each made it 118.
    assert len(small.captured_queries) <= 85


# --- Failures ------------------------------------------------------------------------------


def test_a_failing_detector_is_named_and_only_its_kind_is_left_untouched(organization, monkeypatch):
    program = troubled_program(organization)
    scan(organization)
    program.initiatives.update(status="done")  # both initiative flags would resolve now

    def broken(**kwargs):
        raise RuntimeError("detector exploded")

    # Fault injection through the registry: the real detector is swapped for a broken one.
    monkeypatch.setitem(DETECTORS, FlagKind.INITIATIVE_OVERDUE.value, broken)
    run = scan(organization)

    run.refresh_from_db()
    assert run.status == ScanStatus.FAILED
    assert [e["where"] for e in run.errors] == ["detector:initiative_overdue"]
    assert "detector exploded" in run.errors[0]["error"]
    assert Flag.objects.get(kind=FlagKind.INITIATIVE_OVERDUE).status == FlagStatus.OPEN  # untouched
    assert Flag.objects.get(kind=FlagKind.INITIATIVE_STALLED).status == FlagStatus.RESOLVED
    assert run.resolved == 1


def test_a_scan_stopped_by_its_time_limit_writes_nothing_and_is_recorded_failed(organization, monkeypatch):
    troubled_program(organization)

    def too_slow(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setitem(DETECTORS, list(DETECTORS)[-1], too_slow)
    with pytest.raises(SoftTimeLimitExceeded):
        scan(organization)

    run = ScanRun.objects.get()
    assert run.status == ScanStatus.FAILED and run.finished_at is not None
    assert run.errors[-1]["where"] == "scan" and "SoftTimeLimitExceeded" in run.errors[-1]["error"]
    assert not Flag.objects.exists()
    assert not RiskAssessment.objects.exists()


# --- The lock ---------------------------------------------------------------------------


def test_database_lock_a_running_scan_makes_the_second_wait_then_give_up(organization, no_redis, settings):
    settings.CXGOV_SCAN_LOCK_WAIT = 0.3
    troubled_program(organization)
    ScanRun.objects.create(organization=organization, as_of=AS_OF, status=ScanStatus.RUNNING, started_at=timezone.now())

    started = time.monotonic()
    with pytest.raises(ScanLocked, match="Another scan"):
        scan(organization)

    assert time.monotonic() - started >= 0.3
    waiting = ScanRun.objects.exclude(status=ScanStatus.RUNNING).get()
    assert waiting.status == ScanStatus.QUEUED and waiting.started_at is None
    assert not Flag.objects.exists()


def test_database_lock_a_scan_left_running_by_a_dead_worker_expires(organization, no_redis, settings):
    settings.CXGOV_SCAN_LOCK_WAIT = 0
    troubled_program(organization)
    dead_since = timezone.now() - dt.timedelta(seconds=settings.CXGOV_SCAN_TIME_LIMIT + 61)
    ScanRun.objects.create(organization=organization, as_of=AS_OF, status=ScanStatus.RUNNING, started_at=dead_since)

    assert scan(organization).status == ScanStatus.SUCCEEDED


def test_database_lock_is_per_organization(organization, other_organization, no_redis, settings):
    settings.CXGOV_SCAN_LOCK_WAIT = 0
    ScanRun.objects.create(
        organization=other_organization, as_of=AS_OF, status=ScanStatus.RUNNING, started_at=timezone.now()
    )
    assert scan(organization).status == ScanStatus.SUCCEEDED


@pytest.fixture
def redis_lock_settings(settings):
    if not settings.REDIS_URL:
        missing_service("the Redis lock needs REDIS_URL")
    locks._redis().delete(*[k for k in locks._redis().keys("cxgov:scan-lock:*")] or ["none"])
    return settings


def test_redis_lock_held_elsewhere_makes_the_scan_wait_then_give_up(organization, redis_lock_settings):
    redis_lock_settings.CXGOV_SCAN_LOCK_WAIT = 0.3
    other = locks._redis().lock(locks.lock_key(organization.pk), timeout=30)
    assert other.acquire(blocking=False)
    try:
        with pytest.raises(ScanLocked):
            scan(organization)
    finally:
        other.release()
    assert scan(organization).status == ScanStatus.SUCCEEDED


def test_redis_lock_of_a_dead_holder_expires_and_a_live_one_is_renewed(organization, redis_lock_settings):
    redis_lock_settings.CXGOV_SCAN_LOCK_TTL = 1
    redis_lock_settings.CXGOV_SCAN_LOCK_WAIT = 5
    run = ScanRun.objects.create(organization=organization, as_of=AS_OF)
    dead = locks._redis().lock(locks.lock_key(organization.pk), timeout=1)  # never renewed, like a killed worker
    assert dead.acquire(blocking=False)

    started = time.monotonic()
    with organization_scan_lock(organization.pk, scan_run=run):
        assert time.monotonic() - started < 3  # got it once the dead holder's key expired
        time.sleep(2.5)  # longer than the TTL: the heartbeat keeps it ours
        intruder = locks._redis().lock(locks.lock_key(organization.pk), timeout=1)
        assert not intruder.acquire(blocking=False)
    assert not locks._redis().exists(locks.lock_key(organization.pk))


@pytest.mark.django_db(transaction=True)
def test_two_scans_started_together_never_overlap_and_leave_one_live_flag_each():
    if connection.vendor != "postgresql":
        missing_service("concurrent scans need PostgreSQL (set DATABASE_URL)")
    organization = OrganizationFactory()
    for _ in range(3):
        troubled_program(organization)
    barrier = threading.Barrier(2)
    runs, errors = [], []

    def worker():
        try:
            barrier.wait(10)
            runs.append(scan(organization))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert errors == []
    first, second = sorted((ScanRun.objects.get(pk=r.pk) for r in runs), key=lambda r: r.started_at)
    assert first.status == second.status == ScanStatus.SUCCEEDED
    assert first.finished_at <= second.started_at  # the second waited for the lock
    assert (first.raised, second.raised, second.resolved) == (len(expected_keys(organization)), 0, 0)
    keys = list(Flag.objects.live().values_list("kind", "subject_type", "subject_id"))
    assert len(keys) == len(set(keys))


# --- Queueing and tasks (eager) --------------------------------------------------------------


def test_scan_queue_records_a_queued_run_and_runs_it_after_commit(
    organization, office_user, django_capture_on_commit_callbacks
):
    troubled_program(organization)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = scan_queue(organization=organization, as_of=AS_OF, actor=office_user)
    assert run.status == ScanStatus.QUEUED and run.requested_by == office_user
    assert not Flag.objects.exists()  # nothing runs before the commit

    for callback in callbacks:
        callback()
    run.refresh_from_db()
    assert run.status == ScanStatus.SUCCEEDED and run.raised > 0


def test_scan_queue_by_an_api_key_records_nobody_and_keeps_the_program_scope(
    organization, django_capture_on_commit_callbacks
):
    program = troubled_program(organization)
    troubled_program(organization)
    principal = ApiKeyPrincipal(ApiKeyFactory(organization=organization, role="office"))
    with django_capture_on_commit_callbacks(execute=True):
        run = scan_queue(organization=organization, as_of=AS_OF, actor=principal, program_ids=[program.pk])
    run.refresh_from_db()
    assert run.requested_by is None and run.program_ids == [program.pk]
    assert set(Flag.objects.values_list("program_id", flat=True)) == {program.pk}


def test_the_task_returns_early_for_a_finished_or_missing_run(organization):
    troubled_program(organization)
    run = scan(organization)
    Flag.objects.all().delete()

    assert scan_organization_task.apply(args=[run.pk]).get() is None
    assert scan_organization_task.apply(args=[10**9]).get() is None
    assert not Flag.objects.exists()  # it did not scan again


def test_the_task_reruns_a_run_left_running_by_a_dead_worker(organization):
    troubled_program(organization)
    run = ScanRun.objects.create(
        organization=organization, as_of=AS_OF, status=ScanStatus.RUNNING, started_at=timezone.now()
    )
    result = scan_organization_task.apply(args=[run.pk]).get()
    run.refresh_from_db()
    assert result["status"] == run.status == ScanStatus.SUCCEEDED
    assert live_keys(organization) == expected_keys(organization)


def test_scan_all_fans_out_one_run_per_organization_once(
    organization, other_organization, django_capture_on_commit_callbacks
):
    troubled_program(organization)
    troubled_program(other_organization)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert scan_all_organizations_task.apply(kwargs={"as_of": AS_OF.isoformat()}).get() == 2
        # A duplicate beat message while those are queued adds nothing.
        assert scan_all_organizations_task.apply(kwargs={"as_of": AS_OF.isoformat()}).get() == 0
    assert len(callbacks) == 2
    assert sorted(ScanRun.objects.values_list("organization_id", flat=True)) == sorted(
        [organization.pk, other_organization.pk]
    )

    for callback in callbacks:
        callback()
    assert set(ScanRun.objects.values_list("status", "as_of")) == {(ScanStatus.SUCCEEDED, AS_OF)}
    assert live_keys(organization) == expected_keys(organization)
    assert live_keys(other_organization) == expected_keys(other_organization)


def test_scan_all_defaults_to_today(organization, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        scan_all_organizations_task.apply().get()
    assert ScanRun.objects.get().as_of == timezone.localdate()


def test_a_duplicate_delivery_that_waited_for_the_lock_does_not_redo_a_finished_run(organization):
    troubled_program(organization)
    run = scan(organization)
    raised = run.raised

    again = scan_organization(organization=organization, as_of=AS_OF, scan_run=run)

    again.refresh_from_db()
    assert (again.status, again.raised, again.refreshed) == (ScanStatus.SUCCEEDED, raised, 0)
    assert ScanRun.objects.count() == 1
