"""One governance scan per organization at a time.

With REDIS_URL set the lock is a Redis key with an expiry (`CXGOV_SCAN_LOCK_TTL`) that a
heartbeat thread renews while the scan runs: a worker killed mid-scan stops renewing and
its lock frees itself within one TTL. Without Redis (local runs, eager Celery) the lock
is the ScanRun row itself: claiming means switching it to `running` while no other
`running` scan of the organization started less than the scan's hard time limit ago
(past that, its worker is certainly dead). Neither leaves a boolean stuck behind.

A second scan waits up to `CXGOV_SCAN_LOCK_WAIT` seconds, then gets `ScanLocked`.
"""

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from redis.exceptions import LockError, RedisError

from programs.models import Organization

from .choices import ScanStatus
from .models import ScanRun

logger = logging.getLogger(__name__)


class ScanLocked(Exception):
    """Another scan of the same organization is running."""


def _redis():
    return redis.Redis.from_url(settings.REDIS_URL)


def lock_key(organization_id: int) -> str:
    return f"cxgov:scan-lock:org:{organization_id}"


class _Heartbeat(threading.Thread):
    """Renews the lock every third of its TTL until stopped; gives up if the lock was lost."""

    def __init__(self, lock, ttl: float) -> None:
        super().__init__(daemon=True, name="scan-lock-heartbeat")
        self.lock, self.ttl = lock, ttl
        self.stopped = threading.Event()
        self.lost = False

    def run(self) -> None:
        while not self.stopped.wait(self.ttl / 3):
            try:
                self.lock.reacquire()
            except LockError:
                self.lost = True
                logger.error("scan lock %s expired while the scan ran; another scan may overlap", self.lock.name)
                return
            except RedisError:
                logger.warning("could not renew scan lock %s; retrying", self.lock.name, exc_info=True)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


@contextmanager
def _redis_lock(organization_id: int, wait: float) -> Iterator[None]:
    ttl = settings.CXGOV_SCAN_LOCK_TTL
    lock = _redis().lock(
        lock_key(organization_id), timeout=ttl, blocking=True, blocking_timeout=wait, thread_local=False
    )
    if not lock.acquire():
        raise ScanLocked(f"Another scan of organization {organization_id} is running (waited {wait:g} s).")
    heartbeat = _Heartbeat(lock, ttl)
    heartbeat.start()
    try:
        yield
    finally:
        heartbeat.stop()
        with suppress(LockError):  # expired meanwhile: nothing of ours to release
            lock.release()


def _db_stale_after() -> dt.timedelta:
    # A running scan older than its hard time limit has been killed; a little margin on top.
    return dt.timedelta(seconds=settings.CXGOV_SCAN_TIME_LIMIT + 60)


def _db_claim(organization_id: int, scan_run: ScanRun) -> bool:
    now = timezone.now()
    with transaction.atomic():
        # Write first: the row update (plus the organization row lock on PostgreSQL)
        # serialises concurrent claimers, so the check below sees the other's claim.
        Organization.objects.select_for_update().filter(pk=organization_id).exists()
        # A finished run is not reopened (the scan then returns it untouched).
        claimed = (
            ScanRun.objects.filter(pk=scan_run.pk)
            .exclude(status__in=[ScanStatus.SUCCEEDED, ScanStatus.FAILED])
            .update(status=ScanStatus.RUNNING, started_at=now)
        )
        other = (
            ScanRun.objects.filter(
                organization_id=organization_id, status=ScanStatus.RUNNING, started_at__gte=now - _db_stale_after()
            )
            .exclude(pk=scan_run.pk)
            .exists()
        )
        if other:
            transaction.set_rollback(True)
            return False
    if claimed:
        scan_run.status, scan_run.started_at = ScanStatus.RUNNING, now
    return True


@contextmanager
def _db_lock(organization_id: int, scan_run: ScanRun, wait: float) -> Iterator[None]:
    deadline = time.monotonic() + wait
    while not _db_claim(organization_id, scan_run):
        if time.monotonic() >= deadline:
            raise ScanLocked(f"Another scan of organization {organization_id} is running (waited {wait:g} s).")
        time.sleep(0.2)
    yield


@contextmanager
def organization_scan_lock(organization_id: int, *, scan_run: ScanRun, wait: float | None = None) -> Iterator[None]:
    """Hold the organization's scan lock for the `with` block, or raise ScanLocked.

    Redis when configured, else the ScanRun rows (see the module docstring). In the
    database mode the claim also marks `scan_run` running.
    """
    wait = settings.CXGOV_SCAN_LOCK_WAIT if wait is None else wait
    if settings.REDIS_URL:
        with _redis_lock(organization_id, wait):
            yield
    else:
        with _db_lock(organization_id, scan_run, wait):
            yield
