"""The outbox: how a message row (an email `Notification`, a `WebhookDelivery`) is sent
once, whatever crashes, retries and duplicate task messages happen on the way.

A row is written `pending` in the transaction of the change that causes it, due at once
(`next_attempt_at`), and a send task is queued on commit. Every attempt then goes:

1. `claim`: a conditional update `filter(pk, status="pending", attempt_count=n)
   .update(attempt_count=n+1, next_attempt_at=now + ATTEMPT_LEASE)`, committed at once.
   Only one worker can move the counter from n to n+1, so two workers (the task queued on
   commit and the hourly sweep, or a task message delivered twice) never make the same
   attempt. While the attempt is in flight the row is not due; if the worker dies, the
   lease runs out and the sweep takes the row again.
2. The send, outside any transaction (an SMTP hand-off or an HTTP request).
3. `record_success` / `record_failure`: again conditional on `attempt_count = n+1`, the
   row becomes sent (or delivered), or waits `backoff_seconds(n)` for the next attempt,
   or gives up (`failed`) after `policy.max_attempts`.

The hourly `sweep` queues every pending row that is due, so a row whose task was never
queued (a process killed after the commit, a lost broker message) is sent all the same.
A rolled-back transaction leaves no row and no queued task (Django drops the on-commit
callbacks of a rolled-back transaction).

The only window for a duplicate is a worker killed after the receiver accepted the
message and before its success was recorded: the lease expires and the message goes again.
Webhook receivers dedupe on the event id; for email that window is one UPDATE long.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.utils import timezone

from cxgov.queue import queue_task, queue_task_on_commit

from .models import Notification, WebhookDelivery

PENDING = "pending"
FAILED = "failed"

# While an attempt is in flight its row is not due, so the sweep leaves it alone; if the
# worker dies mid-attempt the sweep picks the row up once the lease is over.
ATTEMPT_LEASE = dt.timedelta(minutes=10)
# A retry scheduled with an ETA may start a hair before the stored time.
DUE_TOLERANCE = dt.timedelta(seconds=1)

DELIVER_WEBHOOK_TASK = "notifications.tasks.deliver_webhook_task"
SEND_EMAIL_TASK = "notifications.tasks.send_email_task"
# First attempts go out in batches: one task per BATCH rows, not one per row (a first scan
# raising hundreds of flags once spent a third of its time publishing a message per row).
# Retries stay one task per row, each with its own ETA.
DELIVER_WEBHOOKS_TASK = "notifications.tasks.deliver_webhooks_task"
SEND_EMAILS_TASK = "notifications.tasks.send_emails_task"
BATCH = 50


def chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]


def queue_batches(name: str, ids: list[int]) -> None:
    """Send task `name` once per BATCH of `ids`, now."""
    for chunk in chunks(ids):
        queue_task(name, chunk)


def queue_batches_on_commit(name: str, ids: list[int]) -> None:
    """Send task `name` once per BATCH of `ids` after the current transaction commits."""
    for chunk in chunks(ids):
        queue_task_on_commit(name, chunk)


@dataclass(frozen=True)
class RetryPolicy:
    """After failed attempt n, wait min(base × 2^(n−1), cap) seconds; give up after attempt `max_attempts`."""

    base_seconds: int
    max_seconds: int
    max_attempts: int

    def backoff_seconds(self, attempt: int) -> int:
        return min(self.base_seconds * 2 ** (attempt - 1), self.max_seconds)


@dataclass(frozen=True)
class Outcome:
    """What one attempt did: `sent` / `delivered`, `retry` (at `next_attempt_at`), `failed`,
    or a skip: `done` (already settled or gone), `inactive` (webhook disabled), `not_due`,
    `claimed` (another worker took the attempt), `cancelled` (no longer true)."""

    status: str
    next_attempt_at: dt.datetime | None = None


def skip_reason(row: models.Model | None, now: dt.datetime) -> Outcome | None:
    """Why `row` (as just read) is not to be attempted now, or None if it is."""
    if row is None or row.status != PENDING:
        return Outcome("done")
    if row.next_attempt_at and row.next_attempt_at > now + DUE_TOLERANCE:
        return Outcome("not_due", row.next_attempt_at)
    return None


def claim(row: models.Model, now: dt.datetime) -> int | None:
    """Take the next attempt of `row` as read; the attempt number, or None if another
    worker took it since. Run outside a transaction so the claim is visible at once."""
    attempt = row.attempt_count + 1
    taken = (
        type(row)
        ._base_manager.filter(pk=row.pk, status=PENDING, attempt_count=row.attempt_count)
        .update(attempt_count=attempt, next_attempt_at=now + ATTEMPT_LEASE)
    )
    return attempt if taken else None


def record_success(row: models.Model, attempt: int, **fields) -> Outcome:
    """Attempt `attempt` of `row` succeeded: set `fields` (the caller's done status and
    timestamp). Changes nothing if the attempt is no longer this worker's (its lease ran
    out and another worker took the row); the outcome is still what this attempt saw."""
    type(row)._base_manager.filter(pk=row.pk, status=PENDING, attempt_count=attempt).update(
        next_attempt_at=None, **fields
    )
    return Outcome(fields["status"])


def record_failure(row: models.Model, attempt: int, now: dt.datetime, policy: RetryPolicy, **fields) -> Outcome:
    """Attempt `attempt` of `row` failed: the next one after `policy`'s backoff, or `failed`
    after its last attempt; `fields` (e.g. the error) are set either way. Changes nothing
    if the attempt is no longer this worker's."""
    mine = type(row)._base_manager.filter(pk=row.pk, status=PENDING, attempt_count=attempt)
    if attempt >= policy.max_attempts:
        mine.update(status=FAILED, next_attempt_at=None, **fields)
        return Outcome(FAILED)
    next_at = now + dt.timedelta(seconds=policy.backoff_seconds(attempt))
    mine.update(next_attempt_at=next_at, **fields)
    return Outcome("retry", next_at)


def due(queryset: models.QuerySet, now: dt.datetime) -> models.QuerySet:
    """The pending rows of `queryset` whose next attempt is due, oldest first."""
    return queryset.filter(status=PENDING, next_attempt_at__lte=now).order_by("next_attempt_at")


def sweep(*, now: dt.datetime | None = None, limit: int = 5000) -> dict[str, int]:
    """Queue the send of every outbox row left pending and due (in batches): emails, and deliveries
    of active webhooks (a disabled webhook's deliveries wait for it to be re-enabled).

    The safety net behind the tasks queued on commit: a process killed after the commit,
    a message lost with a broker restart, an attempt whose worker died (after its lease),
    a webhook just re-enabled. Safe to re-run and to run beside the workers: a row queued
    twice is attempted once (`claim`). Returns how many of each were queued.
    """
    now = now or timezone.now()
    emails = list(due(Notification.objects.all(), now).values_list("id", flat=True)[:limit])
    webhooks = list(due(WebhookDelivery.objects.filter(webhook__active=True), now).values_list("id", flat=True)[:limit])
    queue_batches(SEND_EMAILS_TASK, emails)
    queue_batches(DELIVER_WEBHOOKS_TASK, webhooks)
    return {"emails": len(emails), "webhooks": len(webhooks)}
