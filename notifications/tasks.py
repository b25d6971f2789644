"""Celery tasks for notifications and webhooks: thin wrappers, each safe to re-run.

Webhook retries: after a failed attempt `deliver_webhook_task` queues itself again with an
ETA of the delivery's `next_attempt_at` (exponential backoff, see
`deliveries.backoff_seconds`). The hourly `retry_deliveries_task` re-queues anything due
whose message was lost. In eager mode (no REDIS_URL) the re-queued task runs at once,
finds the attempt not yet due and returns; the sweep, or a test passing `now`, moves on.
"""

from __future__ import annotations

import datetime as dt
import smtplib

from celery import shared_task
from django.utils import timezone

from . import deliveries, emails

_MAIL_ERRORS = (smtplib.SMTPException, OSError)


@shared_task(name="notifications.tasks.deliver_webhook_task", soft_time_limit=60, time_limit=90)
def deliver_webhook_task(delivery_id: int) -> str:
    """Make the next attempt of one delivery if due; schedule the one after on failure.

    Returns early when the delivery is delivered, failed, not due or taken by another
    worker, so duplicates of this message are harmless."""
    outcome = deliveries.deliver_once(delivery_id)
    if outcome.status == "retry":
        deliver_webhook_task.apply_async((delivery_id,), eta=outcome.next_attempt_at)
    return outcome.status


@shared_task(name="notifications.tasks.retry_deliveries_task", soft_time_limit=300, time_limit=360)
def retry_deliveries_task() -> int:
    """Hourly: queue every due pending delivery of an active webhook. Safe to re-run."""
    return deliveries.retry_due_deliveries()


@shared_task(
    name="notifications.tasks.send_flag_email_task",
    autoretry_for=_MAIL_ERRORS,
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=6,
    soft_time_limit=60,
    time_limit=90,
)
def send_flag_email_task(flag_id: int, severity: str, previous_severity: str | None = None) -> int:
    """Email a flag raised or escalated to high/critical; at most once per flag, severity and person."""
    return len(emails.send_flag_email(flag_id, severity, previous_severity))


def _as_date(as_of: str | None) -> dt.date:
    return dt.date.fromisoformat(as_of) if as_of else timezone.localdate()


@shared_task(name="notifications.tasks.send_weekly_digests_task", soft_time_limit=120, time_limit=180)
def send_weekly_digests_task(as_of: str | None = None) -> int:
    """Weekly: fan out one digest task per active or paused program. `as_of` (YYYY-MM-DD,
    default today) ends the 7-day window and names the ISO week. Safe to re-run."""
    as_of = _as_date(as_of).isoformat()
    program_ids = emails.digest_program_ids()
    for program_id in program_ids:
        send_program_digest_task.delay(program_id, as_of)
    return len(program_ids)


@shared_task(
    name="notifications.tasks.send_program_digest_task",
    autoretry_for=_MAIL_ERRORS,
    retry_backoff=60,
    max_retries=6,
    soft_time_limit=120,
    time_limit=180,
)
def send_program_digest_task(program_id: int, as_of: str | None = None) -> int:
    """One program's weekly digest to its sponsor and champion; once per ISO week and person."""
    return len(emails.send_program_digest(program_id, _as_date(as_of)))


@shared_task(
    name="notifications.tasks.send_webhook_disabled_notice_task",
    autoretry_for=_MAIL_ERRORS,
    retry_backoff=60,
    max_retries=6,
)
def send_webhook_disabled_notice_task(webhook_id: int, delivery_id: int) -> int:
    """Tell the program office a webhook was disabled; once per disabling."""
    return len(emails.send_webhook_disabled_notice(webhook_id, delivery_id))
