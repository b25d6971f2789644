"""The governance scan of one organization: detectors → flags → risk → early-bail flags.

`scan_organization` is the plain function every entry point shares (the management
command, the Celery task behind the API and the admin action). `scan_queue` records a
queued ScanRun and hands it to a worker once the caller's transaction commits.
"""

import datetime as dt
import logging
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cxgov.queue import queue_task_on_commit
from cxgov.scan_inputs import read_once_per_scan
from programs.actors import Actor
from programs.dates import check_scan_as_of
from programs.models import Organization

from . import events
from .choices import FlagKind, ScanStatus
from .detectors import DETECTORS
from .detectors.common import scanned_program_ids
from .escalation import flags_escalate
from .flags import SyncResult, flags_sync
from .locks import ScanLocked, organization_scan_lock
from .models import ScanRun
from .nudges import nudges_due
from .risk import assess_risk, early_bail_findings

logger = logging.getLogger(__name__)

FINISHED_STATUSES = (ScanStatus.SUCCEEDED, ScanStatus.FAILED)

__all__ = ["FINISHED_STATUSES", "ScanLocked", "scan_organization", "scan_queue", "scan_queue_all"]


def _error(where: str, exc: BaseException | str, *, kind: str | None = None, program_id: int | None = None) -> dict:
    """One entry of ScanRun.errors: where it failed (`detector:<kind>`, `risk`, `scan`), the
    kind and the program concerned (None: the whole organization), the message and when."""
    message = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return {
        "where": where,
        "kind": kind,
        "program_id": program_id,
        "error": message[:1000],
        "at": timezone.now().isoformat(),
    }


def _pause() -> None:
    # Fault injection for the worker-kill test (0 in every real configuration).
    if settings.CXGOV_SCAN_PHASE_DELAY:
        time.sleep(settings.CXGOV_SCAN_PHASE_DELAY)


def _retry_by_program(kind, detector, organization, as_of, program_ids, first: Exception, errors: list[dict]):
    """After `detector` failed for the whole organization (`first`): its findings program by
    program, each in a savepoint, so one program's bad data costs that program's findings of
    this kind, not everybody's. Returns the findings and the programs that failed, or None
    for the latter when every program fails on its own too (or there is none to try): then
    the failure is the detector's, one error without a program.
    """
    findings, failed = [], {}
    ids = scanned_program_ids(organization, program_ids)
    for pid in ids:
        try:
            with transaction.atomic():
                findings.extend(detector(organization=organization, as_of=as_of, program_ids=[pid]))
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:
            failed[pid] = exc
    if len(failed) == len(ids):
        errors.append(_error(f"detector:{kind}", first, kind=kind))
        return [], None
    errors.extend(_error(f"detector:{kind}", exc, kind=kind, program_id=pid) for pid, exc in failed.items())
    return findings, set(failed)


def _run_detectors(organization, as_of, program_ids, errors: list[dict]) -> tuple[list, set[str], set]:
    """Every detector's findings, the kinds that ran, and the (kind, program) pairs that failed.

    The detectors run once each for the whole organization (their fixed number of
    queries), together in one savepoint: they only read, so a clean day costs one
    savepoint, not one per detector. When one fails, the savepoint is rolled back (a
    database error must not poison the scan), the findings of those before it are kept,
    the failing one is retried program by program (`_retry_by_program`), and the rest run
    on in a new savepoint. A failing detector costs only what failed: the kind of the
    programs it could not compute is left out of the sync for them (their live flags are
    neither refreshed nor resolved) and named in the ScanRun's errors; a detector failing
    as a whole leaves its kind out altogether.
    """
    findings, ok_kinds, failed = [], set(), set()
    pending = list(DETECTORS.items())
    while pending:
        done: list[tuple[str, list]] = []
        try:
            with transaction.atomic():
                for kind, detector in pending:
                    _pause()
                    done.append((kind, detector(organization=organization, as_of=as_of, program_ids=program_ids)))
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:
            kind, detector = pending[len(done)]
            logger.exception("detector %s failed for organization %s; isolating programs", kind, organization.pk)
            found, failed_ids = _retry_by_program(kind, detector, organization, as_of, program_ids, exc, errors)
            if failed_ids is not None:
                done.append((kind, found))
                failed.update((kind, pid) for pid in failed_ids)
            pending = pending[len(done) + (failed_ids is None) :]
        else:
            pending = []
        for kind, found in done:
            findings.extend(found)
            ok_kinds.add(kind)
    return findings, ok_kinds, failed


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - started


def _scan(organization, as_of, program_ids, scan_run, errors: list[dict], timings: dict[str, float]):
    with _timed(timings, "detectors"):
        findings, kinds, failed = _run_detectors(organization, as_of, program_ids, errors)
    with _timed(timings, "flags"):
        result = flags_sync(
            organization=organization,
            findings=findings,
            kinds=kinds,
            as_of=as_of,
            program_ids=program_ids,
            scan_run=scan_run,
            keep=failed,
        )
    _pause()
    # After the detector flags: the metrics_negotiated factor counts live negotiated-away flags.
    risk_failures: dict[int, Exception] = {}
    try:
        with _timed(timings, "risk"), transaction.atomic():
            assessments = assess_risk(
                organization=organization,
                as_of=as_of,
                program_ids=program_ids,
                scan_run=scan_run,
                failures=risk_failures,
            )
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:
        logger.exception("risk assessment failed for organization %s", organization.pk)
        errors.append(_error("risk", exc, kind=FlagKind.EARLY_BAIL_RISK.value))
        return result, []
    for pid, exc in risk_failures.items():
        logger.error("risk of program %s failed: %s", pid, exc)
        errors.append(_error("risk", exc, kind=FlagKind.EARLY_BAIL_RISK.value, program_id=pid))
    with _timed(timings, "flags"):
        result += flags_sync(
            organization=organization,
            findings=early_bail_findings(assessments),
            kinds=[FlagKind.EARLY_BAIL_RISK],
            as_of=as_of,
            program_ids=program_ids,
            scan_run=scan_run,
            # A program without an assessment today keeps its early-bail flag as it was.
            keep=[(FlagKind.EARLY_BAIL_RISK.value, pid) for pid in risk_failures],
        )
    return result, assessments


def _nudge(organization, as_of, program_ids, errors: list[dict]) -> None:
    """Nudges before flags, from the same rules for the same as_of. A failure here is
    recorded and costs only the nudges: the flags of the scan stand."""
    try:
        with transaction.atomic():
            nudges = nudges_due(organization=organization, as_of=as_of, program_ids=program_ids)
            events.nudges_found(organization.pk, nudges, as_of=as_of)
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:
        logger.exception("nudges failed for organization %s", organization.pk)
        errors.append(_error("nudges", exc))


def scan_organization(
    *,
    organization: Organization,
    as_of: dt.date,
    program_ids: Collection[int] | None = None,
    scan_run: ScanRun | None = None,
) -> ScanRun:
    """Run the full governance scan of `organization` on `as_of`, synchronously.

    Detectors → flags_sync of their kinds → assess_risk → flags_sync of `early_bail_risk`
    → the escalation ladder (`flags_escalate`) → the nudges due, all in one transaction (a scan killed
    half-way, or one that raises, leaves nothing behind: no flag is resolved; its emails
    and webhook deliveries are outbox rows of the same transaction, sent after commit).
    Records the ScanRun (created if not given): status, started/finished times,
    raised/refreshed/resolved counts and errors.

    A failure computing one program never stops the others: a detector or the risk of one
    program that fails is recorded in `errors` (where, kind, program id, message) and that
    program's flags of that kind are left exactly as they were; the run then ends
    `failed` though everything else was synced. An `as_of` outside 1900-01-01..today + 366
    days raises ValidationError before anything runs (a given ScanRun is closed `failed`,
    saying why). Holds the organization's scan lock: a concurrent scan waits up to
    `CXGOV_SCAN_LOCK_WAIT` seconds, then ScanLocked is raised and the ScanRun is left
    as it was (queued), for the caller to retry or fail.

    Idempotent: the same scan twice changes nothing the second time but the flags'
    last detection and the ScanRun row. The returned ScanRun carries, unsaved,
    `sync_result` (SyncResult), `assessments` (the RiskAssessments written) and `timings`
    (seconds spent in detectors, flags, risk, and in the commit with its events).
    """
    try:
        check_scan_as_of(as_of)
    except ValidationError as refused:
        if scan_run is not None:  # queued by hand or before the rule: close it, saying why
            scan_fail(scan_run, " ".join(refused.messages), where="as_of")
        raise
    if program_ids is None and scan_run is not None and scan_run.program_ids is not None:
        program_ids = scan_run.program_ids
    program_ids = sorted(set(program_ids)) if program_ids is not None else None
    if scan_run is None:
        scan_run = ScanRun.objects.create(organization=organization, as_of=as_of, program_ids=program_ids)

    with organization_scan_lock(organization.pk, scan_run=scan_run):
        # A duplicate delivery of this run may have waited for the lock the original held:
        # once the original has finished, its record stands and there is nothing to redo.
        if ScanRun.objects.filter(pk=scan_run.pk, status__in=FINISHED_STATUSES).exists():
            scan_run.refresh_from_db()
            scan_run.sync_result, scan_run.assessments, scan_run.timings = SyncResult(), [], {}
            return scan_run
        started = timezone.now()
        ScanRun.objects.filter(pk=scan_run.pk).update(status=ScanStatus.RUNNING, started_at=started, errors=[])
        scan_run.status, scan_run.started_at, scan_run.errors = ScanStatus.RUNNING, started, []
        errors: list[dict] = []
        timings: dict[str, float] = {}
        try:
            with transaction.atomic(), read_once_per_scan():
                result, assessments = _scan(organization, as_of, program_ids, scan_run, errors, timings)
                # Last, on the flags as this scan left them: the ladder climbs for the same as_of.
                with _timed(timings, "escalation"):
                    climbs = flags_escalate(organization=organization, as_of=as_of, program_ids=program_ids)
                result.climbed_ids = [climb.flag.pk for climb in climbs]
                with _timed(timings, "nudges"):
                    _nudge(organization, as_of, program_ids, errors)
                _finish(scan_run, result=result, errors=errors)
                committing = time.perf_counter()
            # The commit runs the after-commit callbacks that queue the outbox's sends.
            timings["commit_and_events"] = time.perf_counter() - committing
        except BaseException as exc:  # time limits and database failures included: record, then re-raise
            try:
                _finish(scan_run, result=SyncResult(), errors=[*errors, _error("scan", exc)], failed=True)
            except Exception:  # e.g. the database went away: the original error matters more
                logger.exception("could not record the failure of scan %s", scan_run.pk)
            raise
    scan_run.sync_result = result
    scan_run.assessments = assessments
    scan_run.timings = timings
    return scan_run


def _finish(scan_run: ScanRun, *, result: SyncResult, errors: list[dict], failed: bool = False) -> None:
    scan_run.status = ScanStatus.FAILED if failed or errors else ScanStatus.SUCCEEDED
    scan_run.finished_at = timezone.now()
    scan_run.raised, scan_run.refreshed, scan_run.resolved = result.raised, result.refreshed, result.resolved
    scan_run.errors = errors
    scan_run.save(update_fields=["status", "finished_at", "raised", "refreshed", "resolved", "errors"])


def scan_fail(scan_run: ScanRun, message: str, *, where: str = "lock") -> ScanRun:
    """Close a scan that will not run (the lock stayed taken, an as_of out of range): failed, with the reason."""
    scan_run.errors = [*scan_run.errors, _error(where, message)]
    scan_run.status = ScanStatus.FAILED
    scan_run.finished_at = timezone.now()
    scan_run.save(update_fields=["status", "finished_at", "errors"])
    return scan_run


SCAN_TASK = "accountability.tasks.scan_organization_task"
# The daily fan-out skips an organization whose scan for the day is queued or running and
# younger than this: a duplicate beat message does not double the work.
FAN_OUT_DEDUP = dt.timedelta(hours=6)


def _queue_runs(runs: list[ScanRun]) -> list[ScanRun]:
    runs = ScanRun.objects.bulk_create(runs)
    for run in runs:
        queue_task_on_commit(SCAN_TASK, run.pk)
    return runs


@transaction.atomic
def scan_queue(
    *, organization: Organization, as_of: dt.date, actor=None, program_ids: Collection[int] | None = None
) -> ScanRun:
    """Record a queued ScanRun and send `scan_organization_task` once the transaction commits.

    Used by the API (`POST scans/`, answered 202) and the admin action. `actor` is
    anything `Actor.of` takes; its user is recorded (a key's run names nobody). Each call
    queues a new run; the task itself is idempotent. An `as_of` outside 1900-01-01..today
    + 366 days raises ValidationError (`programs.dates.check_scan_as_of`), nothing queued.
    """
    check_scan_as_of(as_of)
    run = ScanRun(
        organization=organization,
        as_of=as_of,
        requested_by=Actor.of(actor).user,
        program_ids=sorted(set(program_ids)) if program_ids is not None else None,
    )
    return _queue_runs([run])[0]


@transaction.atomic
def scan_queue_all(*, as_of: dt.date) -> list[ScanRun]:
    """The daily fan-out: one queued ScanRun and one scan task per organization.

    An organization that already has a queued or running scan for that date, created in
    the last 6 hours, is skipped, so a duplicate beat message does not double the work.
    Returns the runs queued.
    """
    check_scan_as_of(as_of)
    busy = ScanRun.objects.filter(
        as_of=as_of,
        status__in=[ScanStatus.QUEUED, ScanStatus.RUNNING],
        created_at__gte=timezone.now() - FAN_OUT_DEDUP,
        organization__isnull=False,
    ).values("organization_id")
    org_ids = Organization.objects.exclude(pk__in=busy).order_by("id").values_list("id", flat=True)
    return _queue_runs([ScanRun(organization_id=pk, as_of=as_of) for pk in org_ids])
