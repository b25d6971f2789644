"""Scans through a real Celery worker on Redis, including workers killed mid-scan.

Needs DATABASE_URL (PostgreSQL) and REDIS_URL; skipped otherwise (failed under
CXGOV_REQUIRE_SERVICES=1). The kill tests slow the scan down with the
CXGOV_SCAN_PHASE_DELAY fault-injection setting so the kill lands mid-transaction.
"""

import datetime as dt
import os
import signal
import time

import pytest
from django.conf import settings

from accountability.choices import ScanStatus
from accountability.detectors import run_detectors
from accountability.models import Flag, RiskAssessment, ScanRun
from accountability.scans import scan_queue
from cxgov.celery import app as celery_app
from tests.conftest import missing_service, start_worker, stop_worker
from tests.factories import InitiativeFactory, MetricFactory, OrganizationFactory, ProgramFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

AS_OF = dt.date(2025, 6, 15)


def seed(programs: int = 4):
    organization = OrganizationFactory()
    for n in range(programs):
        program = ProgramFactory(organization=organization, started_on=dt.date(2022, 1, 10), customer_champion=None)
        for _ in range(3):
            InitiativeFactory(program=program, starts_on=AS_OF - dt.timedelta(days=100), due_on=AS_OF - dt.timedelta(n))
        MetricFactory(program=program, baseline=50, target=45)
    return organization


def expected_keys(organization) -> set[tuple[str, str, int]]:
    keys = {f.key for f in run_detectors(organization=organization, as_of=AS_OF)}
    risky = RiskAssessment.objects.filter(
        program__organization=organization, as_of=AS_OF, level__in=["high", "critical"]
    ).values_list("program_id", flat=True)
    return keys | {("early_bail_risk", "program", pk) for pk in risky}


def assert_one_live_flag_per_finding(organization, run: ScanRun) -> None:
    flags = list(
        Flag.objects.filter(organization=organization).values_list("kind", "subject_type", "subject_id", "status")
    )
    live = [(k, t, s) for k, t, s, status in flags if status in ("open", "acknowledged")]
    assert len(flags) == len(live), "a killed attempt left closed or extra flags behind"
    assert len(live) == len(set(live)), "duplicate live flags"
    assert set(live) == expected_keys(organization), "lost or unexpected flags"
    assert run.raised == len(live) and run.resolved == 0


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def run_status(run_id: int) -> str:
    return ScanRun.objects.values_list("status", flat=True).get(pk=run_id)


def children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (the prefork pool's children)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def test_a_scan_through_the_real_worker_raises_flags_and_succeeds(celery_worker_process):
    organization = seed()

    run = scan_queue(organization=organization, as_of=AS_OF)  # autocommit: sent at once

    wait_for(lambda: run_status(run.pk) in (ScanStatus.SUCCEEDED, ScanStatus.FAILED), 60, "the scan to finish")
    run.refresh_from_db()
    assert run.status == ScanStatus.SUCCEEDED, run.errors
    assert run.raised > 0
    assert_one_live_flag_per_finding(organization, run)
    assert RiskAssessment.objects.filter(scan_run=run).count() == 4


@pytest.fixture
def broker(transactional_db):
    """Send through Redis from this process; flush the test's Redis db before and after."""
    import redis

    if not settings.REDIS_URL:
        missing_service("a real worker needs Redis (set REDIS_URL)")
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    celery_app.conf.task_always_eager = False
    workers = []
    yield workers
    celery_app.conf.task_always_eager = True
    for proc in workers:
        if proc.poll() is None:
            print(stop_worker(proc)[-5000:])
    client.flushdb()


SLOW = {"CXGOV_SCAN_PHASE_DELAY": "0.5", "CXGOV_SCAN_LOCK_TTL": "3"}


def _start_scan_and_wait_until_mid_scan(broker, organization) -> tuple[ScanRun, object]:
    worker = start_worker(SLOW, concurrency=1)
    broker.append(worker)
    run = scan_queue(organization=organization, as_of=AS_OF)
    wait_for(lambda: run_status(run.pk) == ScanStatus.RUNNING, 30, "the scan to start")
    time.sleep(2)  # well inside the detectors (about 17 phases of 0.5 s)
    assert run_status(run.pk) == ScanStatus.RUNNING
    return run, worker


def test_a_worker_child_killed_mid_scan_is_redelivered_and_completes(broker):
    """SIGKILL the pool process running the scan: the task is rejected (requeued) by the
    worker, redelivered, and the scan completes with no duplicate and no lost flag."""
    organization = seed()
    run, worker = _start_scan_and_wait_until_mid_scan(broker, organization)

    (child,) = children(worker.pid)
    os.kill(child, signal.SIGKILL)
    assert not Flag.objects.filter(organization=organization).exists()  # the killed transaction left nothing

    wait_for(lambda: run_status(run.pk) in (ScanStatus.SUCCEEDED, ScanStatus.FAILED), 90, "the redelivered scan")
    run.refresh_from_db()
    assert run.status == ScanStatus.SUCCEEDED, run.errors
    assert_one_live_flag_per_finding(organization, run)


def test_a_whole_worker_killed_mid_scan_is_picked_up_by_a_restarted_worker(broker):
    """SIGKILL the worker and its pool process (a crashed machine): the message stays
    unacked in Redis; a restarted worker restores it (short visibility timeout for the
    test) and completes the scan with no duplicate and no lost flag."""
    organization = seed()
    run, worker = _start_scan_and_wait_until_mid_scan(broker, organization)

    pool = children(worker.pid)
    os.kill(worker.pid, signal.SIGKILL)
    for pid in pool:
        os.kill(pid, signal.SIGKILL)
    worker.wait(10)
    time.sleep(1)
    assert run_status(run.pk) == ScanStatus.RUNNING  # left behind by the dead worker
    assert not Flag.objects.filter(organization=organization).exists()

    restarted = start_worker(
        {
            "CXGOV_SCAN_LOCK_TTL": "3",
            "CELERY_VISIBILITY_TIMEOUT": "5",
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        },
        concurrency=1,
    )
    broker.append(restarted)

    wait_for(lambda: run_status(run.pk) in (ScanStatus.SUCCEEDED, ScanStatus.FAILED), 90, "the restored scan")
    run.refresh_from_db()
    assert run.status == ScanStatus.SUCCEEDED, run.errors
    assert_one_live_flag_per_finding(organization, run)
