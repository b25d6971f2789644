"""Webhook deliveries: one row per (webhook, event), attempted until delivered or given up.

The life of a delivery:
- `enqueue_event` (called from the event hooks, after commit) writes one `pending`
  delivery per active webhook subscribed to the event, all sharing one event id, with the
  payload frozen at that moment, and queues `deliver_webhook_task` for each.
- `deliver_once` makes one attempt. It claims the attempt with a conditional update on
  `attempt_count`, so two workers (a scheduled retry and the hourly sweep) never make the
  same attempt twice; it records a `WebhookAttempt` for every try.
- A 2xx marks the delivery `delivered` and resets the webhook's failure count. Anything
  else schedules the next attempt after `backoff_seconds(n)`; the attempt number
  `CXGOV_WEBHOOK_MAX_ATTEMPTS` gives up (`failed`).
- A webhook is disabled when `CXGOV_WEBHOOK_DISABLE_AFTER_FAILURES` deliveries in a row
  were given up (not attempts: a receiver down for an hour loses nothing), and the
  organization's program office is told by email.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from cxgov.queue import queue_task, queue_task_on_commit

from . import webhooks
from .choices import DeliveryStatus
from .models import Webhook, WebhookAttempt, WebhookDelivery

logger = logging.getLogger(__name__)

# While an attempt is in flight its delivery is not due, so the sweep leaves it alone; if
# the worker dies mid-attempt the sweep picks the delivery up once the lease is over.
ATTEMPT_LEASE = dt.timedelta(minutes=10)
# A retry scheduled with an ETA may start a hair before the stored time.
DUE_TOLERANCE = dt.timedelta(seconds=1)


def backoff_seconds(attempt: int) -> int:
    """Seconds to wait after failed attempt `attempt` (1-based): base × 2^(n-1), capped."""
    base = settings.CXGOV_WEBHOOK_RETRY_BASE_SECONDS
    return min(base * 2 ** (attempt - 1), settings.CXGOV_WEBHOOK_RETRY_MAX_SECONDS)


DELIVER_TASK = "notifications.tasks.deliver_webhook_task"
DISABLED_NOTICE_TASK = "notifications.tasks.send_webhook_disabled_notice_task"


def _queue(delivery_ids: list[int], eta: dt.datetime | None = None) -> None:
    for delivery_id in delivery_ids:
        queue_task(DELIVER_TASK, delivery_id, eta=eta)


def active_webhooks(organization_ids: Iterable[int]) -> dict[int, list[Webhook]]:
    """organization id → its active webhooks, in one query (for a batch of events)."""
    by_org: dict[int, list[Webhook]] = {org_id: [] for org_id in organization_ids}
    for hook in Webhook.objects.filter(organization_id__in=list(by_org), active=True).select_related("organization"):
        by_org[hook.organization_id].append(hook)
    return by_org


def enqueue_event(
    *,
    organization_id: int,
    event: str,
    data: Callable[[], dict],
    candidates: Sequence[Webhook] | None = None,
) -> list[WebhookDelivery]:
    """Record one pending delivery of `event` per subscribed active webhook and queue them.

    `data` is called only when someone listens, so an organization without webhooks costs
    one query — none when the caller passes the organization's active webhooks as
    `candidates` (see `active_webhooks`, for a batch). Call after commit: the deliveries
    must not outlive a rolled-back event. Each call is a new event with a new id;
    re-running it sends the event again.
    """
    assert event in webhooks.EVENT_NAMES, event
    if candidates is None:
        candidates = active_webhooks([organization_id])[organization_id]
    listening = [w for w in candidates if event in (w.events or [])]
    if not listening:
        return []
    now = timezone.now()
    event_id = uuid.uuid4()
    payload = webhooks.envelope(
        event=event, organization=listening[0].organization, data=data(), event_id=event_id, created_at=now
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                webhook=w, event_id=event_id, event=event, payload=payload, next_attempt_at=now, created_at=now
            )
            for w in listening
        ]
    )
    _queue([d.id for d in deliveries])
    return deliveries


@dataclass(frozen=True)
class Outcome:
    """What `deliver_once` did: delivered, retry (at `next_attempt_at`), failed, or a skip
    (`done` — already settled or gone, `inactive` — webhook disabled, `not_due`, `claimed`)."""

    status: str
    next_attempt_at: dt.datetime | None = None


def deliver_once(delivery_id: int, *, now: dt.datetime | None = None) -> Outcome:
    """Make the next attempt of one delivery, if it is due, and record it.

    Idempotent: a delivered or failed delivery returns at once; an attempt that another
    worker already claimed is not repeated. `now` is read once and passed down (tests pass
    it to walk through the schedule). The HTTP request runs outside any transaction.
    """
    now = now or timezone.now()
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return Outcome("done")
    webhook = delivery.webhook
    if not webhook.active:
        # Kept pending: re-enabling the webhook resumes it (see `webhook_enable`).
        return Outcome("inactive")
    if delivery.next_attempt_at and delivery.next_attempt_at > now + DUE_TOLERANCE:
        return Outcome("not_due", delivery.next_attempt_at)
    attempt = delivery.attempt_count + 1
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.PENDING, attempt_count=delivery.attempt_count
    ).update(attempt_count=attempt, next_attempt_at=now + ATTEMPT_LEASE)
    if not claimed:
        return Outcome("claimed")

    body = webhooks.encode(delivery.payload)
    headers = webhooks.request_headers(
        secret=webhook.secret, body=body, event=delivery.event, event_id=str(delivery.event_id), attempt=attempt
    )
    result = webhooks.post(webhook.url, body, headers)
    try:
        return _record(delivery, attempt, result, now)
    except IntegrityError:
        # The webhook (and its deliveries) was deleted while the request was in flight.
        return Outcome("done")


@transaction.atomic
def _record(delivery: WebhookDelivery, attempt: int, result: webhooks.AttemptResult, now: dt.datetime) -> Outcome:
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=now,
        status_code=result.status_code,
        duration_ms=result.duration_ms,
        error=result.error,
    )
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING, attempt_count=attempt)
    if result.ok:
        mine.update(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None)
        Webhook.objects.filter(pk=delivery.webhook_id, consecutive_failures__gt=0).update(consecutive_failures=0)
        return Outcome("delivered")
    if attempt >= settings.CXGOV_WEBHOOK_MAX_ATTEMPTS:
        mine.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
        _count_give_up(delivery, result, now)
        return Outcome("failed")
    next_at = now + dt.timedelta(seconds=backoff_seconds(attempt))
    mine.update(next_attempt_at=next_at)
    return Outcome("retry", next_at)


def _count_give_up(delivery: WebhookDelivery, result: webhooks.AttemptResult, now: dt.datetime) -> None:
    """One more delivery given up; disable the webhook when that makes the threshold."""
    threshold = settings.CXGOV_WEBHOOK_DISABLE_AFTER_FAILURES
    Webhook.objects.filter(pk=delivery.webhook_id).update(consecutive_failures=F("consecutive_failures") + 1)
    reason = (
        f"Disabled automatically on {now:%Y-%m-%d %H:%M} UTC: {threshold} deliveries in a row failed after "
        f"{settings.CXGOV_WEBHOOK_MAX_ATTEMPTS} attempts each. Last error: {result.error or 'none recorded'}"
    )
    # Conditional: only the worker that crosses the threshold disables and sends the notice.
    disabled = Webhook.objects.filter(pk=delivery.webhook_id, active=True, consecutive_failures__gte=threshold).update(
        active=False, disabled_reason=reason
    )
    if disabled:
        logger.warning("webhook %s disabled: %s", delivery.webhook_id, reason)
        queue_task_on_commit(DISABLED_NOTICE_TASK, delivery.webhook_id, delivery.pk)


def retry_due_deliveries(*, now: dt.datetime | None = None, limit: int = 5000) -> int:
    """Queue every pending delivery of an active webhook whose next attempt is due.

    The safety net behind the ETA retries: a message lost with a broker restart, an
    attempt whose worker died, or a webhook just re-enabled. Safe to re-run: a delivery
    queued twice is attempted once (see `deliver_once`). Returns how many were queued.
    """
    now = now or timezone.now()
    ids = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, webhook__active=True, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    _queue(ids)
    return len(ids)


@transaction.atomic
def webhook_enable(*, webhook: Webhook) -> int:
    """Turn a webhook back on: clear its failure count and reason, and resume its pending
    deliveries (queued after commit). Safe to re-run. Returns the number resumed."""
    Webhook.objects.filter(pk=webhook.pk).update(active=True, consecutive_failures=0, disabled_reason="")
    webhook.active, webhook.consecutive_failures, webhook.disabled_reason = True, 0, ""
    pending = WebhookDelivery.objects.filter(webhook=webhook, status=DeliveryStatus.PENDING)
    pending.update(next_attempt_at=timezone.now())
    ids = list(pending.values_list("id", flat=True))
    transaction.on_commit(lambda: _queue(ids))
    return len(ids)
