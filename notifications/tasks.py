"""Celery tasks for notifications and webhooks: thin wrappers, each safe to re-run.

The senders (`deliver_webhook_task`, `send_email_task`) make one attempt of one outbox row
(see `outbox.py`); the batch senders (`deliver_webhooks_task`, `send_emails_task`) make the
first attempts of up to `outbox.BATCH` rows, calling them in-process. After a failed
attempt the row's own task is queued again with an ETA of the
row's `next_attempt_at` (exponential backoff). The hourly `sweep_outbox_task` queues
every row left pending and due, whatever lost its message. In eager mode (no REDIS_URL)
the re-queued task runs at once, finds the attempt not yet due and returns; the sweep, or
a test passing `now`, moves on.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from . import deliveries, emails, mail, outbox


@shared_task(name="notifications.tasks.deliver_webhook_task", soft_time_limit=60, time_limit=90)
def deliver_webhook_task(delivery_id: int) -> str:
    """Make the next attempt of one webhook delivery if due; schedule the one after on failure.

    Returns early when the delivery is delivered, failed, not due or taken by another
    worker, so duplicates of this message are harmless."""
    outcome = deliveries.deliver_once(delivery_id)
    if outcome.status == "retry":
        deliver_webhook_task.apply_async((delivery_id,), eta=outcome.next_attempt_at)
    return outcome.status


@shared_task(name="notifications.tasks.send_email_task", soft_time_limit=60, time_limit=90)
def send_email_task(notification_id: int) -> str:
    """Make the next attempt of one email if due; schedule the one after on failure.

    Returns early when the email is sent, given up, cancelled, not due or taken by another
    worker, so duplicates of this message are harmless."""
    outcome = mail.send_once(notification_id)
    if outcome.status == "retry":
        send_email_task.apply_async((notification_id,), eta=outcome.next_attempt_at)
    return outcome.status


# A batch is BATCH rows, each attempt bounded by the senders' own timeouts; rows left when the
# soft limit hits stay pending and the sweep queues them again.
@shared_task(name="notifications.tasks.deliver_webhooks_task", soft_time_limit=600, time_limit=660)
def deliver_webhooks_task(delivery_ids: list[int]) -> dict[str, int]:
    """First attempts of a batch of webhook deliveries (queued on commit, one task per
    batch); each failure schedules that delivery's own retry. Returns counts by outcome."""
    counts: dict[str, int] = {}
    for delivery_id in delivery_ids:
        status = deliver_webhook_task(delivery_id)
        counts[status] = counts.get(status, 0) + 1
    return counts


@shared_task(name="notifications.tasks.send_emails_task", soft_time_limit=600, time_limit=660)
def send_emails_task(notification_ids: list[int]) -> dict[str, int]:
    """First attempts of a batch of emails (queued on commit, one task per batch); each
    failure schedules that email's own retry. Returns counts by outcome."""
    counts: dict[str, int] = {}
    for notification_id in notification_ids:
        status = send_email_task(notification_id)
        counts[status] = counts.get(status, 0) + 1
    return counts


@shared_task(name="notifications.tasks.sweep_outbox_task", soft_time_limit=300, time_limit=360)
def sweep_outbox_task() -> dict[str, int]:
    """Hourly: queue every due pending email and delivery of an active webhook. Safe to re-run."""
    return outbox.sweep()


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


@shared_task(name="notifications.tasks.send_program_digest_task", soft_time_limit=120, time_limit=180)
def send_program_digest_task(program_id: int, as_of: str | None = None) -> int:
    """Write one program's weekly digest to its sponsor and champion to the outbox (sent
    after commit); once per ISO week and person. Returns how many are queued to send."""
    return len(emails.write_program_digest(program_id, _as_date(as_of)))
