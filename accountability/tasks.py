"""Celery tasks of the governance scan: thin wrappers around `accountability.scans`.

`acks_late` and `reject_on_worker_lost` come from settings (CELERY_TASK_*), and are
repeated on the scan task for clarity: a scan whose worker dies is redelivered, and
because the scan is one transaction and idempotent, the redelivery completes it with no
duplicate and no lost flag.
"""

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from .locks import ScanLocked
from .models import ScanRun
from .scans import FINISHED_STATUSES, scan_fail, scan_organization, scan_queue_all

logger = logging.getLogger(__name__)

LOCK_RETRY_COUNTDOWN = 30  # seconds before retrying a scan that found its organization locked
LOCK_MAX_RETRIES = 20  # then give up (about 10 minutes of another scan holding the lock)


@shared_task(
    bind=True,
    name="accountability.tasks.scan_organization_task",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.CXGOV_SCAN_SOFT_TIME_LIMIT,
    time_limit=settings.CXGOV_SCAN_TIME_LIMIT,
    max_retries=LOCK_MAX_RETRIES,
)
def scan_organization_task(self, scan_run_id: int) -> dict | None:
    """Run the scan a ScanRun describes (organization, as_of, program_ids).

    Returns early when the run is gone or already finished, so a duplicate or
    redelivered message is harmless; a run left `running` by a dead worker is run again.
    If another scan of the organization holds the lock, retries later (the run stays
    queued); after the last retry the run is marked failed.
    """
    run = ScanRun.objects.select_related("organization").filter(pk=scan_run_id).first()
    if run is None or run.status in FINISHED_STATUSES or run.organization is None:
        return None
    try:
        run = scan_organization(organization=run.organization, as_of=run.as_of, scan_run=run)
    except ValidationError:  # an as_of out of range: the run is closed failed, saying why
        run.refresh_from_db()
        return {"scan_run": run.pk, "status": run.status}
    except ScanLocked as exc:
        if self.request.retries >= self.max_retries:
            scan_fail(run, f"{exc} Gave up after {self.request.retries} retries.")
            return {"scan_run": run.pk, "status": run.status}
        raise self.retry(exc=exc, countdown=LOCK_RETRY_COUNTDOWN)
    return {
        "scan_run": run.pk,
        "status": run.status,
        "raised": run.raised,
        "refreshed": run.refreshed,
        "resolved": run.resolved,
    }


@shared_task(name="accountability.tasks.scan_all_organizations_task", soft_time_limit=120, time_limit=180)
def scan_all_organizations_task(as_of: str | None = None) -> int:
    """Beat's daily entry: `scans.scan_queue_all` for `as_of` (YYYY-MM-DD, default today).

    Safe to re-run: organizations already queued for the day are skipped. Returns how many
    scans were queued.
    """
    day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    runs = scan_queue_all(as_of=day)
    logger.info("queued %d organization scans as of %s", len(runs), day)
    return len(runs)
